"""PixelCNN++ (Salimans, Karpathy, Chen, Kingma 2017) as openai/pixel-cnn and pclucas14/pixel-cnn-pp define it.

Two streams run side by side: ``u`` (down-shifted 2x3 convolutions: the rows above) and
``ul`` (down-right-shifted 2x2: the pixels above and to the left; each ul block also reads the
u stream). The up pass runs three stages of ``nr_resnet`` gated ResNet blocks with two
stride-2 down-samplings and keeps every intermediate map; the down pass runs ``nr_resnet``,
``nr_resnet + 1`` and ``nr_resnet + 1`` blocks with two stride-2 transposed convolutions, each
block taking the matching up-pass map as a skip input (through ``nin_skip``). The output is a
1x1 layer on ``elu(ul)`` to the parameters of a discretised logistic mixture per pixel
(``likelihood.py``). All layers are weight-normalised (``layers.py``).

The module tree and the parameter names are pclucas14's (``up_layers.0.u_stream.0.conv_input
.conv.weight_g`` ...; 53,659,080 parameters in the paper's CIFAR-10 configuration, the default
here), so its checkpoints load after the ``module.`` prefix is dropped (``convert.py``).

Deviations, also in the model card: no data-dependent initialisation (openai/pixel-cnn has
one; pclucas14 has none and reaches 2.95 bits/dim), element-wise dropout (openai) rather than
pclucas14's ``Dropout2d``; samples rounded to 256 levels between steps (``likelihood.py``).
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

from .layers import (
    DownRightShiftedConv2d,
    DownRightShiftedConvTranspose2d,
    DownShiftedConv2d,
    DownShiftedConvTranspose2d,
    GatedResNet,
    NetworkInNetwork,
)
from .likelihood import mixture_log_prob, num_outputs, quantize

__all__ = ["PixelCNNPP", "PixelCNNPPConfig"]

SAMPLING_METHODS = ("fast", "naive")


@dataclass
class PixelCNNPPConfig(ModelConfig):
    """The paper's CIFAR-10 model by default: 32x32 RGB, 5 blocks per stage, 160 filters, 10 logistics."""

    image_size: int = 32
    channels: int = 3
    nr_resnet: int = field(default=5, metadata={"range": (1, 64)})  # blocks per stage (the paper: 5)
    nr_filters: int = 160
    nr_logistic_mix: int = 10
    dropout: float = field(default=0.5, metadata={"range": (0.0, 1.0)})

    def __post_init__(self) -> None:
        super().__post_init__()  # types and ranges first
        if self.channels not in (1, 3):
            raise ZooError(f"PixelCNN++ models grey (channels=1) or RGB (channels=3) images, not {self.channels}.")
        if self.image_size < 4 or self.image_size % 4:
            raise ZooError(
                f"PixelCNN++ halves the image twice and doubles it back, so image_size must be a multiple of 4 "
                f"(28 or 32, say), not {self.image_size}."
            )
        if min(self.nr_resnet, self.nr_filters, self.nr_logistic_mix) < 1:
            raise ZooError("nr_resnet, nr_filters and nr_logistic_mix must each be at least 1.")
        if not 0.0 <= self.dropout < 1.0:
            raise ZooError(f"dropout is a probability in [0, 1), not {self.dropout}.")


class PixelCNNLayerUp(nn.Module):
    """One up-pass stage: ``nr_resnet`` blocks per stream; returns every block's output."""

    def __init__(self, nr_resnet: int, nr_filters: int, dropout: float) -> None:
        super().__init__()
        self.u_stream = nn.ModuleList(GatedResNet(nr_filters, DownShiftedConv2d, 0, dropout) for _ in range(nr_resnet))
        self.ul_stream = nn.ModuleList(
            GatedResNet(nr_filters, DownRightShiftedConv2d, 1, dropout) for _ in range(nr_resnet)
        )

    def forward(self, u: torch.Tensor, ul: torch.Tensor) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        u_list, ul_list = [], []
        for u_block, ul_block in zip(self.u_stream, self.ul_stream, strict=True):
            u = u_block(u)
            ul = ul_block(ul, a=u)
            u_list.append(u)
            ul_list.append(ul)
        return u_list, ul_list


