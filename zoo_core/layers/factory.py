"""``define_G`` / ``define_D`` of junyanz's ``models/networks.py``: networks by the reference's names.

Generators (``--netG``): ``resnet_9blocks``, ``resnet_6blocks`` (``ResnetGenerator``),
``unet_256``, ``unet_128`` (``UnetGenerator`` with 8 / 7 downsamplings). Discriminators
(``--netD``): ``basic`` (the 70x70 PatchGAN, ``NLayerDiscriminator(n_layers=3)``), ``n_layers``
(``n_layers`` of your choice), ``pixel`` (``PixelDiscriminator``). Both then apply
``init_weights(init_type, init_gain)`` as the reference's ``init_net`` does (N(0, 0.02) by
default); ``init_type=None`` skips it (for a model about to receive weights).

Example:
    >>> g = define_generator("resnet_9blocks", 3, 3, norm="instance")  # CycleGAN's G
    >>> d = define_discriminator("basic", 6, norm="batch")             # pix2pix's D
"""

from __future__ import annotations

from torch import nn

from .._errors import ZooError
from .discriminators import NLayerDiscriminator, PixelDiscriminator
from .init import init_weights
from .norms import NormLayer
from .resnet_generator import ResnetGenerator
from .unet_generator import UnetGenerator

__all__ = ["DISCRIMINATORS", "GENERATORS", "define_discriminator", "define_generator"]

#: the reference's ``--netG`` names
GENERATORS = ("resnet_9blocks", "resnet_6blocks", "unet_256", "unet_128")
#: the reference's ``--netD`` names
DISCRIMINATORS = ("basic", "n_layers", "pixel")


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
    """The generator ``net_g`` (a name of ``GENERATORS``), initialised as the reference's ``define_G``.

    Example:
        >>> type(define_generator("unet_256", 3, 3, norm="batch", use_dropout=True)).__name__
        'UnetGenerator'
    """
    net: nn.Module
    if net_g in ("resnet_9blocks", "resnet_6blocks"):
        n_blocks = 9 if net_g == "resnet_9blocks" else 6
        net = ResnetGenerator(input_nc, output_nc, ngf, norm=norm, use_dropout=use_dropout, n_blocks=n_blocks)
    elif net_g in ("unet_256", "unet_128"):
        num_downs = 8 if net_g == "unet_256" else 7
        net = UnetGenerator(input_nc, output_nc, num_downs, ngf, norm=norm, use_dropout=use_dropout)
    else:
        raise ZooError(f"Unknown generator {net_g!r}; choose one of {', '.join(GENERATORS)}.")
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
