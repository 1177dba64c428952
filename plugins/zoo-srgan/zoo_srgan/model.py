"""SRResNet and the SRGAN discriminator of Ledig et al. (2017), in the layout of Lornatang/SRGAN-PyTorch ``model.py``.

Generator (``SRResNet``; keys as the reference's, x4 shown)::

    conv1       0 Conv9x9(C, 64) with bias            1 PReLU (one slope)
    trunk.N     16 residual blocks ``rcb``: 0 Conv3x3(64, 64, no bias) 1 BN 2 PReLU
                3 Conv3x3(64, 64, no bias) 4 BN, plus the block's input
    conv2       0 Conv3x3(64, 64, no bias)            1 BN; plus conv1's output (the global skip)
    upsampling.N  log2(scale) blocks ``upsample_block``: 0 Conv3x3(64, 256) 1 PixelShuffle(2) 2 PReLU
    conv3       Conv9x9(64, C) with bias; the output is clamped to [0, 1]

At x4 the generator's state dict holds 225 tensors and 1,547,350 parameters (x2: one upsampling
block fewer, 1,399,637; x8: one more, 1,695,063). Init as the reference: every convolution
Kaiming-normal (fan in, gain sqrt(2)) with zero bias, BatchNorm weights 1, PReLU slopes 0.25.

Discriminator (``DiscriminatorForVGG``: ``features`` then ``classifier``): 8 Conv3x3 with widths
64, 64 (stride 2), 128, 128 (s2), 256, 256 (s2), 512, 512 (s2), BatchNorm after all but the first
(which alone has a bias), LeakyReLU 0.2 after each; then Linear(512 * 6 * 6, 1024), LeakyReLU
0.2, Linear(1024, 1): one logit per 96x96 image (``discriminator_size`` changes the 96, which
must be a multiple of 16). The reference leaves it at PyTorch's default init.

Images enter and leave in [0, 1] (no normalisation), as the reference's.

Example:
    >>> model = SRGAN(SRGANConfig(upscale_factor=4))
    >>> model.eval().translate(torch.rand(1, 3, 24, 24)).shape
    torch.Size([1, 3, 96, 96])
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import nn

from zoo_core import ZooError
from zoo_core.modeling import ImageTranslator, ModelConfig, ZooModel

__all__ = [
    "SCALES",
    "SRGAN",
    "DiscriminatorForVGG",
    "SRGANConfig",
    "SRResNet",
    "receptive_radius",
]

#: the upscale factors of the reference (a PixelShuffle(2) block per factor of two)
SCALES = (2, 4, 8)
#: luma weights (ITU-R BT.601) used to make a grey image from RGB for a 1-channel model
_LUMA = (0.299, 0.587, 0.114)


class _ResidualConvBlock(nn.Module):
    """Conv-BN-PReLU-Conv-BN plus the input: the reference's ``_ResidualConvBlock`` (``rcb.{0..4}``)."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.rcb = nn.Sequential(
            nn.Conv2d(width, width, 3, 1, 1, bias=False),
            nn.BatchNorm2d(width),
            nn.PReLU(),
            nn.Conv2d(width, width, 3, 1, 1, bias=False),
            nn.BatchNorm2d(width),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.rcb(x) + x


