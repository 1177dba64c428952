"""CycleGAN (Zhu et al. 2017) as junyanz/pytorch-CycleGAN-and-pix2pix ``models/cycle_gan_model.py`` builds it.

Two generators and two discriminators, named as the reference names them (the paper's names in
brackets):

- ``netG_A`` (G): domain A to domain B, ``input_nc`` to ``output_nc`` channels;
- ``netG_B`` (F): domain B to domain A, ``output_nc`` to ``input_nc`` channels;
- ``netD_A`` (D_Y): judges domain-B images (real B against ``netG_A``'s fakes), ``output_nc`` channels;
- ``netD_B`` (D_X): judges domain-A images (real A against ``netG_B``'s fakes), ``input_nc`` channels.

The networks are ``zoo_core.layers``' ResnetGenerator / UnetGenerator / NLayerDiscriminator in the
reference's module layout, so the state dict of this model is the reference's four files under
the prefixes ``netG_A.``, ``netG_B.``, ``netD_A.``, ``netD_B.`` (``latest_net_G_A.pth`` holds the
keys of ``netG_A.*`` without the prefix). Defaults are the paper's: ``resnet_9blocks``,
instance norm (no parameters, no buffers), no dropout, the 70x70 PatchGAN (``basic``), weights
drawn from N(0, 0.02) in the reference's order (G_A, G_B, D_A, D_B).

A model may hold one direction only (``directions="AtoB"``: ``netG_A`` alone; ``"BtoA"``:
``netG_B`` alone): that is what the official pretrained files are (one generator each, see
``convert.py``). It translates in its direction and refuses the other in one sentence; it has no
discriminators and cannot be trained.

Images enter and leave ``translate`` in [0, 1] (the networks work in [-1, 1], the reference's
``Normalize((0.5,), (0.5,))`` and Tanh). ResNet generators take any height and width that are
multiples of 4 (``size_multiple``: two stride-2 steps), U-Nets multiples of 2**num_downs; ``zoo
translate`` pads other sizes to that multiple.

Example:
    >>> model = CycleGAN(CycleGANConfig(input_nc=1, output_nc=1, ngf=8, ndf=8, netG="resnet_6blocks"))
    >>> model.translate(torch.rand(2, 1, 28, 28), direction="BtoA").shape
    torch.Size([2, 1, 28, 28])
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from zoo_core import ZooError
from zoo_core.layers import DISCRIMINATORS, NORM_TYPES, define_discriminator, define_generator, parse_generator
from zoo_core.modeling import ImageTranslator, ModelConfig, ZooModel, check_images, inference_verb

__all__ = [
    "DIRECTIONS",
    "HELD_DIRECTIONS",
    "CycleGAN",
    "CycleGANConfig",
]

#: the directions ``translate`` takes
DIRECTIONS = ("AtoB", "BtoA")
#: the values of ``CycleGANConfig.directions``: both generators, or one
HELD_DIRECTIONS = ("both", "AtoB", "BtoA")


@dataclass
class CycleGANConfig(ModelConfig):
    """CycleGAN hyper-parameters; the defaults are the paper's (and the official checkpoints').

    - ``input_nc`` / ``output_nc``: channels of domain A / domain B;
    - ``ngf`` / ``ndf``: width of the generators / discriminators;
    - ``netG``: ``resnet_9blocks`` (paper), ``resnet_6blocks`` (the paper's 128x128 choice),
      ``resnet_<n>blocks``, ``unet_256``, ``unet_128`` (every name of ``zoo_core.layers.parse_generator``);
    - ``netD``: ``basic`` (70x70 PatchGAN), ``n_layers`` (``n_layers_D`` stride-2 layers), ``pixel``;
    - ``norm``: ``instance`` (paper), ``batch`` or ``none``; ``use_dropout``: dropout 0.5 in the blocks;
    - ``image_size``: the training crop (256 in the paper); ``translate`` takes other sizes;
    - ``directions``: ``both``, or ``AtoB`` / ``BtoA`` for a model holding that generator alone;
    - ``with_discriminators``: hold ``netD_A`` / ``netD_B`` (needed for training; False for
      generators-only models, e.g. converted checkpoints).

    Example:
        >>> CycleGANConfig(input_nc=1, output_nc=1, netG="resnet_6blocks", ngf=32, image_size=28)
    """

    input_nc: int = 3
    output_nc: int = 3
    ngf: int = 64
    ndf: int = 64
    netG: str = "resnet_9blocks"  # the reference's option names
    netD: str = "basic"
    n_layers_D: int = field(default=3, metadata={"range": (1, 10)})  # stride-2 layers: 2**10 is plenty
    norm: str = "instance"
    use_dropout: bool = False
    image_size: int = 256
    directions: str = "both"
    with_discriminators: bool = True


def _check_config(config: CycleGANConfig) -> None:
    for key in ("input_nc", "output_nc", "ngf", "ndf", "n_layers_D", "image_size"):
        value = getattr(config, key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ZooError(f"CycleGAN {key} must be a positive integer, not {value!r}.")
    parse_generator(config.netG, model="CycleGAN")
    if config.netD not in DISCRIMINATORS:
        raise ZooError(f"Unknown CycleGAN discriminator {config.netD!r}; choose one of {', '.join(DISCRIMINATORS)}.")
    if config.norm not in NORM_TYPES:
        raise ZooError(f"Unknown CycleGAN norm {config.norm!r}; choose one of {', '.join(NORM_TYPES)}.")
    if config.directions not in HELD_DIRECTIONS:
        raise ZooError(
            f"CycleGAN directions must be 'both', 'AtoB' or 'BtoA' (the generators it holds), "
            f"not {config.directions!r}."
        )
    if config.with_discriminators and config.directions != "both":
        raise ZooError(
            f"A CycleGAN holding only its {config.directions} generator has no discriminators; "
            "set with_discriminators=false (or directions=both to train one)."
        )
    multiple = parse_generator(config.netG, model="CycleGAN").size_multiple
    if config.image_size % multiple:
        raise ZooError(
            f"CycleGAN image_size must be a multiple of {multiple} for {config.netG}, not {config.image_size}."
        )


class CycleGAN(ImageTranslator, ZooModel):
    """The reference's ``CycleGANModel`` networks: ``netG_A``, ``netG_B`` and (optional) ``netD_A``, ``netD_B``.

    A generator or discriminator the config does not hold is ``None`` (and has no keys).

    Example:
        >>> gan = zoo.create("cyclegan", input_nc=1, output_nc=1, ngf=8, ndf=8, image_size=28)
        >>> gan.translate(torch.rand(4, 1, 28, 28)).shape  # AtoB
        torch.Size([4, 1, 28, 28])
    """

    architecture = "cyclegan"
    config_class = CycleGANConfig

    def __init__(self, config: CycleGANConfig) -> None:
        super().__init__(config)
        _check_config(config)
        c = config
        held = ("AtoB", "BtoA") if c.directions == "both" else (c.directions,)
        # the reference's order of construction (and of random draws): G_A, G_B, D_A, D_B
        options = {"norm": c.norm, "use_dropout": c.use_dropout}
        self.netG_A = define_generator(c.netG, c.input_nc, c.output_nc, c.ngf, **options) if "AtoB" in held else None
        self.netG_B = define_generator(c.netG, c.output_nc, c.input_nc, c.ngf, **options) if "BtoA" in held else None
        if c.with_discriminators:
            self.netD_A = define_discriminator(c.netD, c.output_nc, c.ndf, n_layers=c.n_layers_D, norm=c.norm)
            self.netD_B = define_discriminator(c.netD, c.input_nc, c.ndf, n_layers=c.n_layers_D, norm=c.norm)
        else:
            self.netD_A = self.netD_B = None

    # -- what it holds ----------------------------------------------------------------------
    @property
    def size_multiple(self) -> int:
        """Image heights and widths must be multiples of this (4 for ResNet generators); ``zoo translate`` pads."""
        return parse_generator(self.config.netG, model="CycleGAN").size_multiple

    @property
    def input_channels(self) -> int:
        """The channels of domain A (what ``AtoB`` takes and ``BtoA`` returns): ``input_nc``."""
        return self.config.input_nc

    @property
    def output_channels(self) -> int:
        """The channels of domain B (what ``AtoB`` returns and ``BtoA`` takes): ``output_nc``."""
        return self.config.output_nc

    @property
    def directions(self) -> tuple[str, ...]:
        """The directions this model translates: ``("AtoB", "BtoA")``, or one of them."""
        return tuple(d for d, net in (("AtoB", self.netG_A), ("BtoA", self.netG_B)) if net is not None)

    def generator(self, direction: str | None = None) -> nn.Module:
        """``netG_A`` for ``"AtoB"``, ``netG_B`` for ``"BtoA"``; ``None``: the model's default direction.

        Example:
            >>> model.generator("BtoA") is model.netG_B
            True
        """
        direction = self._direction(direction)
        return self.netG_A if direction == "AtoB" else self.netG_B

    def _direction(self, direction: str | None) -> str:
        held = self.directions
        if direction is None:
            return held[0]
        if direction not in DIRECTIONS:
            raise ZooError(f"A CycleGAN translates in direction 'AtoB' or 'BtoA', not {direction!r}.")
        if direction not in held:
            raise ZooError(
                f"This CycleGAN holds only its {held[0]} generator (a single-direction checkpoint), "
                f"so it cannot translate {direction}; use direction={held[0]!r}."
            )
        return direction

    def _check_input(self, x: torch.Tensor, direction: str) -> None:
        c = self.config
        channels = c.input_nc if direction == "AtoB" else c.output_nc
        check_images(x, channels=channels, what=f"CycleGAN {direction} generator")
        m = self.size_multiple
        h, w = x.shape[-2:]
        if h % m or w % m:
            raise ZooError(
                f"The CycleGAN {direction} generator ({c.netG}) takes images whose sides are multiples of {m}, "
                f"got {h}x{w}; pad or resize them first (`zoo translate` pads them for you)."
            )

    # -- the task ---------------------------------------------------------------------------
    def translate(
        self, x: torch.Tensor, *, direction: str | None = None, seed: int | None = 0, progress: bool = False
    ) -> torch.Tensor:
        """Translate images in [0, 1] ``(N, C, H, W)``: ``"AtoB"`` with ``netG_A``, ``"BtoA"`` with ``netG_B``.

        ``direction=None`` is ``"AtoB"``, or the only direction a single-direction model holds. H
        and W must be multiples of ``size_multiple``. Deterministic (``seed`` and ``progress`` are unused);
        returns float32 in [0, 1].

        Example:
            >>> zebras = zoo.load("cyclegan.horse2zebra").translate(horses)
        """
        direction = self._direction(direction)
        self._check_input(x, direction)
        net = self.generator(direction)
        out = net(x.to(self.device, self.dtype) * 2 - 1)
        return ((out.float() + 1) / 2).clamp_(0, 1)

    @inference_verb
    def reconstruct(self, x: torch.Tensor, direction: str = "AtoB") -> torch.Tensor:
        """The round trip of the cycle loss: ``F(G(x))`` for ``"AtoB"`` (x in A), ``G(F(x))`` for ``"BtoA"``.

        Both generators run in [-1, 1] as in training; the result is returned in [0, 1]. Needs both directions.

        Example:
            >>> (model.reconstruct(digits) - digits).abs().mean()  # cycle-consistency L1
        """
        direction = self._direction(direction)
        first = self.generator(direction)
        back = self.generator("BtoA" if direction == "AtoB" else "AtoB")
        self._check_input(x, direction)
        out = back(first(x.to(self.device, self.dtype) * 2 - 1))
        return ((out.float() + 1) / 2).clamp_(0, 1)
