"""Gated PixelCNN (van den Oord, Kalchbrenner, Vinyals, Espeholt, Graves, Kavukcuoglu 2016,
"Conditional Image Generation with PixelCNN Decoders", section 2 and Figure 2), unconditional, for binary images.

Each gated layer has two stacks, which together see every earlier pixel (no blind spot):

- the vertical stack: a ``(k // 2 + 1) x k`` convolution over the rows above and the current row
  (the upper half of a ``k x k`` kernel), 2p features, gated ``tanh(a) * sigmoid(b)`` to p features;
- the horizontal stack: a ``1 x (k // 2 + 1)`` convolution over the current row up to the pixel
  (mask B; the first layer's ``1 x k // 2`` stops left of it: mask A), plus a 1x1 convolution of the
  vertical stack's 2p pre-activations *shifted down one row* (the vertical-to-horizontal link, so
  that the horizontal stack at row r sees the vertical stack's view of rows < r only), gated to p
  features, then a 1x1 convolution added to the layer's horizontal input (the residual
  connection; not in the first layer, whose input is the image) and another 1x1 convolution to
  the skip connections. The last layer keeps only its skip output (its vertical and horizontal
  outputs would feed nothing: the reference computes them and discards them).

The first layer reads the image with ``input_kernel`` (7) and is followed by ``n_gated`` layers of
kernel 3; the skip connections are summed and go through the head: ReLU, 1x1 to
``head_channels``, ReLU, 1x1 to one logit per pixel, ``p(x_ij = 1 | x_<ij) = sigmoid(logit)``
(``pixel_levels=2``, binary images: the default), or to 256 logits per pixel, a softmax over the
8-bit grey levels k / 255 (``pixel_levels=256``: the paper's 256-way softmax).
The default config is the readable reference's MNIST model (EugenHotaj/pytorch-generative
``gated_pixel_cnn.py``: 10 gated layers after the first, 128 features, head 32); unlike it, the
vertical stack here is the paper's single ``(k // 2 + 1) x k`` convolution (the reference
factorises it into ``1 x k`` then ``(k // 2 + 1) x 1``) and the link reads the pre-activations.

Grey images only (``channels = 1``): RGB would need the paper's colour masks inside the
horizontal stack, which are not built.

Example:
    >>> model = GatedPixelCNN.from_config(n_gated=4, gated_channels=32)
    >>> model.eval().log_prob(binary_digits)   # nats per image, (N,)
    >>> model.sample(16, seed=0).shape          # cached fast generation
    torch.Size([16, 1, 28, 28])
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from zoo_core import ZooError
from zoo_core.modeling import (
    DensityModel,
    ModelConfig,
    UnconditionalGenerator,
    ZooModel,
    check_density_images,
    sample_in_batches,
)

__all__ = ["SAMPLING_METHODS", "GatedLayer", "GatedPixelCNN", "GatedPixelCNNConfig", "gate", "pixel_nll"]

#: "fast": the cached generator (Ramachandran et al. 2017); "naive": the whole network once per pixel
SAMPLING_METHODS = ("fast", "naive")


def pixel_nll(logits: torch.Tensor, x: torch.Tensor, pixel_levels: int) -> torch.Tensor:
    """Nats per image ``(N,)`` of grey images ``x`` under ``forward``'s logits: Bernoulli (2 levels) or softmax (256).

    Example:
        >>> pixel_nll(model(x), x, 2).mean()   # what training minimises
    """
    if pixel_levels == 2:
        return F.binary_cross_entropy_with_logits(logits, x.to(logits.dtype), reduction="none").flatten(1).sum(1)
    levels = (x[:, 0] * (pixel_levels - 1)).round().long()  # (N, H, W)
    return F.cross_entropy(logits, levels, reduction="none").flatten(1).sum(1)


def gate(x: torch.Tensor) -> torch.Tensor:
    """The paper's gated activation: ``tanh(a) * sigmoid(b)`` of the two halves of the channels (dim 1)."""
    a, b = x.chunk(2, dim=1)
    return torch.tanh(a) * torch.sigmoid(b)


@dataclass
class GatedPixelCNNConfig(ModelConfig):
    """The reference's binarized-MNIST Gated PixelCNN: 28x28 grey, 1 + 10 gated layers of 128 features, head 32."""

    image_size: int = field(default=28, metadata={"range": (2, 256)})
    channels: int = field(default=1, metadata={"range": (1, 1)})  # grey only
    n_gated: int = field(default=10, metadata={"range": (0, 64)})  # gated layers after the first
    gated_channels: int = field(default=128, metadata={"range": (1, 4096)})  # p
    head_channels: int = field(default=32, metadata={"range": (1, 4096)})
    pixel_levels: int = field(default=2, metadata={"range": (2, 256)})  # 2 (binary, sigmoid) or 256 (softmax)
    input_kernel: int = field(default=7, metadata={"range": (3, 15)})
    kernel: int = field(default=3, metadata={"range": (3, 15)})

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.pixel_levels not in (2, 256):
            raise ZooError(
                f"Gated PixelCNN models binary pixels (pixel_levels=2) or 8-bit grey levels (pixel_levels=256), "
                f"not pixel_levels={self.pixel_levels}."
            )
        if self.input_kernel % 2 == 0 or self.kernel % 2 == 0:
            raise ZooError(
                f"Gated PixelCNN's kernels are centred, so input_kernel and kernel must be odd "
                f"(7 and 3 in the paper), not {self.input_kernel} and {self.kernel}."
            )