class _UpsampleBlock(nn.Module):
    """Conv3x3 to 4x the width, PixelShuffle(2), PReLU: the reference's ``_UpsampleBlock`` (``upsample_block``)."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.upsample_block = nn.Sequential(nn.Conv2d(width, width * 4, 3, 1, 1), nn.PixelShuffle(2), nn.PReLU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.upsample_block(x)


def check_scale(upscale_factor: object) -> int:
    """The number of PixelShuffle(2) blocks for ``upscale_factor`` (2, 4 or 8), or fail in one sentence.

    Example:
        >>> check_scale(4)
        2
    """
    if isinstance(upscale_factor, bool) or upscale_factor not in SCALES:
        raise ZooError(f"SRGAN upscale_factor must be 2, 4 or 8 (as the reference), not {upscale_factor!r}.")
    return int(math.log2(int(upscale_factor)))


class SRResNet(nn.Module):
    """The generator: ``(N, C, H, W)`` LR images in [0, 1] to ``(N, C, sH, sW)`` in [0, 1].

    Example:
        >>> SRResNet(upscale_factor=2)(torch.rand(1, 3, 8, 8)).shape
        torch.Size([1, 3, 16, 16])
    """

    def __init__(self, channels: int = 3, width: int = 64, num_rcb: int = 16, upscale_factor: int = 4) -> None:
        super().__init__()
        blocks = check_scale(upscale_factor)
        self.conv1 = nn.Sequential(nn.Conv2d(channels, width, 9, 1, 4), nn.PReLU())
        self.trunk = nn.Sequential(*(_ResidualConvBlock(width) for _ in range(num_rcb)))
        self.conv2 = nn.Sequential(nn.Conv2d(width, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width))
        self.upsampling = nn.Sequential(*(_UpsampleBlock(width) for _ in range(blocks)))
        self.conv3 = nn.Conv2d(width, channels, 9, 1, 4)
        # the reference's init, in its order: after every module exists, in modules() order
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shallow = self.conv1(x)
        deep = self.conv2(self.trunk(shallow)) + shallow
        return self.conv3(self.upsampling(deep)).clamp(0.0, 1.0)


class DiscriminatorForVGG(nn.Module):
    """The SRGAN discriminator: ``(N, C, S, S)`` images in [0, 1] (S = 96) to ``(N, 1)`` logits.

    Example:
        >>> DiscriminatorForVGG()(torch.rand(2, 3, 96, 96)).shape
        torch.Size([2, 1])
    """

    def __init__(self, channels: int = 3, width: int = 64, image_size: int = 96) -> None:
        super().__init__()
        if image_size < 16 or image_size % 16:
            raise ZooError(f"The SRGAN discriminator takes a size that is a multiple of 16 (96), not {image_size}.")
        self.image_size = image_size
        widths = [width, width, 2 * width, 2 * width, 4 * width, 4 * width, 8 * width, 8 * width]
        layers: list[nn.Module] = [nn.Conv2d(channels, width, 3, 1, 1, bias=True), nn.LeakyReLU(0.2, True)]
        for i in range(1, len(widths)):
            layers += [
                nn.Conv2d(widths[i - 1], widths[i], 3, 1 + i % 2, 1, bias=False),
                nn.BatchNorm2d(widths[i]),
                nn.LeakyReLU(0.2, True),
            ]
        self.features = nn.Sequential(*layers)
        side = image_size // 16
        self.classifier = nn.Sequential(
            nn.Linear(8 * width * side * side, 1024), nn.LeakyReLU(0.2, True), nn.Linear(1024, 1)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if tuple(x.shape[-2:]) != (self.image_size, self.image_size):
            size = self.image_size
            raise ZooError(
                f"The SRGAN discriminator takes {size}x{size} images, got {x.shape[-2]}x{x.shape[-1]}; "
                f"train on {size}x{size} HR crops (--dataset-option crop_size={size})."
            )
        return self.classifier(torch.flatten(self.features(x), 1))


def receptive_radius(num_rcb: int = 16, upscale_factor: int = 4) -> int:
    """How many LR pixels on each side of an LR pixel can change the SR pixels it becomes (40 at x4, 16 blocks).

    conv1 (9x9) reaches 4, each residual block 2, conv2 1, the first upsampling convolution 1 and
    each later one half of the one before (it works at twice the resolution), conv3 (9x9 at the
    output's resolution) 4 / scale; rounded up. A tile computed with this much context on every
    side equals the whole image's result up to float rounding.

    Example:
        >>> receptive_radius(16, 4), receptive_radius(16, 2), receptive_radius(2, 4)
        (40, 40, 12)
    """
    blocks = check_scale(upscale_factor)
    reach = 4 + 2 * num_rcb + 1 + sum(0.5**i for i in range(blocks)) + 4 / upscale_factor
    return math.ceil(reach)


@dataclass
class SRGANConfig(ModelConfig):
    """SRResNet / SRGAN hyper-parameters; the defaults are the reference's x4 generator.

    ``channels`` are the image channels (the reference's ``in_channels`` = ``out_channels``),
    ``width`` the generator's feature width (its ``channels``), ``num_rcb`` its residual blocks.
    ``with_discriminator`` adds the SRGAN discriminator (width ``d_width``, input
    ``discriminator_size`` squared: the HR crop size), which the GAN stage trains; a generator
    alone is SRResNet, what the first stage trains and what the converted checkpoints hold.

    Example:
        >>> SRGANConfig(upscale_factor=2, with_discriminator=True)
    """

    upscale_factor: int = 4
    channels: int = 3
    width: int = 64
    num_rcb: int = field(default=16, metadata={"range": (1, 256)})  # residual blocks (the paper: 16)
    with_discriminator: bool = False
    d_width: int = 64
    discriminator_size: int = 96


class SRGAN(ImageTranslator, ZooModel):
    """Ledig et al.'s SRResNet ``generator`` and, with ``with_discriminator``, the SRGAN ``discriminator``.

    Keys are the reference's under ``generator.`` and ``discriminator.`` (``generator.conv1.0.weight``,
    ``discriminator.classifier.0.weight`` ...). ``translate(x)`` (alias ``upscale``) super-resolves
    images of any size, in tiles (see ``translate``).

    Example:
        >>> sr = zoo.load("srgan.x4_photos")
        >>> sr.translate(torch.rand(1, 3, 75, 112)).shape
        torch.Size([1, 3, 300, 448])
    """

    architecture = "srgan"
    config_class = SRGANConfig
    #: LR tile side for ``translate`` (the output of a 128x128 tile at x4 is 512x512)
    tile_size: int = 128
    #: the smallest LR side ``translate`` takes
    min_size: int = 4

    def __init__(self, config: SRGANConfig) -> None:
        super().__init__(config)
        for key in ("channels", "width", "num_rcb", "d_width"):
            value = getattr(config, key)
            if isinstance(value, bool) or not isinstance(value, int) or value < (0 if key == "num_rcb" else 1):
                raise ZooError(f"SRGAN {key} must be a positive integer, not {value!r}.")
        check_scale(config.upscale_factor)
        self.generator = SRResNet(config.channels, config.width, config.num_rcb, config.upscale_factor)
        self.discriminator = (
            DiscriminatorForVGG(config.channels, config.d_width, config.discriminator_size)
            if config.with_discriminator
            else None
        )

    @property
    def scale(self) -> int:
        """The upscale factor (2, 4 or 8)."""
        return int(self.config.upscale_factor)

    @property
    def input_channels(self) -> int:
        """The channels of the LR images ``translate`` takes (grey or RGB are converted to it)."""
        return int(self.config.channels)

    @property
    def output_channels(self) -> int:
        """The channels of the SR images ``translate`` returns."""
        return int(self.config.channels)

    def _as_model_input(self, x: torch.Tensor) -> torch.Tensor:
        """A float (N, C, H, W) batch with the model's channels (grey <-> RGB), or fail in one sentence."""
        if not isinstance(x, torch.Tensor) or x.dim() not in (3, 4):
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ZooError(f"SRGAN takes images shaped (N, C, H, W) or (C, H, W), not {shape}.")
        if not x.is_floating_point():
            raise ZooError(f"SRGAN takes float images in [0, 1], not {x.dtype}; divide 8-bit images by 255 first.")
        if x.dim() == 3:
            x = x.unsqueeze(0)
        want, got = self.config.channels, x.shape[1]
        if got != want:
            if (want, got) == (3, 1):
                x = x.expand(-1, 3, -1, -1)
            elif (want, got) == (1, 3):
                weights = torch.tensor(_LUMA, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
                x = (x * weights).sum(dim=1, keepdim=True)
            else:
                kind = "RGB" if want == 3 else "grey"
                raise ZooError(
                    f"This SRGAN takes {kind} images ({want} channel(s), or {4 - want} to convert), got {got} "
                    "channels; drop the alpha channel or convert the images first."
                )
        h, w = x.shape[-2:]
        if min(h, w) < self.min_size:
            raise ZooError(
                f"SRGAN takes images of at least {self.min_size}x{self.min_size} pixels, got {h}x{w}; "
                "there is nothing to super-resolve in a smaller one."
            )
        return x.to(self.device, self.dtype)

    def translate(
        self,
        x: torch.Tensor,
        *,
        direction: str | None = None,
        seed: int | None = 0,
        progress: bool = False,
        tile_size: int | None = None,
        overlap: int | None = None,
    ) -> torch.Tensor:
        """Super-resolve ``x`` (floats in [0, 1], ``(N, C, H, W)`` or ``(C, H, W)``) by the upscale factor.

        Any size of at least ``min_size``; grey input to an RGB model is copied to three
        channels (RGB input to a grey model becomes its BT.601 luma). Images larger than
        ``tile_size`` (LR pixels, default 128) are cut into tiles, each computed with ``overlap``
        LR pixels of context on every side that are then dropped (default: the generator's
        receptive radius, 40 at x4, so the result equals the untiled one up to float rounding);
        a 512x512 image at x4 thus never holds the activations of a 2048x2048 one (``progress``: a
        tqdm bar over the tiles, as `zoo upscale` shows on a terminal). It runs in eval mode (the base
        class's hygiene), so BatchNorm uses its running statistics; ``seed`` is unused (no noise).

        Example:
            >>> model.translate(torch.rand(3, 512, 512)).shape  # 16 tiles of 128x128
            torch.Size([3, 2048, 2048])
        """
        single = isinstance(x, torch.Tensor) and x.dim() == 3
        tile = self.tile_size if tile_size is None else tile_size
        if isinstance(tile, bool) or not isinstance(tile, int) or tile < 1:
            raise ZooError(f"tile_size must be a positive number of LR pixels, not {tile!r}.")
        context = receptive_radius(self.config.num_rcb, self.scale) if overlap is None else overlap
        if isinstance(context, bool) or not isinstance(context, int) or context < 0:
            raise ZooError(f"overlap must be a number of LR pixels >= 0, not {context!r}.")
        x = self._as_model_input(x)
        out = self._tiled(x, tile, context, progress).float()
        return out[0] if single else out

    upscale = translate

    def _tiled(self, x: torch.Tensor, tile: int, context: int, progress: bool = False) -> torch.Tensor:
        from tqdm.auto import tqdm

        n, _, h, w = x.shape
        s = self.scale
        if h <= tile and w <= tile:
            return self.generator(x)
        out: torch.Tensor | None = None
        corners = [(top, left) for top in range(0, h, tile) for left in range(0, w, tile)]
        for top, left in tqdm(corners, desc="tiles", unit="tile", leave=False, disable=not progress):
            bottom, right = min(top + tile, h), min(left + tile, w)
            y0, y1 = max(top - context, 0), min(bottom + context, h)
            x0, x1 = max(left - context, 0), min(right + context, w)
            sr = self.generator(x[:, :, y0:y1, x0:x1])
            if out is None:
                out = sr.new_empty(n, sr.shape[1], h * s, w * s)
            out[:, :, top * s : bottom * s, left * s : right * s] = sr[
                :, :, (top - y0) * s : (bottom - y0) * s, (left - x0) * s : (right - x0) * s
            ]
        assert out is not None
        return out

    def discriminate(self, x: torch.Tensor) -> torch.Tensor:
        """The discriminator's logit that each HR image (in [0, 1], ``(N, C, 96, 96)``) is real: ``(N,)``."""
        if self.discriminator is None:
            raise ZooError("This SRGAN holds a generator only (with_discriminator=false); it has no discriminator.")
        if not isinstance(x, torch.Tensor) or x.dim() != 4 or x.shape[1] != self.config.channels:
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ZooError(
                f"The SRGAN discriminator takes images shaped (N, {self.config.channels}, S, S), not {shape}."
            )
        return self.discriminator(x.to(self.device, self.dtype)).squeeze(1)
