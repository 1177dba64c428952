"""PixelCNN (van den Oord, Kalchbrenner, Kavukcuoglu 2016, "Pixel Recurrent Neural Networks", section 3.4).

The network of the paper's Table 1 and Figure 5, for binary images (binarized MNIST, Table 4):

- a 7x7 convolution with mask A (the pixel itself is hidden) from the image to 2h features;
- ``n_residual`` residual blocks on 2h features: ReLU, 1x1 conv to h, ReLU, 3x3 conv with mask B,
  ReLU, 1x1 conv back to 2h, added to the block's input (Figure 5);
- the output head: ReLU, 1x1 conv (mask B) to ``head_channels``, ReLU, 1x1 conv (mask B) to one
  logit per colour channel: ``p(x_i = 1 | x_<i) = sigmoid(logit)`` (the paper's sigmoid output
  for MNIST; its 256-way softmax for 8-bit images is not built here).

Every convolution is a ``zoo_core.layers.MaskedConv2d``: for ``channels=3`` the features are split
into R, G, B groups and each colour sees the earlier ones at the same pixel (the paper's Figure 4);
for grey images the 1x1 mask-B convolutions are plain ones.

The default config is the MNIST model of the readable reference (EugenHotaj/pytorch-generative
``pixel_cnn.py``: 15 residual blocks, h = 16, so 32 features in the residual stream, head 32).
Module names are ours (``input_conv``, ``blocks.N.conv_in`` ...); the reference's own forward
adds each block's input twice (``x + layer(x)`` around a block that already returns ``x + ...``),
which we do not copy: our blocks are the paper's.

Example:
    >>> model = PixelCNN.from_config(n_residual=4)
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
from zoo_core.layers import MaskedConv2d
from zoo_core.modeling import (
    DensityModel,
    ModelConfig,
    UnconditionalGenerator,
    ZooModel,
    check_density_images,
    sample_in_batches,
)

__all__ = ["SAMPLING_METHODS", "PixelCNN", "PixelCNNConfig", "ResidualBlock"]

#: "fast": the cached generator (Ramachandran et al. 2017); "naive": the whole network once per pixel
SAMPLING_METHODS = ("fast", "naive")


@dataclass
class PixelCNNConfig(ModelConfig):
    """The reference's binarized-MNIST PixelCNN: 28x28 grey, 15 residual blocks, h = 16, head 32."""

    image_size: int = field(default=28, metadata={"range": (2, 256)})
    channels: int = field(default=1, metadata={"range": (1, 3)})  # 1 (grey) or 3 (RGB, channel groups)
    n_residual: int = field(default=15, metadata={"range": (0, 64)})  # residual blocks of 3x3 mask-B convs
    residual_channels: int = field(default=16, metadata={"range": (1, 4096)})  # h: blocks run on 2h features
    head_channels: int = field(default=32, metadata={"range": (1, 4096)})
    input_kernel: int = field(default=7, metadata={"range": (3, 15)})  # the first (mask A) layer's kernel

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.channels not in (1, 3):
            raise ZooError(f"PixelCNN models grey (channels=1) or RGB (channels=3) images, not {self.channels}.")
        if self.input_kernel % 2 == 0:
            raise ZooError(f"PixelCNN's input_kernel must be odd (7 in the paper), not {self.input_kernel}.")
        if self.channels == 3 and (self.residual_channels % 3 or self.head_channels % 3):
            raise ZooError(
                "An RGB PixelCNN splits its features into R, G and B groups, so residual_channels and "
                f"head_channels must be multiples of 3, not {self.residual_channels} and {self.head_channels}."
            )