class PixelCNNLayerDown(nn.Module):
    """One down-pass stage: each block takes the matching up-pass map (popped from the lists) as skip input."""

    def __init__(self, nr_resnet: int, nr_filters: int, dropout: float) -> None:
        super().__init__()
        self.u_stream = nn.ModuleList(GatedResNet(nr_filters, DownShiftedConv2d, 1, dropout) for _ in range(nr_resnet))
        self.ul_stream = nn.ModuleList(
            GatedResNet(nr_filters, DownRightShiftedConv2d, 2, dropout) for _ in range(nr_resnet)
        )

    def forward(
        self, u: torch.Tensor, ul: torch.Tensor, u_list: list[torch.Tensor], ul_list: list[torch.Tensor]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        for u_block, ul_block in zip(self.u_stream, self.ul_stream, strict=True):
            u = u_block(u, a=u_list.pop())
            ul = ul_block(ul, a=torch.cat([u, ul_list.pop()], dim=1))
        return u, ul


class PixelCNNPP(UnconditionalGenerator, DensityModel, ZooModel):
    """PixelCNN++; ``forward(x)`` maps images on [-1, 1] to mixture parameters ``(B, outputs, H, W)``.

    Example:
        >>> model = PixelCNNPP.from_config(image_size=28, channels=1, nr_resnet=2, nr_filters=32)
        >>> model.eval().bits_per_dim(images).mean()  # images (N, 1, 28, 28) on [0, 1]
        >>> model.sample(4, seed=0, method="fast").shape
        torch.Size([4, 1, 28, 28])
    """

    architecture = "pixelcnnpp"
    config_class = PixelCNNPPConfig
    sample_batch_size = 64
    pixel_levels = 256  # a discretised logistic mixture over the 8-bit levels

    def __init__(self, config: PixelCNNPPConfig) -> None:
        super().__init__(config)
        nr_resnet, nf, p = config.nr_resnet, config.nr_filters, config.dropout
        inputs = config.channels + 1  # the image and a channel of ones, so that padding is visible
        self.up_layers = nn.ModuleList(PixelCNNLayerUp(nr_resnet, nf, p) for _ in range(3))
        self.down_layers = nn.ModuleList(PixelCNNLayerDown(n, nf, p) for n in (nr_resnet, nr_resnet + 1, nr_resnet + 1))
        self.downsize_u_stream = nn.ModuleList(DownShiftedConv2d(nf, nf, stride=(2, 2)) for _ in range(2))
        self.downsize_ul_stream = nn.ModuleList(DownRightShiftedConv2d(nf, nf, stride=(2, 2)) for _ in range(2))
        self.upsize_u_stream = nn.ModuleList(DownShiftedConvTranspose2d(nf, nf) for _ in range(2))
        self.upsize_ul_stream = nn.ModuleList(DownRightShiftedConvTranspose2d(nf, nf) for _ in range(2))
        self.u_init = DownShiftedConv2d(inputs, nf, (2, 3), shift_output_down=True)
        self.ul_init = nn.ModuleList(
            [
                DownShiftedConv2d(inputs, nf, (1, 3), shift_output_down=True),
                DownRightShiftedConv2d(inputs, nf, (2, 1), shift_output_right=True),
            ]
        )
        self.nin_out = NetworkInNetwork(nf, num_outputs(config.channels, config.nr_logistic_mix))

    # -- the reference's network -----------------------------------------------------------
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Mixture parameters of every pixel of ``x`` (``(B, C, H, W)`` on [-1, 1]); each sees only earlier pixels."""
        ones = torch.ones_like(x[:, :1])
        x = torch.cat([x, ones], dim=1)
        u_list = [self.u_init(x)]
        ul_list = [self.ul_init[0](x) + self.ul_init[1](x)]
        for i in range(3):
            u_out, ul_out = self.up_layers[i](u_list[-1], ul_list[-1])
            u_list += u_out
            ul_list += ul_out
            if i != 2:
                u_list.append(self.downsize_u_stream[i](u_list[-1]))
                ul_list.append(self.downsize_ul_stream[i](ul_list[-1]))
        u, ul = u_list.pop(), ul_list.pop()
        for i in range(3):
            u, ul = self.down_layers[i](u, ul, u_list, ul_list)
            if i != 2:
                u = self.upsize_u_stream[i](u)
                ul = self.upsize_ul_stream[i](ul)
        return self.nin_out(F.elu(ul))

    # -- the task verbs --------------------------------------------------------------------
    def _check(self, x: torch.Tensor) -> None:
        c = self.config
        check_density_images(
            x, pixel_levels=self.pixel_levels, channels=c.channels, size=(c.image_size, c.image_size), what="PixelCNN++"
        )

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """Log-likelihood in nats of each image (``(N, C, H, W)`` on [0, 1], read as 8-bit levels): ``(N,)``.

        Example:
            >>> nats = model.eval().log_prob(images)
            >>> bpd = -nats / (images[0].numel() * math.log(2))  # or model.bits_per_dim(images)
        """
        self._check(x)
        data = quantize(x.to(self.dtype) * 2 - 1)
        return mixture_log_prob(data, self(data)).sum(dim=(1, 2))

    def sample_batch(self, n: int, generator: torch.Generator, *, method: str = "fast", progress: bool = False):
        from .sampling import sample_cached, sample_naive

        sampler = sample_cached if method == "fast" else sample_naive
        return (sampler(self, n, generator, progress=progress) + 1) / 2

    def sample(self, n: int, *, seed: int | None = None, progress: bool = False, method: str = "fast") -> torch.Tensor:
        """Draw ``n`` images on [0, 1] (256 levels), ``(n, C, H, W)``; the same seed gives the same images.

        ``method="fast"`` (default) runs the cached generator of Ramachandran et al. (2017), which
        recomputes only what the last pixel changed; ``"naive"`` re-runs the whole network for
        every pixel, as the reference does. Both draw the same images from the same seed.
        ``progress`` shows a bar over the pixels. Runs in eval mode (no dropout) without gradients,
        by the base class.

        Example:
            >>> a = model.sample(16, seed=0)
            >>> b = model.sample(16, seed=0, method="naive")  # slower, the same images
            >>> torch.equal(a, b)
            True
        """

        def draw(count: int, generator: torch.Generator) -> torch.Tensor:
            return self.sample_batch(count, generator, method=method, progress=progress)

        return sample_in_batches(n, seed, self.sample_batch_size, draw, method=method, methods=SAMPLING_METHODS)

    def extra_repr(self) -> str:
        c = self.config
        return f"{c.channels}x{c.image_size}x{c.image_size}, nr_resnet={c.nr_resnet}, nr_filters={c.nr_filters}"