class GatedLayer(nn.Module):
    """One gated layer (the paper's Figure 2): ``(v, h) -> (v', h', skip)``; ``first``: mask A, no residual."""

    def __init__(self, in_channels: int, p: int, kernel: int, first: bool, last: bool = False) -> None:
        super().__init__()
        self.kernel, self.first, self.last = kernel, first, last
        half = kernel // 2
        self.v_conv = nn.Conv2d(in_channels, 2 * p, (half + 1, kernel))
        self.v_to_h = nn.Conv2d(2 * p, 2 * p, 1)
        self.h_conv = nn.Conv2d(in_channels, 2 * p, (1, half if first else half + 1))
        # the last layer's horizontal output would feed nothing (the head reads the skips): it has none
        self.h_out = None if last else nn.Conv2d(p, p, 1)
        self.skip = nn.Conv2d(p, p, 1)

    def forward(
        self, v: torch.Tensor, h: torch.Tensor
    ) -> tuple[torch.Tensor | None, torch.Tensor | None, torch.Tensor]:
        """``(v', h', skip)``; the last layer returns ``None`` for ``v'`` and ``h'``, which nothing reads."""
        height, width = v.shape[-2:]
        half = self.kernel // 2
        v_pre = self.v_conv(F.pad(v, (half, half, half, 0)))  # row r reads rows r - half .. r
        link = self.v_to_h(F.pad(v_pre, (0, 0, 1, 0))[:, :, :height])  # shifted down: rows < r only
        h_pre = self.h_conv(F.pad(h, (half, 0, 0, 0)))[..., :width] + link  # columns up to c (c - 1: mask A)
        gated = gate(h_pre)
        if self.h_out is None:
            return None, None, self.skip(gated)
        h_new = self.h_out(gated)
        if not self.first:
            h_new = h_new + h
        return gate(v_pre), h_new, self.skip(gated)


class GatedPixelCNN(UnconditionalGenerator, DensityModel, ZooModel):
    """Gated PixelCNN for binary images; ``forward(x)`` maps 0/1 images to one logit per pixel ``(B, 1, H, W)``.

    Example:
        >>> model = zoo.load("gated-pixelcnn.mnist")
        >>> model.pixel_levels
        2
        >>> torch.equal(model.sample(4, seed=0), model.sample(4, seed=0, method="naive"))
        True
    """

    architecture = "gated-pixelcnn"
    config_class = GatedPixelCNNConfig
    sample_batch_size = 64

    @property
    def pixel_levels(self) -> int:  # type: ignore[override]  # the config's: 2 (binary) or 256 (8-bit)
        """2 (binary pixels, one sigmoid each) or 256 (8-bit grey levels, a softmax each): the config's."""
        return self.config.pixel_levels

    def __init__(self, config: GatedPixelCNNConfig) -> None:
        super().__init__(config)
        p = config.gated_channels
        n = config.n_gated
        self.layers = nn.ModuleList(
            [GatedLayer(config.channels, p, config.input_kernel, first=True, last=n == 0)]
            + [GatedLayer(p, p, config.kernel, first=False, last=k == n - 1) for k in range(n)]
        )
        self.head_in = nn.Conv2d(p, config.head_channels, 1)
        outputs = config.channels * (1 if config.pixel_levels == 2 else config.pixel_levels)
        self.head_out = nn.Conv2d(config.head_channels, outputs, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Every pixel's logits given the earlier pixels: ``(B, 1, H, W)`` (the logit of ``x = 1``) for binary
        images, ``(B, 256, H, W)`` (the grey levels' unnormalised log-probabilities) for 8-bit ones."""
        v, h, skips = x, x, 0
        for layer in self.layers:
            v, h, skip = layer(v, h)
            skips = skips + skip
        return self.head_out(F.relu(self.head_in(F.relu(skips))))

    # -- the task verbs --------------------------------------------------------------------
    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """Log-likelihood in nats of each image ``(N, 1, H, W)``: ``(N,)``; binary (0. / 1.) or 8-bit (k / 255) pixels.

        Example:
            >>> digits = load_dataset("mnist5k", split="test", binarize="stochastic").tensors()
            >>> -model.log_prob(digits).mean()   # the held-out NLL in nats (nll-binarized)
        """
        c = self.config
        check_density_images(
            x,
            pixel_levels=c.pixel_levels,
            channels=c.channels,
            size=(c.image_size, c.image_size),
            what="Gated PixelCNN",
        )
        return -pixel_nll(self(x.to(self.device, self.dtype)), x.to(self.device), c.pixel_levels)

    def sample_batch(
        self, n: int, generator: torch.Generator, *, method: str = "fast", progress: bool = False
    ) -> torch.Tensor:
        from .sampling import sample_cached, sample_naive

        sampler = sample_cached if method == "fast" else sample_naive
        return sampler(self, n, generator, progress=progress)

    def sample(self, n: int, *, seed: int | None = None, progress: bool = False, method: str = "fast") -> torch.Tensor:
        """Draw ``n`` images, ``(n, 1, H, W)``: binary (0. / 1.) or 8-bit (k / 255); the same seed, the same images.

        ``method="fast"`` (default) is the cached generator of Ramachandran et al. (2017): the
        vertical stack runs once per image row, the horizontal stack once per pixel; ``"naive"``
        re-runs the whole network for every pixel. Both draw the same images from one seed.

        Example:
            >>> model.sample(16, seed=0, progress=True).shape
            torch.Size([16, 1, 28, 28])
        """

        def draw(count: int, generator: torch.Generator) -> torch.Tensor:
            return self.sample_batch(count, generator, method=method, progress=progress)

        return sample_in_batches(n, seed, self.sample_batch_size, draw, method=method, methods=SAMPLING_METHODS)

    def extra_repr(self) -> str:
        c = self.config
        return f"1x{c.image_size}x{c.image_size}, 1 + {c.n_gated} gated layers, p={c.gated_channels}"
