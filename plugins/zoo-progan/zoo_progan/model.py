"""The networks of tkarras/progressive_growing_of_gans ``networks.py`` (``G_paper``, ``D_paper``), in PyTorch.

**Equalized learning rate** (``use_wscale``): every weight is stored drawn from N(0, 1) and multiplied at
run time by He's constant ``gain / sqrt(fan_in)`` (``get_weight``): gain sqrt(2) for every layer
followed by a leaky ReLU, sqrt(2)/4 for the generator's 4x4 dense layer ("to match the original Theano
implementation"), 1 for ``ToRGB`` and the critic's last dense layer. Biases start at 0.

**Pixelwise feature normalisation** (``pixel_norm``): ``x / sqrt(mean_c(x^2) + 1e-8)`` after every
generator activation, and on the latent code (``normalize_latents``). **Minibatch standard deviation**
(``minibatch_stddev_layer``, group size 4): one feature map appended before the critic's 4x4 block, the
standard deviation over each group of ``G`` images averaged over features and pixels.

**Progressive growing**: ``lod`` (level of detail) 0 is the full resolution, ``lod = k`` the resolution
``2^-k`` of it; a fractional ``lod`` fades the new block in: the generator's image is
``lerp(torgb(x_res), upscale(image_{res-1}), clip(lod - lod_res, 0, 1))`` and the critic mixes
``fromrgb(downscale(image))`` into its features the same way (the ``structure='linear'`` graph, whose
output the ``'recursive'`` one reproduces). Blocks whose weight is 0 are skipped. The image is always
returned (and taken) at the full resolution, nearest-upscaled as the reference does.

Feature maps at resolution ``2^r``: ``nf(r - 1)`` with ``nf(stage) = min(int(fmap_base / 2^(stage *
fmap_decay)), fmap_max)``; the latent size is ``nf(0)`` unless set (512 for the defaults).

**State-dict layout** (genforce's ``PGGANGenerator`` / ``PGGANDiscriminator``, so that the Hub's
``huggan/pggan-celebahq-1024`` loads by renaming a prefix; ``b = log2(res) - 2``, ``i = log2(resolution)
- log2(res)``, weights in PyTorch's ``(out, in, kh, kw)``)::

    generator.lod                    ()                 the level of detail sampled at (TF ``lod``)
    generator.layer{2b}.weight       4x4: (nf, latent, 4, 4)   TF 4x4/Dense (a 4x4 conv, padding 3, on the 1x1 code)
                                     8x8 up: (nf, nf_in, 3, 3) TF {res}/Conv0 (after a nearest 2x upscale), or
                                     fused: (nf_in, nf, 3, 3)  TF {res}/Conv0_up (a transposed conv)
    generator.layer{2b+1}.weight     (nf, nf, 3, 3)            TF 4x4/Conv, {res}/Conv1
    generator.output{b}.weight       (channels, nf, 1, 1)      TF ToRGB_lod{R-r}
    generator_ema.*                  as generator.*            TF Gs (with_ema: the moving average sampled from)
    discriminator.lod                ()
    discriminator.input{i}.weight    (nf, channels, 1, 1)      TF FromRGB_lod{i}
    discriminator.layer{2i}.weight   (nf, nf, 3, 3)            TF {res}/Conv0; 4x4: (nf, nf + 1, 3, 3) TF 4x4/Conv
    discriminator.layer{2i+1}.weight (nf_out, nf, 3, 3)        TF {res}/Conv1 or Conv1_down; 4x4: (nf(0), 16 nf) Dense0
    discriminator.layer{2R-2}.weight (1, nf(0))                TF 4x4/Dense1

each with its ``.bias``. The run-time scales are not in the state dict (they follow from the shapes).

Example:
    >>> model = ProGAN(ProGANConfig(resolution=16, fmap_base=128, fmap_max=32))
    >>> model.eval().sample(2, seed=0).shape
    torch.Size([2, 1, 16, 16])
"""

from __future__ import annotations