class ResidualBlock(nn.Module):
    """The paper's Figure 5: 2h -> ReLU, 1x1 -> h -> ReLU, 3x3 mask B -> h -> ReLU, 1x1 -> 2h, plus the input."""

    def __init__(self, h: int, data_channels: int) -> None:
        super().__init__()
        self.conv_in = MaskedConv2d(2 * h, h, 1, "B", data_channels)
        self.conv = MaskedConv2d(h, h, 3, "B", data_channels)
        self.conv_out = MaskedConv2d(h, 2 * h, 1, "B", data_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(F.relu(self.conv_in(F.relu(x))))
        return x + self.conv_out(F.relu(y))


class PixelCNN(UnconditionalGenerator, DensityModel, ZooModel):
    """PixelCNN for binary images; ``forward(x)`` maps 0/1 images to one logit per pixel ``(B, C, H, W)``.

    Example:
        >>> model = zoo.load("pixelcnn.mnist")
        >>> model.pixel_levels
        2
        >>> a = model.sample(16, seed=0)
        >>> torch.equal(a, model.sample(16, seed=0, method="naive"))  # the same images, ~100x slower
        True
    """

    architecture = "pixelcnn"
    config_class = PixelCNNConfig
    pixel_levels = 2
    sample_batch_size = 64

    def __init__(self, config: PixelCNNConfig) -> None:
        super().__init__(config)
        c, h = config.channels, config.residual_channels
        self.input_conv = MaskedConv2d(c, 2 * h, config.input_kernel, "A", c)
        self.blocks = nn.ModuleList(ResidualBlock(h, c) for _ in range(config.n_residual))
        self.head_in = MaskedConv2d(2 * h, config.head_channels, 1, "B", c)
        self.head_out = MaskedConv2d(config.head_channels, c, 1, "B", c)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The logit of ``p(x[:, k, i, j] = 1 | earlier pixels and colours)`` for every pixel of ``x``."""
        x = self.input_conv(x)
        for block in self.blocks:
            x = block(x)
        return self.head_out(F.relu(self.head_in(F.relu(x))))

    # -- the task verbs --------------------------------------------------------------------
    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """Log-likelihood in nats of each binary image (``(N, C, H, W)``, values 0. or 1.): ``(N,)``.

        Example:
            >>> digits = load_dataset("mnist5k", split="test", binarize="stochastic").tensors()
            >>> -model.log_prob(digits).mean()   # the held-out NLL in nats (nll-binarized)
        """
        c = self.config
        check_density_images(x, pixel_levels=2, channels=c.channels, size=(c.image_size, c.image_size), what="PixelCNN")
        x = x.to(self.device, self.dtype)
        nll = F.binary_cross_entropy_with_logits(self(x), x, reduction="none")
        return -nll.sum(dim=(1, 2, 3))

    def sample_batch(
        self, n: int, generator: torch.Generator, *, method: str = "fast", progress: bool = False
    ) -> torch.Tensor:
        from .sampling import sample_cached, sample_naive

        sampler = sample_cached if method == "fast" else sample_naive
        return sampler(self, n, generator, progress=progress)

    def sample(self, n: int, *, seed: int | None = None, progress: bool = False, method: str = "fast") -> torch.Tensor:
        """Draw ``n`` binary images (0. / 1.), ``(n, C, H, W)``; the same seed gives the same images.

        ``method="fast"`` (default) is the cached generator of Ramachandran et al. (2017): every
        layer computes each pixel once, from caches of the rows its kernel still needs; ``"naive"``
        re-runs the whole network for every pixel (and colour). Both draw the same images from one
        seed (the same uniform noise, one number per pixel). Runs in eval mode without gradients.

        Example:
            >>> model.sample(16, seed=0, progress=True).shape
            torch.Size([16, 1, 28, 28])
        """

        def draw(count: int, generator: torch.Generator) -> torch.Tensor:
            return self.sample_batch(count, generator, method=method, progress=progress)

        return sample_in_batches(n, seed, self.sample_batch_size, draw, method=method, methods=SAMPLING_METHODS)

    def extra_repr(self) -> str:
        c = self.config
        return (
            f"{c.channels}x{c.image_size}x{c.image_size}, n_residual={c.n_residual}, "
            f"h={c.residual_channels}, head={c.head_channels}"
        )
