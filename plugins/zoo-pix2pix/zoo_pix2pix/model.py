"""pix2pix (Isola et al. 2017) as junyanz/pytorch-CycleGAN-and-pix2pix ``models/pix2pix_model.py`` builds it.

Two networks, named as the reference names them, so that its checkpoints map key for key:

- ``netG``: the generator of ``define_G(input_nc, output_nc, ngf, netG, norm, use_dropout)``;
  by default ``unet_256`` (a U-Net with 8 stride-2 levels, batch norm, dropout 0.5 in its three
  inner 512-channel decoder blocks). Its keys are the reference's ``{name}_net_G.pth`` keys
  behind ``netG.``: ``netG.model.model.0.weight``, ``netG.model.model.1.model.1.weight`` ...
- ``netD`` (``with_discriminator``): ``define_D(input_nc + output_nc, ndf, netD, n_layers_D,
  norm)``, by default the 70x70 PatchGAN (``basic``), which sees the input and the output
  concatenated (6 channels for RGB to RGB); keys ``netD.model.0.weight`` ...

Generators (``netG``): the reference's ``unet_256``, ``unet_128``, ``resnet_9blocks`` and
``resnet_6blocks``, and two smaller U-Nets by the same rule, ``unet_64`` and ``unet_32`` (6 and 5
levels) for small images. A U-Net with ``n`` levels needs sides that are multiples of ``2**n``
(``size_multiple``; a ResNet: 4); ``translate`` pads other sizes and crops the result back.

Test time, as the paper: the reference's ``test.py`` puts the network in eval mode only with
``--eval``, so by default dropout stays on (the paper's only source of noise) and batch norm
normalises with the statistics of the image at hand (batch 1), not the running averages.
``test_time_dropout=True`` (the default) does the same; ``False`` is PyTorch's eval behaviour
(no dropout, running statistics), the reference's ``--eval``. Unlike the reference, translating
never updates the running statistics, and images of a batch are translated one at a time
(batch statistics of a batch of 1, the reference's test batch size), so an image's output does
not depend on the images beside it. Dropout noise comes from ``torch.manual_seed(seed)`` in a
forked generator (``seed=0`` by default): the same image gives the same output.

Colour spaces: ``color_space="rgb"`` (the default) maps images in [0, 1] to [-1, 1] and back,
as the reference's ``Normalize(0.5, 0.5)``. ``color_space="lab"`` is the reference's
colorization model (``--model colorization``, pix2pix with ``input_nc`` 1 and ``output_nc`` 2):
the generator maps the CIE L channel (``L / 50 - 1``) to the a, b channels (``ab / 110``), and
``translate`` takes grey (or RGB, reduced to its luma) images and returns RGB, the input's
lightness with the predicted colour (``zoo_pix2pix.color``, skimage's conversions in torch).

Init: N(0, 0.02) convolutions, BatchNorm weights N(1, 0.02), the generator built and
initialised before the discriminator (the reference's order of random draws).

Example:
    >>> model = Pix2Pix(Pix2PixConfig(input_nc=1, output_nc=3, netG="unet_128", ngf=8, ndf=8))
    >>> model.translate(torch.rand(2, 1, 100, 150)).shape
    torch.Size([2, 3, 100, 150])
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field

import torch
from torch import nn

from zoo_core import ZooError
from zoo_core.layers import DISCRIMINATORS, NORM_TYPES, define_discriminator, define_generator, parse_generator
from zoo_core.modeling import ImageTranslator, ModelConfig, ZooModel, check_images, check_translate_input
from zoo_core.translate import match_channels, pad_to_multiple

from .color import from_network, to_network_input, to_network_target

__all__ = ["COLOR_SPACES", "Pix2Pix", "Pix2PixConfig", "generator_multiple", "translation_mode"]

#: ``rgb``: images as they are; ``lab``: the reference's colorization model (L -> ab)
COLOR_SPACES = ("rgb", "lab")


def generator_multiple(net_g: str) -> int:
    """The multiple the sides of an image must be for generator ``net_g`` (``2**levels`` for a U-Net).

    The names are ``zoo_core.layers``' (``parse_generator``), shared with CycleGAN.

    Example:
        >>> generator_multiple("unet_256"), generator_multiple("resnet_9blocks")
        (256, 4)
    """
    return parse_generator(net_g, model="pix2pix").size_multiple


@dataclass
class Pix2PixConfig(ModelConfig):
    """pix2pix options, named and defaulted as the reference's (``--input_nc 3 --netG unet_256 --norm batch``).

    ``use_dropout`` is the reference's ``not --no_dropout``. ``image_size`` is the size the model
    was trained at (the reference's ``--crop_size``); ``translate`` takes any size.
    ``with_discriminator=False`` holds the generator alone, what the published checkpoints are.
    ``color_space="lab"`` is the reference's colorization model (``input_nc=1``, ``output_nc=2``).

    Example:
        >>> Pix2PixConfig(netG="unet_128", image_size=128, with_discriminator=False)
    """

    input_nc: int = 3
    output_nc: int = 3
    ngf: int = 64
    ndf: int = 64
    netG: str = "unet_256"  # the reference's option names
    netD: str = "basic"
    n_layers_D: int = field(default=3, metadata={"range": (1, 10)})  # stride-2 layers: 2**10 is plenty
    norm: str = "batch"
    use_dropout: bool = True
    image_size: int = 256
    with_discriminator: bool = True
    test_time_dropout: bool = True
    color_space: str = "rgb"


def _check_config(config: Pix2PixConfig) -> None:
    for key in ("input_nc", "output_nc", "ngf", "ndf", "n_layers_D", "image_size"):
        value = getattr(config, key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ZooError(f"pix2pix {key} must be a positive integer, not {value!r}.")
    generator_multiple(config.netG)
    if config.netD not in DISCRIMINATORS:
        raise ZooError(f"Unknown pix2pix discriminator {config.netD!r}; choose one of {', '.join(DISCRIMINATORS)}.")
    if config.norm not in NORM_TYPES:
        raise ZooError(f"Unknown norm {config.norm!r}; choose one of {', '.join(NORM_TYPES)}.")
    for key in ("use_dropout", "with_discriminator", "test_time_dropout"):
        if not isinstance(getattr(config, key), bool):
            raise ZooError(f"pix2pix {key} must be true or false, not {getattr(config, key)!r}.")
    if config.color_space not in COLOR_SPACES:
        raise ZooError(f"Unknown color_space {config.color_space!r}; choose one of {', '.join(COLOR_SPACES)}.")
    if config.color_space == "lab" and (config.input_nc, config.output_nc) != (1, 2):
        raise ZooError(
            "color_space 'lab' is the reference's colorization model, L to ab: it needs input_nc=1 and output_nc=2, "
            f"not {config.input_nc} and {config.output_nc}."
        )
    multiple = generator_multiple(config.netG)
    if config.image_size % multiple:
        near = max(multiple, config.image_size // multiple * multiple)
        raise ZooError(
            f"pix2pix {config.netG} takes images whose sides are multiples of {multiple}, so image_size "
            f"{config.image_size} cannot be its training size; use {near} or another netG."
        )


def build_generator(config: Pix2PixConfig) -> nn.Module:
    """The reference's ``define_G`` for ``config`` (``zoo_core.layers.define_generator``), N(0, 0.02) init."""
    return define_generator(
        config.netG, config.input_nc, config.output_nc, config.ngf, norm=config.norm, use_dropout=config.use_dropout
    )


@contextlib.contextmanager
def translation_mode(net: nn.Module, paper: bool) -> Iterator[None]:
    """``net`` as the pix2pix paper tests it (``paper``: dropout on, batch statistics) or in eval mode.

    In the paper's mode batch norm normalises with the batch's own statistics without touching
    its running averages (``track_running_stats`` is switched off for the block). Every module's
    mode and flag are restored afterwards.

    Example:
        >>> with translation_mode(model.netG, paper=True), torch.no_grad():
        ...     y = model.netG(x)
    """
    saved = [(m, m.training, getattr(m, "track_running_stats", None)) for m in net.modules()]
    try:
        net.eval()
        if paper:
            for m in net.modules():
                if isinstance(m, nn.modules.dropout._DropoutNd):
                    m.train()
                elif isinstance(m, nn.modules.batchnorm._BatchNorm):
                    m.train()
                    m.track_running_stats = False
        yield
    finally:
        for m, training, track in saved:
            m.training = training
            if track is not None:
                m.track_running_stats = track


class Pix2Pix(ImageTranslator, ZooModel):
    """pix2pix: ``netG`` maps an input image to its translation; ``netD`` (optional) judges the pair.

    ``translate(x)`` takes floats in [0, 1] (``(N, C, H, W)`` or ``(C, H, W)``), any size of at
    least ``min_size`` (padded to ``size_multiple`` and cropped back), grey or RGB (converted to
    ``input_channels``), and returns floats in [0, 1] with ``output_nc`` channels (RGB for ``lab``).

    Example:
        >>> model = zoo.create("pix2pix", netG="unet_128", image_size=128, ngf=8, ndf=8)
        >>> model.translate(torch.rand(3, 128, 128)).shape
        torch.Size([3, 128, 128])
    """

    architecture = "pix2pix"
    config_class = Pix2PixConfig
    #: images smaller than this (a side, in pixels) are refused by ``translate``: they would be mostly padding
    min_size: int = 16

    def __init__(self, config: Pix2PixConfig) -> None:
        super().__init__(config)
        _check_config(config)
        self.netG = build_generator(config)
        self.netD: nn.Module | None = None
        if config.with_discriminator:
            self.netD = define_discriminator(
                config.netD, config.input_nc + config.output_nc, config.ndf, config.n_layers_D, norm=config.norm
            )

    @property
    def size_multiple(self) -> int:
        """The generator needs image sides that are multiples of this (256 for ``unet_256``)."""
        return generator_multiple(self.config.netG)

    @property
    def input_channels(self) -> int:
        """The channels of the images ``translate`` takes (``input_nc``; grey for ``lab``)."""
        return self.config.input_nc

    @property
    def output_channels(self) -> int:
        """The channels of the images ``translate`` returns (``output_nc``; RGB for ``lab``)."""
        return 3 if self.config.color_space == "lab" else self.config.output_nc

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``netG`` on network inputs (``network_input``), in the module's current mode."""
        return self.netG(x)

    def network_input(self, image: torch.Tensor) -> torch.Tensor:
        """Images in [0, 1] (``(N, C, H, W)``, C converted to ``input_channels``) as ``netG`` takes them.

        ``rgb``: ``2 x - 1``; ``lab``: the L channel of the grey image, ``L / 50 - 1``.
        """
        image = match_channels(image, self.input_channels, what="pix2pix model")
        return to_network_input(image, self.config.color_space)

    def network_target(self, target: torch.Tensor) -> torch.Tensor:
        """Target images in [0, 1] as ``netG`` should produce them (``rgb``: ``2 y - 1``; ``lab``: ``ab / 110``)."""
        if self.config.color_space == "lab":
            target = match_channels(target, 3, what="pix2pix colorization target")
        return to_network_target(target, self.config.color_space)

    def network_output_to_image(self, a: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        """``netG``'s output for network input ``a`` as images in [0, 1] (``lab``: L from ``a``, ab from ``out``)."""
        return from_network(a, out, self.config.color_space)

    def translate(
        self, x: torch.Tensor, *, direction: str | None = None, seed: int | None = 0, progress: bool = False
    ) -> torch.Tensor:
        """The translation of ``x`` (floats in [0, 1]) in [0, 1], at the test-time behaviour of the config.

        ``seed`` seeds the dropout noise (the base class runs this under ``zoo_core.modeling.seeded(seed)``;
        ``None``: the global generator as it stands). One way: ``direction`` must be ``None``.

        Example:
            >>> zoo.load("pix2pix.colorize").translate(torch.rand(1, 1, 300, 451)).shape
            torch.Size([1, 3, 300, 451])
        """
        batch, single = check_translate_input(x, min_size=self.min_size, what="pix2pix")
        h, w = batch.shape[-2:]
        batch = pad_to_multiple(self.network_input(batch.to(self.device, self.dtype)), self.size_multiple)
        paper = self.config.test_time_dropout
        with translation_mode(self.netG, paper):
            # the paper's batch statistics are those of one image (its test batch size is 1)
            out = torch.cat([self.netG(image[None]) for image in batch]) if paper else self.netG(batch)
        out = self.network_output_to_image(batch[..., :h, :w], out[..., :h, :w])
        return out[0] if single else out

    def discriminate(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """``netD``'s logits that ``y`` is the real translation of ``x`` (both in [0, 1]): a patch grid per pair."""
        if self.netD is None:
            raise ZooError("This pix2pix model holds a generator only (with_discriminator=false); it has no netD.")
        check_images(x, channels=self.input_channels, what="pix2pix discriminator (input)")
        check_images(y, channels=self.output_channels, size=tuple(x.shape[-2:]), what="pix2pix discriminator (output)")
        x, y = x.to(self.device, self.dtype), y.to(self.device, self.dtype)
        pair = torch.cat([self.network_input(x), self.network_target(y)], 1)
        with translation_mode(self.netD, paper=False), torch.no_grad():
            return self.netD(pair)