import copy
import functools
import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from zoo_core import ZooError
from zoo_core.modeling import ModelConfig, UnconditionalGenerator, ZooModel, check_images

__all__ = [
    "Discriminator",
    "EqualizedConv2d",
    "EqualizedLinear",
    "Generator",
    "ProGAN",
    "ProGANConfig",
    "downscale2d",
    "feature_maps",
    "minibatch_stddev",
    "pixel_norm",
    "upscale2d",
]

#: the gain of every layer followed by a leaky ReLU (``get_weight``'s default)
RELU_GAIN = math.sqrt(2.0)


def feature_maps(stage: int, fmap_base: int, fmap_decay: float, fmap_max: int) -> int:
    """``nf(stage)`` of ``G_paper`` / ``D_paper``: ``min(int(fmap_base / 2^(stage * fmap_decay)), fmap_max)``.

    Example:
        >>> [feature_maps(s, 8192, 1.0, 512) for s in range(1, 10)]
        [512, 512, 512, 512, 256, 128, 64, 32, 16]
    """
    return min(int(fmap_base / (2.0 ** (stage * fmap_decay))), fmap_max)


def pixel_norm(x: torch.Tensor, epsilon: float = 1e-8) -> torch.Tensor:
    """``x * rsqrt(mean over channels of x^2 + epsilon)``: each pixel's feature vector to unit length (``pixel_norm``).

    Example:
        >>> y = pixel_norm(torch.randn(2, 16, 4, 4))
        >>> torch.allclose(y.pow(2).mean(1), torch.ones(2, 4, 4), atol=1e-5)
        True
    """
    return x * torch.rsqrt(x.pow(2).mean(dim=1, keepdim=True) + epsilon)


def minibatch_stddev(x: torch.Tensor, group_size: int = 4) -> torch.Tensor:
    """``minibatch_stddev_layer``: ``x`` with one more feature map, the mean standard deviation of its group.

    The batch is split into ``M = N / G`` groups of ``G = min(group_size, N)`` images, image ``n`` in group
    ``n % M`` (TF's ``reshape([G, -1, C, H, W])``); each group's standard deviation over its images
    (``sqrt(var + 1e-8)``), averaged over features and pixels, is appended to all its images. ``N`` must be
    a multiple of ``G``.

    Example:
        >>> minibatch_stddev(torch.randn(8, 3, 4, 4)).shape
        torch.Size([8, 4, 4, 4])
    """
    n, c, h, w = x.shape
    group = min(group_size, n)
    if n % group:
        raise ZooError(
            f"The minibatch standard deviation layer takes batches that are a multiple of its group size "
            f"({group}), not {n} images; use a batch size divisible by {group}."
        )
    y = x.reshape(group, -1, c, h, w).float()
    y = y - y.mean(dim=0, keepdim=True)
    y = torch.sqrt(y.pow(2).mean(dim=0) + 1e-8)
    y = y.mean(dim=(1, 2, 3), keepdim=True).to(x.dtype)  # (M, 1, 1, 1)
    y = y.repeat(group, 1, h, w)
    return torch.cat([x, y], dim=1)


def upscale2d(x: torch.Tensor, factor: int = 2) -> torch.Tensor:
    """Nearest-neighbour upscaling by an integer ``factor`` (``upscale2d``: each pixel tiled factor x factor)."""
    if factor == 1:
        return x
    return x.repeat_interleave(factor, dim=2).repeat_interleave(factor, dim=3)


def downscale2d(x: torch.Tensor, factor: int = 2) -> torch.Tensor:
    """Box-filter downscaling by an integer ``factor`` (``downscale2d``: the mean of each block)."""
    if factor == 1:
        return x
    return F.avg_pool2d(x, factor, factor)


def _lerp_clip(a: torch.Tensor, b: torch.Tensor, t: float) -> torch.Tensor:
    """``a + (b - a) * clip(t, 0, 1)``, exact at the ends."""
    if t <= 0.0:
        return a
    if t >= 1.0:
        return b
    return a + (b - a) * t


