"""Task ``image-to-image``: map a batch of images to another domain (translation, colourisation, super-resolution)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from collections.abc import Mapping

    import torch

__all__ = ["ImageToImage"]


@runtime_checkable
class ImageToImage(Protocol):
    """The contract of an image-to-image model (``zoo_core.modeling.ImageTranslator``).

    ``zoo translate`` / ``zoo upscale`` (``zoo_core.translate``) read only these: they convert an
    image to ``input_channels`` (``output_channels`` for ``direction="BtoA"``), refuse one smaller
    than ``min_size``, pad it to a multiple of ``size_multiple``, call ``translate`` and crop the
    result back at ``scale``. The base class defaults ``size_multiple``, ``min_size`` and ``scale``
    to 1, ``directions`` to ``()`` and ``translate_options`` to ``{}``; ``input_channels`` and
    ``output_channels`` every model declares. ``translate_options`` names the keywords a model's
    ``translate`` takes beyond the contract's (StarGAN's ``attributes``), each with a line of help:
    ``zoo translate --option NAME=VALUE`` passes exactly these and refuses any other.

    ``translate`` runs in eval mode under ``torch.inference_mode()``, with torch's global generator
    seeded by ``seed`` in a forked state (the previous state is restored), so a model with test-time
    noise (pix2pix's dropout) just draws from torch's default generator; ``direction`` is checked
    against ``directions`` before the model's code runs.

    Example:
        >>> class Invert(ImageTranslator, ZooModel):
        ...     architecture, config_class = "invert", InvertConfig
        ...     input_channels = output_channels = 1
        ...     def translate(self, x, *, direction=None, seed=0, progress=False):
        ...         return 1 - x
        >>> Invert(InvertConfig()).translate(torch.zeros(2, 1, 8, 8)).mean()
        tensor(1.)
    """

    #: channels of the images ``translate`` takes (domain A; grey 1, RGB 3)
    input_channels: int
    #: channels of the images ``translate`` returns (domain B)
    output_channels: int
    #: the multiple of which image sides must be (``zoo translate`` pads to it and crops back); 1: any size
    size_multiple: int
    #: the smallest side, in pixels, ``translate`` takes
    min_size: int
    #: the directions ``translate`` takes, ``("AtoB", "BtoA")`` or one of them; ``()``: one way, direction=None only
    directions: tuple[str, ...]
    #: output side / input side: 1 for translation, 2, 4 or 8 for super-resolution (``zoo upscale`` needs > 1)
    scale: int
    #: keyword -> one line of help, for the keywords ``translate`` takes beyond the contract's (``{}``: none)
    translate_options: Mapping[str, str]

    def translate(
        self, x: torch.Tensor, *, direction: str | None = None, seed: int | None = 0, progress: bool = False
    ) -> torch.Tensor:
        """Images ``(N, C, H, W)`` in [0, 1] to images in [0, 1] at ``scale``.

        ``direction``: ``None`` (the first of ``directions``, or the one way) or one of ``directions``.
        ``seed``: the test-time noise (``None``: torch's global generator as it stands). ``progress``:
        a bar over the parts of a large image (a tiled super-resolution model's tiles); may be ignored.
        """
        ...
