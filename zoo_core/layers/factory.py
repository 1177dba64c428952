"""``define_G`` / ``define_D`` of junyanz's ``models/networks.py``: networks by the reference's names.

The one table of generator and discriminator names, for every plugin (pix2pix, CycleGAN ...):
generators (``--netG``): ``resnet_<n>blocks`` (``ResnetGenerator`` with n residual blocks, from 1 to
``MAX_RESNET_BLOCKS``; the reference names ``resnet_9blocks`` and ``resnet_6blocks``), ``unet_256``,
``unet_128``, ``unet_64``, ``unet_32`` (``UnetGenerator`` with 8 / 7 / 6 / 5 downsamplings; the
reference names the first two; ``parse_generator`` reads a name, ``generator_name`` writes one). Discriminators
(``--netD``): ``basic`` (the 70x70 PatchGAN, ``NLayerDiscriminator(n_layers=3)``), ``n_layers``
(``n_layers`` of your choice), ``pixel`` (``PixelDiscriminator``). Both then apply
``init_weights(init_type, init_gain)`` as the reference's ``init_net`` does (N(0, 0.02) by
default); ``init_type=None`` skips it (for a model about to receive weights).

Example:
    >>> g = define_generator("resnet_9blocks", 3, 3, norm="instance")  # CycleGAN's G
    >>> d = define_discriminator("basic", 6, norm="batch")             # pix2pix's D
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from torch import nn

from .._errors import ZooError
from .discriminators import NLayerDiscriminator, PixelDiscriminator
from .init import init_weights
from .norms import NormLayer
from .resnet_generator import ResnetGenerator
from .unet_generator import UnetGenerator

__all__ = [
    "DISCRIMINATORS",
    "GENERATORS",
    "MAX_RESNET_BLOCKS",
    "UNET_GENERATORS",
    "GeneratorSpec",
    "define_discriminator",
    "define_generator",
    "generator_name",
    "parse_generator",
]

#: U-Net generators by name, with their downsamplings (``unet_<2**n>``: n levels)
UNET_GENERATORS = {"unet_256": 8, "unet_128": 7, "unet_64": 6, "unet_32": 5}
#: the most residual blocks ``resnet_<n>blocks`` may ask for (the paper: 9)
MAX_RESNET_BLOCKS = 64
#: the ``--netG`` names listed in messages (``resnet_<n>blocks`` takes any n up to ``MAX_RESNET_BLOCKS``)
GENERATORS = ("resnet_9blocks", "resnet_6blocks", *UNET_GENERATORS)
#: the reference's ``--netD`` names
DISCRIMINATORS = ("basic", "n_layers", "pixel")

_RESNET = re.compile(r"resnet_(\d+)blocks")


@dataclass(frozen=True)
class GeneratorSpec:
    """What a ``--netG`` name means: ``kind`` (``"resnet"`` or ``"unet"``) and ``depth`` (residual blocks, or
    U-Net downsamplings).

    Example:
        >>> parse_generator("unet_128").size_multiple, parse_generator("resnet_9blocks").size_multiple
        (128, 4)
    """

    kind: str
    depth: int

    @property
    def size_multiple(self) -> int:
        """What the sides of an image must be a multiple of: 4 for a ResNet (two stride-2 convolutions), else
        ``2**depth``."""
        return 4 if self.kind == "resnet" else 2**self.depth

    @property
    def name(self) -> str:
        """The ``--netG`` name (``resnet_9blocks``, ``unet_256`` ...)."""
        return generator_name(self.kind, self.depth)


def generator_name(kind: str, depth: int) -> str:
    """The ``--netG`` name of a ``"resnet"`` generator with ``depth`` blocks or a ``"unet"`` with ``depth`` levels.

    Example:
        >>> generator_name("resnet", 9), generator_name("unet", 8)
        ('resnet_9blocks', 'unet_256')
    """
    return f"resnet_{depth}blocks" if kind == "resnet" else f"unet_{2**depth}"


def parse_generator(net_g: str, *, model: str = "") -> GeneratorSpec:
    """The generator a ``--netG`` name means, or a ``ZooError`` in one sentence naming the choices.

    ``model``: whose generator it is, in the error (``"CycleGAN"``, ``"pix2pix"``).

    Example:
        >>> parse_generator("resnet_4blocks"), parse_generator("unet_64")
        (GeneratorSpec(kind='resnet', depth=4), GeneratorSpec(kind='unet', depth=6))
    """
    whose = f"{model} " if model else ""
    match = _RESNET.fullmatch(net_g) if isinstance(net_g, str) else None
    if match and len(match[1]) <= 3 and 1 <= int(match[1]) <= MAX_RESNET_BLOCKS:
        return GeneratorSpec("resnet", int(match[1]))
    if match:
        raise ZooError(
            f"A {whose}ResNet generator has from 1 to {MAX_RESNET_BLOCKS} blocks, not {match[1]} ({net_g!r})."
        )
    if isinstance(net_g, str) and net_g in UNET_GENERATORS:
        return GeneratorSpec("unet", UNET_GENERATORS[net_g])
    raise ZooError(
        f"Unknown {whose}generator {net_g!r}; choose one of {', '.join(GENERATORS)} or resnet_<n>blocks "
        f"(n from 1 to {MAX_RESNET_BLOCKS})."
    )


def define_generator(
    net_g: str,
    input_nc: int,
    output_nc: int,
    ngf: int = 64,
    norm: str | NormLayer = "batch",
    use_dropout: bool = False,
    init_type: str | None = "normal",
    init_gain: float = 0.02,
) -> nn.Module:
    """The generator ``net_g`` (a name ``parse_generator`` reads), initialised as the reference's ``define_G``.

    Example:
        >>> type(define_generator("unet_256", 3, 3, norm="batch", use_dropout=True)).__name__
        'UnetGenerator'
    """
    spec = parse_generator(net_g)
    net: nn.Module
    if spec.kind == "resnet":
        net = ResnetGenerator(input_nc, output_nc, ngf, norm=norm, use_dropout=use_dropout, n_blocks=spec.depth)
    else:
        net = UnetGenerator(input_nc, output_nc, spec.depth, ngf, norm=norm, use_dropout=use_dropout)
    if init_type is not None:
        init_weights(net, init_type, init_gain)
    return net


def define_discriminator(
    net_d: str,
    input_nc: int,
    ndf: int = 64,
    n_layers: int = 3,
    norm: str | NormLayer = "batch",
    init_type: str | None = "normal",
    init_gain: float = 0.02,
) -> nn.Module:
    """The discriminator ``net_d`` (a name of ``DISCRIMINATORS``), initialised as the reference's ``define_D``.

    ``n_layers`` is used by ``"n_layers"`` only; ``"basic"`` always has 3.

    Example:
        >>> define_discriminator("basic", 3, norm="instance")(torch.randn(1, 3, 64, 64)).shape
        torch.Size([1, 1, 6, 6])
    """
    net: nn.Module
    if net_d == "basic":
        net = NLayerDiscriminator(input_nc, ndf, n_layers=3, norm=norm)
    elif net_d == "n_layers":
        net = NLayerDiscriminator(input_nc, ndf, n_layers=n_layers, norm=norm)
    elif net_d == "pixel":
        net = PixelDiscriminator(input_nc, ndf, norm=norm)
    else:
        raise ZooError(f"Unknown discriminator {net_d!r}; choose one of {', '.join(DISCRIMINATORS)}.")
    if init_type is not None:
        init_weights(net, init_type, init_gain)
    return net
