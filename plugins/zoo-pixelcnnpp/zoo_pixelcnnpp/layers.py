"""The layers of PixelCNN++: weight-normalised shifted convolutions, network-in-network, gated ResNet blocks.

Causality comes from shifting, not masking (Salimans et al. 2017, section 2.5): a
*down-shifted* convolution pads only above (and symmetrically left / right), so an output
sees its own row and the rows above; a *down-right-shifted* one pads above and to the left,
so it sees the pixels above and to the left. The first layers shift their output one row
down (or one column right) so that no output sees its own pixel.

Every convolution and 1x1 layer carries weight normalisation (Salimans & Kingma 2016):
``weight = g * v / ||v||`` with the norm over all dimensions but the first, as
``torch.nn.utils.weight_norm(module)`` with its default ``dim=0``. The parameters are called
``weight_g`` / ``weight_v`` and the modules keep the attribute names of pclucas14/pixel-cnn-pp
(``conv``, ``deconv``, ``lin_a``, ``conv_input``, ``nin_skip``, ``conv_out``), so its state
dicts load with ``strict=True``. As there, a transposed convolution's norm runs over its first
dimension, which is the *input* channels (openai/pixel-cnn normalises per output filter).

Dropout is element-wise, as openai/pixel-cnn's ``tf.nn.dropout`` (pclucas14 uses
``Dropout2d``, which drops whole channels).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "DownRightShiftedConv2d",
    "DownRightShiftedConvTranspose2d",
    "DownShiftedConv2d",
    "DownShiftedConvTranspose2d",
    "GatedResNet",
    "NetworkInNetwork",
    "WNConv2d",
    "WNConvTranspose2d",
    "WNLinear",
    "concat_elu",
    "down_shift",
    "right_shift",
]


def concat_elu(x: torch.Tensor) -> torch.Tensor:
    """ELU of ``[x, -x]`` along channels (a concatenated ReLU with ELUs): doubles the channels."""
    return F.elu(torch.cat([x, -x], dim=1))


def down_shift(x: torch.Tensor) -> torch.Tensor:
    """Shift a feature map one row down: a zero row on top, the last row dropped."""
    return F.pad(x[:, :, :-1, :], (0, 0, 1, 0))


def right_shift(x: torch.Tensor) -> torch.Tensor:
    """Shift a feature map one column right: a zero column on the left, the last column dropped."""
    return F.pad(x[:, :, :, :-1], (1, 0, 0, 0))


class _WeightNorm(nn.Module):
    """``weight_v`` (direction), ``weight_g`` (norm, one per slice of dim 0) and ``bias``."""

    def __init__(self, v_shape: tuple[int, ...], bias: int) -> None:
        super().__init__()
        self.weight_v = nn.Parameter(torch.empty(v_shape))
        self.weight_g = nn.Parameter(torch.empty((v_shape[0],) + (1,) * (len(v_shape) - 1)))
        self.bias = nn.Parameter(torch.empty(bias))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # PyTorch's default init of the wrapped layer, then weight_norm's g = ||v||
        nn.init.kaiming_uniform_(self.weight_v, a=math.sqrt(5))
        fan_in, _ = nn.init._calculate_fan_in_and_fan_out(self.weight_v)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        nn.init.uniform_(self.bias, -bound, bound)
        if self.weight_v.is_meta:  # built to receive weights: no values to take a norm of
            return
        with torch.no_grad():
            dims = tuple(range(1, self.weight_v.dim()))
            self.weight_g.copy_(torch.linalg.vector_norm(self.weight_v, dim=dims, keepdim=True))

    @property
    def weight(self) -> torch.Tensor:
        """``g * v / ||v||``: the same kernel as ``torch.nn.utils.weight_norm`` computes."""
        return torch._weight_norm(self.weight_v, self.weight_g, 0)


class WNConv2d(_WeightNorm):
    """A weight-normalised ``Conv2d`` without padding (the shifted wrappers pad)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: tuple[int, int], stride=(1, 1)) -> None:
        self.kernel_size, self.stride = tuple(kernel_size), tuple(stride)
        super().__init__((out_channels, in_channels, *self.kernel_size), out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight, self.bias, self.stride)


