"""DiscoGAN (Kim et al. 2017) as SKTBrain/DiscoGAN ``discogan/model.py`` and ``image_translation.py`` build it.

Two generators and two discriminators, named as the reference's training script names them:

- ``generator_B``: domain A to domain B (the reference's ``AB = generator_B(A)``), ``input_nc`` to
  ``output_nc`` channels; ``translate(x, direction="AtoB")``;
- ``generator_A``: domain B to domain A (``BA = generator_A(B)``), ``output_nc`` to ``input_nc``;
  ``translate(x, direction="BtoA")``;
- ``discriminator_A``: judges domain-A images (real A against ``BA``), ``input_nc`` channels;
- ``discriminator_B``: judges domain-B images (real B against ``AB``), ``output_nc`` channels.

They are built in the reference's order (``generator_A``, ``generator_B``, ``discriminator_A``,
``discriminator_B``) with PyTorch's default initialisation (the reference sets none).

``DiscoGenerator`` is the reference's ``Generator``: an ``nn.Sequential`` ``main`` of ``n_layers_G``
convolutions 4x4 stride 2 padding 1 without bias (LeakyReLU 0.2; BatchNorm from the second one),
then as many transposed convolutions 4x4 stride 2 (BatchNorm, ReLU; the last one to the image's
channels, then a Sigmoid: images are in [0, 1], the reference's ``/ 255.``). Widths are ``ngf``
x 1, 2, 4, 8 ... (the reference: 64, 128, 256, 512). ``extra_layers=True`` adds the reference's
bottleneck (conv 4x4 valid to 100 channels, BatchNorm, LeakyReLU, transposed conv back). With the
defaults (``ngf=64``, ``n_layers_G=4``, three channels) the keys are exactly the reference's
``main.0.weight``, ``main.3.running_mean`` ... ``main.20.weight``, so ``generator_B.load_state_dict(
torch.load("model_gen_B-N").state_dict())`` loads a reference checkpoint (it pickles whole modules).

``DiscoDiscriminator`` is the reference's ``Discriminator``: ``conv1`` (4x4 stride 2, no bias,
LeakyReLU 0.2), ``conv2`` / ``bn2`` ... ``convN`` / ``bnN`` (doubling widths, BatchNorm, LeakyReLU),
then ``conv{N+1}`` 4x4 valid to one logit; ``forward`` returns ``(sigmoid(logit), [relu2, ...,
reluN])``, the feature maps of the feature-matching loss, as the reference's does. N is
``log2(image_size) - 2``, so the last map is 4x4: 4 for the reference's 64x64 images (its exact
keys ``conv1.weight``, ``bn2.*`` ... ``conv5.weight``), 3 for 32x32.

Deviations, all options: the reference hard-codes 64x64 RGB images (``cv2.resize``) and widths
of 64; here ``input_nc`` / ``output_nc``, ``ngf`` / ``ndf``, ``n_layers_G`` and ``image_size`` are
config values. For the 28x28 grey digits of ``digits-mnist`` the published model uses
``image_size=32``: images are padded with 2 black pixels on every side (centred, lossless, the
background is black) instead of being resized to 64 (5.2x the pixels), and cropped back after
translation. ``translate`` and ``reconstruct`` take any size: they pad to the next multiple of
``2 ** n_layers_G`` (to ``image_size`` with ``extra_layers``) and crop back, so 28x28 digits go
in and come out.

Example:
    >>> model = DiscoGAN(DiscoGANConfig(input_nc=1, output_nc=1, image_size=32, ngf=8, ndf=8))
    >>> model.translate(torch.rand(2, 1, 28, 28), direction="BtoA").shape
    torch.Size([2, 1, 28, 28])
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from zoo_core import ZooError
from zoo_core.modeling import ImageTranslator, ModelConfig, ZooModel, check_images, inference_verb

__all__ = ["DIRECTIONS", "DiscoDiscriminator", "DiscoGAN", "DiscoGANConfig", "DiscoGenerator", "pad_to"]

#: the directions ``translate`` takes
DIRECTIONS = ("AtoB", "BtoA")
#: the reference's bottleneck width with ``extra_layers``
EXTRA_CHANNELS = 100


@dataclass
class DiscoGANConfig(ModelConfig):
    """DiscoGAN hyper-parameters; the defaults are the reference's (64x64 RGB, widths 64, four layers).

    - ``input_nc`` / ``output_nc``: channels of domain A / domain B;
    - ``ngf`` / ``ndf``: width of the first layer of the generators / discriminators;
    - ``n_layers_G``: stride-2 convolutions of the generators' encoder (and transposed ones of the decoder);
    - ``extra_layers``: the reference's ``Generator(extra_layers=True)`` bottleneck (needs
      ``image_size == 4 * 2 ** n_layers_G``);
    - ``image_size``: the training size, a power of two of at least 16; the discriminators have
      ``log2(image_size) - 2`` stride-2 layers.

    Example:
        >>> DiscoGANConfig(input_nc=1, output_nc=1, image_size=32)
    """

    input_nc: int = 3
    output_nc: int = 3
    ngf: int = 64
    ndf: int = 64
    n_layers_G: int = field(default=4, metadata={"range": (1, 8)})
    extra_layers: bool = False
    image_size: int = field(default=64, metadata={"range": (16, 4096)})


def _check_config(config: DiscoGANConfig) -> None:
    c = config
    for key in ("input_nc", "output_nc", "ngf", "ndf"):
        value = getattr(c, key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ZooError(f"DiscoGAN {key} must be a positive integer, not {value!r}.")
    if c.image_size & (c.image_size - 1):
        raise ZooError(
            f"DiscoGAN image_size must be a power of two (16, 32, 64 ...), not {c.image_size}; the "
            "discriminator halves it down to 4x4."
        )
    if c.image_size % 2**c.n_layers_G:
        raise ZooError(
            f"DiscoGAN image_size {c.image_size} is not a multiple of 2**n_layers_G = {2**c.n_layers_G}; "
            "lower n_layers_G or raise image_size."
        )
    if c.extra_layers and c.image_size != 4 * 2**c.n_layers_G:
        raise ZooError(
            f"The extra_layers bottleneck needs a 4x4 map: image_size must be {4 * 2**c.n_layers_G} for "
            f"n_layers_G={c.n_layers_G}, not {c.image_size}; set extra_layers=false or change n_layers_G."
        )


def pad_to(x: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Pad images with zeros (black), centred, to ``height`` x ``width`` (the extra pixel, if odd, right/bottom).

    Example:
        >>> pad_to(torch.ones(1, 1, 28, 28), 32, 32)[0, 0, 2:30, 2:30].min()
        tensor(1.)
    """
    h, w = x.shape[-2:]
    if (h, w) == (height, width):
        return x
    top, left = (height - h) // 2, (width - w) // 2
    return F.pad(x, (left, width - w - left, top, height - h - top))


