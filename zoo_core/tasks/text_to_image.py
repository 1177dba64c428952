"""Task ``text-to-image``: draw images of what a caption (or a text embedding) says."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    import torch

__all__ = ["TextToImage"]


@runtime_checkable
class TextToImage(Protocol):
    """The contract of a text-to-image generator (``zoo_core.modeling.TextToImageGenerator``).

    ``sample`` runs in eval mode under ``torch.inference_mode()`` and leaves the module's mode as it was.

    Example:
        >>> gan = zoo.load("stackgan.mnist")
        >>> gan.sample(8, text="a thick seven slanting to the right", seed=0).shape
        torch.Size([8, 1, 64, 64])
        >>> gan.sample(8, embedding=torch.randn(1024), seed=0).shape
        torch.Size([8, 1, 64, 64])
    """

    def sample(
        self,
        n: int,
        *,
        text: str | list[str] | None = None,
        embedding: torch.Tensor | None = None,
        seed: int | None = None,
        progress: bool = False,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """``n`` images ``(n, C, H, W)`` in [0, 1] of exactly one of ``text`` (one caption for all, or a list
        of ``n``) and ``embedding`` (``(dim,)``, ``(1, dim)`` or ``(n, dim)``).

        The same ``seed`` gives the same images; ``generator`` (a CPU ``torch.Generator`` from
        ``seeded_generator``) replaces the seed when one stream runs across calls, as ``zoo eval``
        draws one image per caption of a data set, batch by batch.
        """
        ...