class WNConvTranspose2d(_WeightNorm):
    """A weight-normalised ``ConvTranspose2d`` with ``output_padding=1`` (weight ``(in, out, kh, kw)``)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: tuple[int, int], stride=(2, 2)) -> None:
        self.kernel_size, self.stride = tuple(kernel_size), tuple(stride)
        super().__init__((in_channels, out_channels, *self.kernel_size), out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv_transpose2d(x, self.weight, self.bias, self.stride, output_padding=1)


class WNLinear(_WeightNorm):
    """A weight-normalised ``Linear``."""

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__((out_features, in_features), out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight, self.bias)


class NetworkInNetwork(nn.Module):
    """A 1x1 convolution written as a ``Linear`` over the channels (the reference's ``nin``)."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.lin_a = WNLinear(in_channels, out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.lin_a(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class DownShiftedConv2d(nn.Module):
    """Sees its own row and the rows above: pad ``kh - 1`` rows on top, ``(kw - 1) / 2`` columns each side."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: tuple[int, int] = (2, 3),
        stride: tuple[int, int] = (1, 1),
        shift_output_down: bool = False,
    ) -> None:
        super().__init__()
        kh, kw = kernel_size
        self.conv = WNConv2d(in_channels, out_channels, kernel_size, stride)
        self.padding = ((kw - 1) // 2, (kw - 1) // 2, kh - 1, 0)
        self.shift_output_down = shift_output_down

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(F.pad(x, self.padding))
        return down_shift(x) if self.shift_output_down else x


class DownRightShiftedConv2d(nn.Module):
    """Sees the pixels above and to the left (and its own): pad ``kh - 1`` rows on top, ``kw - 1`` columns left."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: tuple[int, int] = (2, 2),
        stride: tuple[int, int] = (1, 1),
        shift_output_right: bool = False,
    ) -> None:
        super().__init__()
        kh, kw = kernel_size
        self.conv = WNConv2d(in_channels, out_channels, kernel_size, stride)
        self.padding = (kw - 1, 0, kh - 1, 0)
        self.shift_output_right = shift_output_right

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(F.pad(x, self.padding))
        return right_shift(x) if self.shift_output_right else x


class DownShiftedConvTranspose2d(nn.Module):
    """Stride-2 upsampling that keeps the down-shifted stream causal: crop the extra bottom row and side columns."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size=(2, 3), stride=(2, 2)) -> None:
        super().__init__()
        self.deconv = WNConvTranspose2d(in_channels, out_channels, kernel_size, stride)
        self.kernel_size = tuple(kernel_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.deconv(x)
        kh, kw = self.kernel_size
        side = (kw - 1) // 2
        return x[:, :, : x.shape[2] - kh + 1, side : x.shape[3] - side]


class DownRightShiftedConvTranspose2d(nn.Module):
    """Stride-2 upsampling for the down-right-shifted stream: crop the extra bottom rows and right columns."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size=(2, 2), stride=(2, 2)) -> None:
        super().__init__()
        self.deconv = WNConvTranspose2d(in_channels, out_channels, kernel_size, stride)
        self.kernel_size = tuple(kernel_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.deconv(x)
        kh, kw = self.kernel_size
        return x[:, :, : x.shape[2] - kh + 1, : x.shape[3] - kw + 1]


class GatedResNet(nn.Module):
    """``x + a * sigmoid(b)`` where ``[a, b] = conv_out(dropout(concat_elu(conv_input(concat_elu(x)) + nin(skip))))``.

    ``skip_inputs`` is how many feature maps of ``nr_filters`` channels arrive as the auxiliary
    input ``a`` (0: none; 1: the u stream for the ul stream, or an up-pass map in the down pass;
    2: the down pass's ul block, which gets ``[u, ul_skip]``).
    """

    def __init__(self, nr_filters: int, conv: type[nn.Module], skip_inputs: int = 0, dropout: float = 0.5) -> None:
        super().__init__()
        self.skip_inputs = skip_inputs
        self.conv_input = conv(2 * nr_filters, nr_filters)
        if skip_inputs:
            self.nin_skip = NetworkInNetwork(2 * skip_inputs * nr_filters, nr_filters)
        self.dropout = nn.Dropout(dropout)
        self.conv_out = conv(2 * nr_filters, 2 * nr_filters)

    def forward(self, og_x: torch.Tensor, a: torch.Tensor | None = None) -> torch.Tensor:
        x = self.conv_input(concat_elu(og_x))
        if a is not None:
            x = x + self.nin_skip(concat_elu(a))
        x = self.conv_out(self.dropout(concat_elu(x)))
        a, b = torch.chunk(x, 2, dim=1)
        return og_x + a * torch.sigmoid(b)