class DiscoGenerator(nn.Module):
    """The reference's ``Generator``: ``main`` = conv encoder (LeakyReLU, BatchNorm) + deconv decoder, Sigmoid.

    Example:
        >>> DiscoGenerator(1, 1, ngf=8, n_layers=2)(torch.rand(2, 1, 16, 16)).shape
        torch.Size([2, 1, 16, 16])
    """

    def __init__(self, in_nc: int, out_nc: int, ngf: int = 64, n_layers: int = 4, extra_layers: bool = False) -> None:
        super().__init__()
        widths = [ngf * 2**i for i in range(n_layers)]
        layers: list[nn.Module] = []
        for i, width in enumerate(widths):
            layers.append(nn.Conv2d(in_nc if i == 0 else widths[i - 1], width, 4, 2, 1, bias=False))
            if i > 0:
                layers.append(nn.BatchNorm2d(width))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
        if extra_layers:
            layers += [
                nn.Conv2d(widths[-1], EXTRA_CHANNELS, 4, 1, 0, bias=False),
                nn.BatchNorm2d(EXTRA_CHANNELS),
                nn.LeakyReLU(0.2, inplace=True),
                nn.ConvTranspose2d(EXTRA_CHANNELS, widths[-1], 4, 1, 0, bias=False),
                nn.BatchNorm2d(widths[-1]),
                nn.ReLU(True),
            ]
        for i in range(n_layers - 1, 0, -1):
            layers += [nn.ConvTranspose2d(widths[i], widths[i - 1], 4, 2, 1, bias=False)]
            layers += [nn.BatchNorm2d(widths[i - 1]), nn.ReLU(True)]
        layers += [nn.ConvTranspose2d(widths[0], out_nc, 4, 2, 1, bias=False), nn.Sigmoid()]
        self.main = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.main(x)