class EqualizedConv2d(nn.Module):
    """A convolution with an equalized learning rate: ``weight`` ~ N(0, 1) scaled by ``gain / sqrt(fan_in)`` per call.

    ``mode``: ``"same"`` (stride 1, ``padding``), ``"up"`` (``upscale2d_conv2d``: the 3x3 kernel padded to
    4x4 and summed over its 4 shifts, as a stride-2 transposed convolution; ``weight`` is then
    ``(in, out, k, k)``) or ``"down"`` (``conv2d_downscale2d``: the same sum times 1/4, stride 2). ``fan_in``
    is ``in * k * k`` unless given (the generator's 4x4 dense layer has fan-in ``latent``). Without
    ``use_wscale`` the weight is drawn with that standard deviation and used as it is.

    Example:
        >>> layer = EqualizedConv2d(16, 8, 3)
        >>> round(layer.scale * math.sqrt(16 * 9), 6) == round(math.sqrt(2), 6), float(layer.bias.abs().sum())
        (True, 0.0)
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        *,
        gain: float = RELU_GAIN,
        use_wscale: bool = True,
        padding: int | None = None,
        mode: str = "same",
        fan_in: int | None = None,
    ) -> None:
        super().__init__()
        self.mode = mode
        self.padding = kernel_size // 2 if padding is None else padding
        shape = (
            (in_channels, out_channels, kernel_size, kernel_size)
            if mode == "up"
            else (out_channels, in_channels, kernel_size, kernel_size)
        )
        std = gain / math.sqrt(fan_in if fan_in is not None else in_channels * kernel_size * kernel_size)
        self.scale = std if use_wscale else 1.0
        self.weight = nn.Parameter(torch.randn(shape) * (1.0 if use_wscale else std))
        self.bias = nn.Parameter(torch.zeros(out_channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.weight * self.scale
        if self.mode == "same":
            return F.conv2d(x, w, self.bias, padding=self.padding)
        w = F.pad(w, (1, 1, 1, 1))
        w = w[:, :, 1:, 1:] + w[:, :, :-1, 1:] + w[:, :, 1:, :-1] + w[:, :, :-1, :-1]
        if self.mode == "up":
            return F.conv_transpose2d(x, w, self.bias, stride=2, padding=1)
        return F.conv2d(x, w * 0.25, self.bias, stride=2, padding=1)


class EqualizedLinear(nn.Module):
    """A dense layer with an equalized learning rate (``dense`` + ``apply_bias``); ``weight`` is ``(out, in)``.

    Example:
        >>> EqualizedLinear(32, 1, gain=1.0)(torch.randn(4, 2, 4, 4)).shape  # flattens its input, as dense()
        torch.Size([4, 1])
    """

    def __init__(
        self, in_features: int, out_features: int, *, gain: float = RELU_GAIN, use_wscale: bool = True
    ) -> None:
        super().__init__()
        std = gain / math.sqrt(in_features)
        self.scale = std if use_wscale else 1.0
        self.weight = nn.Parameter(torch.randn(out_features, in_features) * (1.0 if use_wscale else std))
        self.bias = nn.Parameter(torch.zeros(out_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x.flatten(1), self.weight * self.scale, self.bias)


class Generator(nn.Module):
    """``G_paper``: codes ``(N, latent)`` to images ``(N, channels, resolution, resolution)``, nominally in [-1, 1].

    ``forward(z, lod=None)``: ``lod`` defaults to the ``lod`` buffer (0: full detail).

    Example:
        >>> g = Generator(resolution=16, channels=3, fmap_base=128, fmap_max=32)
        >>> g(torch.randn(2, 32)).shape, g(torch.randn(2, 32), lod=1.5).shape
        (torch.Size([2, 3, 16, 16]), torch.Size([2, 3, 16, 16]))
    """

    def __init__(
        self,
        resolution: int = 32,
        channels: int = 1,
        fmap_base: int = 8192,
        fmap_decay: float = 1.0,
        fmap_max: int = 512,
        latent_size: int | None = None,
        *,
        normalize_latents: bool = True,
        use_wscale: bool = True,
        use_pixelnorm: bool = True,
        pixelnorm_epsilon: float = 1e-8,
        fused_scale: bool = True,
    ) -> None:
        super().__init__()
        self.resolution_log2 = int(math.log2(resolution))

        nf = functools.partial(feature_maps, fmap_base=fmap_base, fmap_decay=fmap_decay, fmap_max=fmap_max)

        self.latent_size = latent_size if latent_size is not None else nf(0)
        self.normalize_latents = normalize_latents
        self.use_pixelnorm = use_pixelnorm
        self.epsilon = pixelnorm_epsilon
        self.register_buffer("lod", torch.zeros(()))
        for r in range(2, self.resolution_log2 + 1):
            b = r - 2
            if r == 2:  # 4x4/Dense: gain sqrt(2)/4 on fan-in latent; a 4x4 conv with padding 3 on the 1x1 code
                first = EqualizedConv2d(
                    self.latent_size,
                    nf(1),
                    4,
                    gain=RELU_GAIN / 4,
                    use_wscale=use_wscale,
                    padding=3,
                    fan_in=self.latent_size,
                )
            elif fused_scale:  # {res}/Conv0_up
                first = EqualizedConv2d(nf(r - 2), nf(r - 1), 3, use_wscale=use_wscale, mode="up")
            else:  # upscale2d then {res}/Conv0
                first = EqualizedConv2d(nf(r - 2), nf(r - 1), 3, use_wscale=use_wscale)
            self.add_module(f"layer{2 * b}", first)
            self.add_module(f"layer{2 * b + 1}", EqualizedConv2d(nf(r - 1), nf(r - 1), 3, use_wscale=use_wscale))
            self.add_module(f"output{b}", EqualizedConv2d(nf(r - 1), channels, 1, gain=1.0, use_wscale=use_wscale))
        self.fused_scale = fused_scale

    def _norm(self, x: torch.Tensor) -> torch.Tensor:
        return pixel_norm(x, self.epsilon) if self.use_pixelnorm else x

    def _block(self, x: torch.Tensor, r: int) -> torch.Tensor:
        b = r - 2
        first, second = getattr(self, f"layer{2 * b}"), getattr(self, f"layer{2 * b + 1}")
        if r == 2:
            x = first(x.reshape(x.shape[0], -1, 1, 1))
        elif self.fused_scale:
            x = first(x)
        else:
            x = first(upscale2d(x))
        x = self._norm(F.leaky_relu(x, 0.2))
        return self._norm(F.leaky_relu(second(x), 0.2))

    def forward(self, z: torch.Tensor, lod: float | None = None) -> torch.Tensor:
        lod = float(self.lod) if lod is None else float(lod)
        big_r = self.resolution_log2
        if not 0.0 <= lod <= big_r - 2:
            raise ZooError(f"This ProGAN generator's lod runs from 0 to {big_r - 2}, not {lod:g}.")
        x = pixel_norm(z, self.epsilon) if self.normalize_latents else z
        image: torch.Tensor | None = None
        r_done = 2
        for r in range(2, big_r + 1):
            t = lod - (big_r - r)  # the weight of the lower resolution's image at this level
            if r > 2 and t >= 1.0:  # this level and the ones above it show the lower image, upscaled
                break
            x = self._block(x, r)
            rgb = getattr(self, f"output{r - 2}")(x)
            image = rgb if image is None else _lerp_clip(rgb, upscale2d(image), t)
            r_done = r
        assert image is not None
        return upscale2d(image, 2 ** (big_r - r_done))


class Discriminator(nn.Module):
    """``D_paper``: images ``(N, channels, resolution, resolution)`` to scores ``(N,)`` (no labels).

    ``forward(images, lod=None)``: ``lod`` defaults to the ``lod`` buffer. With a minibatch standard deviation
    group, the batch must be a multiple of the group size (or smaller than it).

    Example:
        >>> d = Discriminator(resolution=16, channels=3, fmap_base=128, fmap_max=32)
        >>> d(torch.randn(4, 3, 16, 16)).shape
        torch.Size([4])
    """

    def __init__(
        self,
        resolution: int = 32,
        channels: int = 1,
        fmap_base: int = 8192,
        fmap_decay: float = 1.0,
        fmap_max: int = 512,
        *,
        use_wscale: bool = True,
        mbstd_group_size: int = 4,
        fused_scale: bool = True,
    ) -> None:
        super().__init__()
        self.resolution_log2 = big_r = int(math.log2(resolution))

        nf = functools.partial(feature_maps, fmap_base=fmap_base, fmap_decay=fmap_decay, fmap_max=fmap_max)

        self.mbstd_group_size = mbstd_group_size
        self.fused_scale = fused_scale
        self.register_buffer("lod", torch.zeros(()))
        for r in range(big_r, 1, -1):
            i = big_r - r
            self.add_module(f"input{i}", EqualizedConv2d(channels, nf(r - 1), 1, use_wscale=use_wscale))
            if r > 2:
                self.add_module(f"layer{2 * i}", EqualizedConv2d(nf(r - 1), nf(r - 1), 3, use_wscale=use_wscale))
                mode = "down" if fused_scale else "same"
                self.add_module(
                    f"layer{2 * i + 1}", EqualizedConv2d(nf(r - 1), nf(r - 2), 3, use_wscale=use_wscale, mode=mode)
                )
            else:
                extra = 1 if mbstd_group_size > 1 else 0
                self.add_module(f"layer{2 * i}", EqualizedConv2d(nf(1) + extra, nf(1), 3, use_wscale=use_wscale))
                self.add_module(f"layer{2 * i + 1}", EqualizedLinear(nf(1) * 16, nf(0), use_wscale=use_wscale))
                self.add_module(f"layer{2 * i + 2}", EqualizedLinear(nf(0), 1, gain=1.0, use_wscale=use_wscale))

    def _block(self, x: torch.Tensor, r: int) -> torch.Tensor:
        i = self.resolution_log2 - r
        x = F.leaky_relu(getattr(self, f"layer{2 * i}")(x), 0.2)
        x = F.leaky_relu(getattr(self, f"layer{2 * i + 1}")(x), 0.2)
        return x if self.fused_scale else downscale2d(x)

    def forward(self, images: torch.Tensor, lod: float | None = None) -> torch.Tensor:
        lod = float(self.lod) if lod is None else float(lod)
        big_r = self.resolution_log2
        if not 0.0 <= lod <= big_r - 2:
            raise ZooError(f"This ProGAN critic's lod runs from 0 to {big_r - 2}, not {lod:g}.")
        x: torch.Tensor | None = None
        img = images
        for r in range(big_r, 2, -1):
            t = lod - (big_r - r)  # the weight of the lower resolution's features at this level
            if t >= 1.0:  # this level's features are replaced by the lower one's: skip its block
                img = downscale2d(img)
                continue
            if x is None:
                x = F.leaky_relu(getattr(self, f"input{big_r - r}")(img), 0.2)
            x = self._block(x, r)
            img = downscale2d(img)
            if t > 0.0:
                y = F.leaky_relu(getattr(self, f"input{big_r - r + 1}")(img), 0.2)
                x = _lerp_clip(x, y, t)
        if x is None:
            x = F.leaky_relu(getattr(self, f"input{big_r - 2}")(img), 0.2)
        if self.mbstd_group_size > 1:
            x = minibatch_stddev(x, self.mbstd_group_size)
        i = big_r - 2
        x = F.leaky_relu(getattr(self, f"layer{2 * i}")(x), 0.2)
        x = F.leaky_relu(getattr(self, f"layer{2 * i + 1}")(x), 0.2)
        return getattr(self, f"layer{2 * i + 2}")(x).view(-1)


def _power_of_two(value: int) -> bool:
    return value >= 4 and value & (value - 1) == 0


@dataclass
class ProGANConfig(ModelConfig):
    """``G_paper`` / ``D_paper``'s arguments, with the reference's defaults (``networks.py``).

    ``resolution`` (a power of two, 4 to 1024) and ``channels`` (``num_channels``): 32 and 1 by default, the
    reference's own defaults, which fit 32x32 grey digits; ``fmap_base`` 8192, ``fmap_decay`` 1,
    ``fmap_max`` 512 set the widths (smaller values give small models); ``latent_size`` ``None`` is
    ``nf(0) = min(fmap_base, fmap_max)``. ``fused_scale`` (True in ``networks.py``; False in the official
    CelebA-HQ networks, converted from Theano, and in genforce's port) chooses the fused up/down-sampling
    convolutions. ``mbstd_group_size`` 4 (0 or 1: no minibatch standard deviation; the official CelebA-HQ
    critic used 16). ``with_discriminator=False`` holds the generator alone (it samples but cannot train).
    ``with_ema`` (True) adds ``generator_ema``, the moving average of the generator that the reference keeps
    as ``Gs`` (``G_smoothing`` 0.999) and samples from; the converted upstream generators are ``Gs`` itself,
    held as ``generator`` with ``with_ema=False``.

    Example:
        >>> ProGANConfig(resolution=32, fmap_base=1024, fmap_max=128).latent_size is None
        True
    """

    resolution: int = field(default=32, metadata={"range": (4, 1024)})
    channels: int = field(default=1, metadata={"range": (1, 4)})
    fmap_base: int = 8192
    fmap_decay: float = field(default=1.0, metadata={"range": (0.0, 4.0)})
    fmap_max: int = 512
    latent_size: int | None = None
    normalize_latents: bool = True
    use_wscale: bool = True
    use_pixelnorm: bool = True
    pixelnorm_epsilon: float = field(default=1e-8, metadata={"range": (0.0, 1.0)})
    fused_scale: bool = True
    mbstd_group_size: int = field(default=4, metadata={"range": (0, 1024)})
    with_discriminator: bool = True
    with_ema: bool = True

    def validate(self) -> None:
        super().validate()
        if not _power_of_two(self.resolution):
            raise ZooError(f"ProGAN's resolution must be a power of two from 4 to 1024, not {self.resolution}.")
        if feature_maps(self.resolution_log2 - 1, self.fmap_base, self.fmap_decay, self.fmap_max) < 1:
            raise ZooError(
                f"fmap_base {self.fmap_base} leaves no feature maps at {self.resolution}x{self.resolution}; "
                f"raise fmap_base to at least {2 ** (self.resolution_log2 - 1)} (or lower fmap_decay)."
            )

    @property
    def resolution_log2(self) -> int:
        return int(math.log2(self.resolution))

    @property
    def latent(self) -> int:
        """The latent size in use: ``latent_size``, else ``nf(0)``."""
        if self.latent_size is not None:
            return self.latent_size
        return feature_maps(0, self.fmap_base, self.fmap_decay, self.fmap_max)

    @property
    def max_lod(self) -> int:
        """The coarsest level of detail, ``log2(resolution) - 2`` (4x4)."""
        return self.resolution_log2 - 2


class ProGAN(UnconditionalGenerator, ZooModel):
    """Karras et al.'s Progressive GAN: ``generator`` (``G_paper``), ``discriminator`` (``D_paper``) and, with
    ``with_ema``, ``generator_ema`` (the reference's ``Gs``: a moving average of ``generator``, not trained by
    gradients, its parameters frozen).

    ``sample(n, seed=...)`` draws z ~ N(0, I) shaped ``(n, latent)`` on the CPU, runs ``sampler`` (``Gs`` when
    held, else ``generator``) at its ``lod`` buffer (0 once grown) and maps the network's [-1, 1] range to
    [0, 1] (``drange_net`` to ``drange_data``, then clipped, as ``misc.convert_to_pil_image``).

    Example:
        >>> gan = zoo.create("progan", resolution=16, fmap_base=128, fmap_max=32)
        >>> gan.eval().sample(4, seed=0).shape
        torch.Size([4, 1, 16, 16])
    """

    architecture = "progan"
    config_class = ProGANConfig

    def __init__(self, config: ProGANConfig) -> None:
        super().__init__(config)
        c = config
        widths = {"fmap_base": c.fmap_base, "fmap_decay": c.fmap_decay, "fmap_max": c.fmap_max}
        self.generator = Generator(
            c.resolution,
            c.channels,
            **widths,
            latent_size=c.latent,
            normalize_latents=c.normalize_latents,
            use_wscale=c.use_wscale,
            use_pixelnorm=c.use_pixelnorm,
            pixelnorm_epsilon=c.pixelnorm_epsilon,
            fused_scale=c.fused_scale,
        )
        self.generator_ema: Generator | None = None
        if c.with_ema:  # Gs = G.clone() at the start of training (train.py), then a moving average of G
            self.generator_ema = copy.deepcopy(self.generator).requires_grad_(False)
        self.discriminator: Discriminator | None = None
        if c.with_discriminator:
            self.discriminator = Discriminator(
                c.resolution,
                c.channels,
                **widths,
                use_wscale=c.use_wscale,
                mbstd_group_size=c.mbstd_group_size,
                fused_scale=c.fused_scale,
            )

    def set_lod(self, lod: float) -> None:
        """Set the level of detail of both networks (``lod`` buffers), as the reference's ``tfutil.set_vars``."""
        if not 0.0 <= lod <= self.config.max_lod:
            raise ZooError(f"This ProGAN's lod runs from 0 to {self.config.max_lod}, not {lod:g}.")
        for net in (self.generator, self.generator_ema, self.discriminator):
            if net is not None:
                net.lod.fill_(lod)

    @property
    def sampler(self) -> Generator:
        """The generator that samples: ``generator_ema`` (``Gs``) when held, else ``generator``."""
        return self.generator_ema if self.generator_ema is not None else self.generator

    @torch.no_grad()
    def update_ema(self, beta: float = 0.999) -> None:
        """``Gs.setup_as_moving_average_of(G, beta)``: ``Gs = lerp(G, Gs, beta)`` for parameters, copies for buffers.

        Example:
            >>> gan.update_ema(0.0)  # Gs becomes a copy of G
        """
        if self.generator_ema is None:
            raise ZooError("This ProGAN holds no moving average of its generator (with_ema=false).")
        for ema, live in zip(self.generator_ema.parameters(), self.generator.parameters(), strict=True):
            ema.lerp_(live, 1.0 - beta)
        for ema, live in zip(self.generator_ema.buffers(), self.generator.buffers(), strict=True):
            ema.copy_(live)  # beta_nontrainable 0

    def generate(self, z: torch.Tensor, lod: float | None = None) -> torch.Tensor:
        """Images in [0, 1] (not clipped) of ``sampler`` for codes ``(N, latent)`` at ``lod`` (default: its own)."""
        if z.dim() != 2 or z.shape[1] != self.config.latent:
            raise ZooError(f"The ProGAN generator takes codes shaped (N, {self.config.latent}), not {tuple(z.shape)}.")
        return (self.sampler(z, lod) + 1.0) / 2.0

    def critique(self, x: torch.Tensor, lod: float | None = None) -> torch.Tensor:
        """The critic's score of each image (``(N, C, R, R)`` in [0, 1]): ``(N,)``, higher for real images."""
        if self.discriminator is None:
            raise ZooError("This ProGAN holds a generator only (with_discriminator=false); it has no critic.")
        size = (self.config.resolution, self.config.resolution)
        check_images(x, channels=self.config.channels, size=size, what="ProGAN critic")
        return self.discriminator(x * 2.0 - 1.0, lod)

    def sample_batch(self, n: int, generator: torch.Generator) -> torch.Tensor:
        z = torch.randn(n, self.config.latent, generator=generator).to(self.device, self.dtype)
        return self.generate(z)