class DiscoDiscriminator(nn.Module):
    """The reference's ``Discriminator``: ``conv1``, ``conv2``/``bn2`` ... and a 4x4 valid ``conv{N+1}`` to one logit.

    ``forward`` returns the reference's pair ``(sigmoid(logit) (N, 1, 1, 1), [relu2 ... reluN])``;
    ``logits_and_features`` the same before the sigmoid (what ``GANLoss("vanilla")`` takes).

    Example:
        >>> prob, feats = DiscoDiscriminator(1, ndf=8, image_size=32)(torch.rand(2, 1, 32, 32))
        >>> prob.shape, [f.shape[1:] for f in feats]
        (torch.Size([2, 1, 1, 1]), [torch.Size([16, 8, 8]), torch.Size([32, 4, 4])])
    """

    def __init__(self, in_nc: int, ndf: int = 64, image_size: int = 64) -> None:
        super().__init__()
        self.n_layers = image_size.bit_length() - 3  # log2(image_size) - 2: the last map is 4x4
        width = in_nc
        for i in range(1, self.n_layers + 1):
            out = ndf * 2 ** (i - 1)
            self.add_module(f"conv{i}", nn.Conv2d(width, out, 4, 2, 1, bias=False))
            if i > 1:
                self.add_module(f"bn{i}", nn.BatchNorm2d(out))
            self.add_module(f"relu{i}", nn.LeakyReLU(0.2, inplace=True))
            width = out
        self.add_module(f"conv{self.n_layers + 1}", nn.Conv2d(width, 1, 4, 1, 0, bias=False))

    def logits_and_features(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """The logit before the reference's sigmoid and the feature maps ``relu2 ... reluN``."""
        features = []
        for i in range(1, self.n_layers + 1):
            x = getattr(self, f"conv{i}")(x)
            if i > 1:
                x = getattr(self, f"bn{i}")(x)
            x = getattr(self, f"relu{i}")(x)
            if i > 1:
                features.append(x)
        return getattr(self, f"conv{self.n_layers + 1}")(x), features

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        logits, features = self.logits_and_features(x)
        return torch.sigmoid(logits), features


class DiscoGAN(ImageTranslator, ZooModel):
    """The reference's four networks: ``generator_A`` (B to A), ``generator_B`` (A to B) and two discriminators.

    Example:
        >>> gan = zoo.create("discogan", input_nc=1, output_nc=1, ngf=8, ndf=8, image_size=32)
        >>> gan.translate(torch.rand(4, 1, 28, 28)).shape  # AtoB, with generator_B
        torch.Size([4, 1, 28, 28])
    """

    architecture = "discogan"
    config_class = DiscoGANConfig
    directions = DIRECTIONS

    def __init__(self, config: DiscoGANConfig) -> None:
        super().__init__(config)
        _check_config(config)
        c = config
        options = {"ngf": c.ngf, "n_layers": c.n_layers_G, "extra_layers": c.extra_layers}
        # the reference's order of construction (and of random draws)
        self.generator_A = DiscoGenerator(c.output_nc, c.input_nc, **options)
        self.generator_B = DiscoGenerator(c.input_nc, c.output_nc, **options)
        self.discriminator_A = DiscoDiscriminator(c.input_nc, c.ndf, c.image_size)
        self.discriminator_B = DiscoDiscriminator(c.output_nc, c.ndf, c.image_size)

    @property
    def input_channels(self) -> int:
        """The channels of domain A (what ``AtoB`` takes and ``BtoA`` returns): ``input_nc``."""
        return self.config.input_nc

    @property
    def output_channels(self) -> int:
        """The channels of domain B (what ``AtoB`` returns and ``BtoA`` takes): ``output_nc``."""
        return self.config.output_nc

    def generator(self, direction: str | None = None) -> nn.Module:
        """``generator_B`` for ``"AtoB"`` (and ``None``), ``generator_A`` for ``"BtoA"``, as the reference names them.

        Example:
            >>> model.generator("AtoB") is model.generator_B
            True
        """
        if direction is None:
            direction = "AtoB"
        if direction not in DIRECTIONS:
            raise ZooError(f"A DiscoGAN translates in direction 'AtoB' or 'BtoA', not {direction!r}.")
        return self.generator_B if direction == "AtoB" else self.generator_A

    def work_size(self, height: int, width: int) -> tuple[int, int]:
        """The size images are padded to before the generators: the next multiple of ``2 ** n_layers_G``.

        With ``extra_layers`` it is ``image_size`` itself (the bottleneck needs a 4x4 map).

        Example:
            >>> model.work_size(28, 28)  # n_layers_G = 4
            (32, 32)
        """
        c = self.config
        if c.extra_layers:
            if height > c.image_size or width > c.image_size:
                raise ZooError(
                    f"This DiscoGAN (extra_layers) takes images of at most {c.image_size}x{c.image_size}, "
                    f"got {height}x{width}; resize them first."
                )
            return c.image_size, c.image_size
        m = 2**c.n_layers_G
        return -(-height // m) * m, -(-width // m) * m

    def _run(self, nets: list[nn.Module], x: torch.Tensor, channels: int, what: str) -> torch.Tensor:
        check_images(x, channels=channels, what=what)
        h, w = x.shape[-2:]
        height, width = self.work_size(h, w)
        out = pad_to(x.to(self.device, self.dtype), height, width)
        for net in nets:
            out = net(out)
        top, left = (height - h) // 2, (width - w) // 2
        return out[..., top : top + h, left : left + w].float().clamp_(0, 1)

    def translate(
        self, x: torch.Tensor, *, direction: str | None = None, seed: int | None = 0, progress: bool = False
    ) -> torch.Tensor:
        """Translate images in [0, 1] ``(N, C, H, W)``: ``"AtoB"`` by ``generator_B``, ``"BtoA"`` by ``generator_A``.

        ``direction=None`` is ``"AtoB"``. Any size: padded with black to ``work_size`` and cropped
        back. Deterministic (BatchNorm uses its running statistics; ``seed`` and ``progress`` are
        unused); returns float32 in [0, 1].

        Example:
            >>> mnist_like = zoo.load("discogan.digits2mnist").translate(sklearn_digits)
        """
        direction = "AtoB" if direction is None else direction
        net = self.generator(direction)
        channels = self.config.input_nc if direction == "AtoB" else self.config.output_nc
        return self._run([net], x, channels, f"DiscoGAN {direction} generator")

    @inference_verb
    def reconstruct(self, x: torch.Tensor, direction: str = "AtoB") -> torch.Tensor:
        """The round trip of the reconstruction loss: ``ABA = generator_A(generator_B(x))`` for ``"AtoB"``.

        ``"BtoA"``: ``BAB = generator_B(generator_A(y))``. Padded once, cropped once, in [0, 1].

        Example:
            >>> (model.reconstruct(digits) - digits).abs().mean()  # cycle-l1
        """
        first = self.generator(direction)
        back = self.generator("BtoA" if direction == "AtoB" else "AtoB")
        channels = self.config.input_nc if direction == "AtoB" else self.config.output_nc
        return self._run([first, back], x, channels, f"DiscoGAN {direction} round trip")
