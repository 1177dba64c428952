"""Masked (causal) convolutions of the PixelCNN family, and the caches that run them a pixel or a row at a time.

``MaskedConv2d`` is the convolution of van den Oord et al. 2016 ("Pixel Recurrent Neural Networks",
section 3.4): a ``k x k`` kernel whose weights below the centre row and right of the centre are
zero, so that output (r, c) sees only the input rows above r and the pixels left of c in row r.
At the centre the mask is

- ``"A"`` (the first layer, which reads the image): the pixel itself is not seen;
- ``"B"`` (every later layer): the pixel's own features are seen (they were computed from
  earlier pixels only).

For ``data_channels = 3`` (RGB) the features of every layer are split into three contiguous
groups (R, G, B: the first third of the channels is R ...); at the centre, an output of group j
sees the inputs of the groups i < j (mask A) or i <= j (mask B), so that R is predicted from the
earlier pixels, G also from R, and B also from R and G (the paper's Figure 4). For grey images
(``data_channels = 1``) mask B at the centre is all ones and mask A all zeros. The mask is a
plain tensor attribute (not a buffer): the state dict holds the plain ``weight`` and ``bias`` of a ``Conv2d``.

Fast generation (Ramachandran et al. 2017, "Fast Generation for Convolutional Autoregressive
Models") runs a causal convolution on the part of its input that changed, keeping the rows its
kernel still needs:

- ``PixelCache``: one output *pixel* at a time, for any convolution whose kernel reaches only
  rows above and the current row up to the current column (a masked ``k x k`` kernel, a ``1 x k``
  horizontal one, PixelCNN++'s down-right-shifted ``2 x 2``): ``put(c, value)`` writes the input
  at column c of the current row, ``out(c)`` is the output at (row, c), ``next_row()`` moves down
  one row;
- ``RowCache``: one output *row* at a time, for a convolution whose kernel reaches only rows
  above and the current row, every column (the vertical stack of a Gated PixelCNN, PixelCNN++'s
  u stream): ``push(row)`` adds an input row and returns the output row.

Both give the numbers of the full convolution up to the order of float additions.

Example:
    >>> conv = MaskedConv2d(1, 32, 7, mask_type="A")          # the PixelCNN's first layer
    >>> cache = PixelCache.from_conv(conv, batch=16, width=28)  # its cached form
    >>> cache.put(0, image[:, :, 0, 0]); features = cache.out(1)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._errors import ZooError

__all__ = [
    "MASK_TYPES",
    "MaskedConv2d",
    "PixelCache",
    "RowCache",
    "causal_mask",
    "channel_groups",
    "conv1x1_as_linear",
]

#: the centre masks: "A" hides the pixel itself (first layer), "B" shows its own features (later layers)
MASK_TYPES = ("A", "B")


def channel_groups(channels: int, data_channels: int) -> torch.Tensor:
    """The colour group (0 = R, 1 = G, 2 = B ...) of each of ``channels`` features: contiguous equal blocks.

    Example:
        >>> channel_groups(6, 3).tolist()
        [0, 0, 1, 1, 2, 2]
    """
    if channels % data_channels:
        raise ZooError(
            f"A masked convolution over {data_channels} colour channels needs a feature count divisible by "
            f"{data_channels}, not {channels}; pick a multiple of {data_channels}."
        )
    return torch.arange(channels, device="cpu") * data_channels // channels  # never on the meta device


def causal_mask(
    out_channels: int,
    in_channels: int,
    kernel_size: tuple[int, int],
    mask_type: str,
    data_channels: int = 1,
) -> torch.Tensor:
    """The 0/1 mask ``(out, in, kh, kw)`` of a masked convolution (see the module's docstring).

    Example:
        >>> causal_mask(1, 1, (3, 3), "A")[0, 0].tolist()
        [[1.0, 1.0, 1.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    """
    if mask_type not in MASK_TYPES:
        raise ZooError(f"A masked convolution's mask is 'A' or 'B', not {mask_type!r}.")
    kh, kw = kernel_size
    if kh % 2 == 0 or kw % 2 == 0:
        raise ZooError(f"A masked convolution needs an odd kernel size (it is centred), not {kh}x{kw}.")
    mask = torch.zeros(out_channels, in_channels, kh, kw, device="cpu")  # also when a model is built on meta
    mask[:, :, : kh // 2] = 1  # every row above the centre
    mask[:, :, kh // 2, : kw // 2] = 1  # the centre row, left of the centre
    groups_out = channel_groups(out_channels, data_channels)[:, None]
    groups_in = channel_groups(in_channels, data_channels)[None, :]
    centre = groups_in < groups_out if mask_type == "A" else groups_in <= groups_out
    mask[:, :, kh // 2, kw // 2] = centre.float()
    return mask


class MaskedConv2d(nn.Conv2d):
    """A ``Conv2d`` (stride 1, "same" padding) whose kernel is masked to see only earlier pixels.

    Args:
        in_channels, out_channels: feature counts (multiples of ``data_channels``).
        kernel_size: odd, e.g. 7 for the first layer, 3 or 1 after.
        mask_type: ``"A"`` or ``"B"`` (see the module's docstring).
        data_channels: 1 for grey images, 3 for RGB (channel groups).
        bias: whether the convolution has a bias.

    Example:
        >>> conv = MaskedConv2d(3, 96, 7, mask_type="A", data_channels=3)
        >>> conv(torch.rand(2, 3, 8, 8)).shape
        torch.Size([2, 96, 8, 8])
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        mask_type: str = "B",
        data_channels: int = 1,
        bias: bool = True,
    ) -> None:
        kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
        mask = causal_mask(out_channels, in_channels, (kh, kw), mask_type, data_channels)
        super().__init__(in_channels, out_channels, (kh, kw), padding=(kh // 2, kw // 2), bias=bias)
        self.mask_type, self.data_channels = mask_type, data_channels
        # a plain CPU tensor, not a buffer: the state dict stays a Conv2d's, and a model built on the meta
        # device (zoo's loading) still has its mask, a function of the config alone
        self.mask = mask

    def masked_weight(self) -> torch.Tensor:
        """The kernel with its masked taps at zero (what the forward pass convolves with)."""
        if self.mask.device != self.weight.device or self.mask.dtype != self.weight.dtype:
            self.mask = self.mask.to(self.weight.device, self.weight.dtype)
        return self.weight * self.mask

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.masked_weight(), self.bias, padding=self.padding)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, mask_type={self.mask_type!r}, data_channels={self.data_channels}"


def conv1x1_as_linear(conv: nn.Conv2d, *, detach: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
    """A 1x1 convolution (a ``MaskedConv2d`` with its mask applied, or a plain ``Conv2d``) as the ``(weight, bias)``
    of ``F.linear``: how the cached samplers apply it to one pixel's features, and how a model applies it to
    features laid out channels-last. ``detach=True`` for tensors kept outside autograd (a sampler's state).

    Example:
        >>> conv = MaskedConv2d(32, 16, 1, "B")
        >>> y = F.linear(features, *conv1x1_as_linear(conv))   # features (..., 32) -> (..., 16)
    """
    weight = conv.masked_weight() if isinstance(conv, MaskedConv2d) else conv.weight
    weight, bias = weight.reshape(weight.shape[0], -1), conv.bias
    if detach:
        return weight.detach(), None if bias is None else bias.detach()
    return weight, bias


class PixelCache:
    """A causal convolution run one output pixel at a time over a buffer of the rows its kernel reaches.

    The kernel ``weight`` ``(out, in, kh, kw)`` is applied to the input rows ``r - kh + 1 .. r``
    and the columns ``c - left .. c - left + kw - 1``; the caller guarantees that every tap to the
    right of column c in row r is zero (a masked kernel), so the buffer's future columns,
    still zero, never matter.

    Example:
        >>> cache = PixelCache.from_conv(masked_conv, batch=4, width=28)
        >>> for r in range(28):
        ...     for c in range(28):
        ...         y = cache.out(c)            # needs the inputs before (r, c), and (r, c) itself for mask B
        ...         cache.put(c, next_input(y))
        ...     cache.next_row()
    """

    def __init__(
        self,
        weight: torch.Tensor,
        bias: torch.Tensor | None,
        batch: int,
        width: int,
        left: int,
        right: int,
    ) -> None:
        out_channels, in_channels, kh, kw = weight.shape
        self.kh, self.kw, self.left = kh, kw, left
        self.weight = weight.detach().reshape(out_channels, -1)  # (out, in x kh x kw): the patch's order
        self.bias = None if bias is None else bias.detach()
        self.rows = weight.new_zeros(batch, in_channels, kh, left + width + right)

    @classmethod
    def from_conv(cls, conv: nn.Conv2d, batch: int, width: int) -> PixelCache:
        """The cache of a ``MaskedConv2d`` (or a ``Conv2d`` with an odd kernel whose lower half is zero).

        Only the kernel's rows down to the centre row are kept: the rows below it are masked.
        """
        kh, kw = conv.kernel_size
        weight = conv.masked_weight() if isinstance(conv, MaskedConv2d) else conv.weight
        return cls(weight[:, :, : kh // 2 + 1], conv.bias, batch, width, left=kw // 2, right=kw // 2)

    def next_row(self) -> None:
        """Move down one row: the buffer's rows shift up and the current row starts empty."""
        if self.kh > 1:
            self.rows[:, :, :-1] = self.rows[:, :, 1:].clone()
        self.rows[:, :, -1] = 0

    def put(self, col: int, value: torch.Tensor) -> None:
        """Write the input ``(B, C_in)`` at column ``col`` of the current row."""
        self.rows[:, :, -1, col + self.left] = value

    def out(self, col: int) -> torch.Tensor:
        """The output ``(B, C_out)`` at column ``col`` of the current row."""
        patch = self.rows[:, :, :, col : col + self.kw].reshape(self.rows.shape[0], -1)
        return F.linear(patch, self.weight, self.bias)


class RowCache:
    """A convolution run one output row at a time: output row r reads input rows ``r - kh + 1 .. r``.

    ``weight`` ``(out, in, kh, kw)`` with ``kw // 2`` columns of zero padding each side, column
    stride ``stride`` (2: a down-sampling convolution, whose output row is read when the coarser
    stage needs it). ``add(row)`` stores the next input row, ``out()`` is the output row over the
    last ``kh`` rows, ``push(row)`` does both.

    Example:
        >>> cache = RowCache(conv.weight, conv.bias, batch=4, width=28)
        >>> out_row = cache.push(in_row)   # (B, C_in, 1, W) -> (B, C_out, 1, W)
    """

    def __init__(
        self, weight: torch.Tensor, bias: torch.Tensor | None, batch: int, width: int, stride: int = 1
    ) -> None:
        _, in_channels, kh, kw = weight.shape
        self.weight = weight.detach()
        self.bias = None if bias is None else bias.detach()
        self.side, self.stride = kw // 2, stride
        self.rows = weight.new_zeros(batch, in_channels, kh, width + 2 * self.side)

    def add(self, row: torch.Tensor) -> None:
        """Store the next input row ``(B, C_in, 1, W)`` (the oldest row drops out)."""
        if self.rows.shape[2] > 1:
            self.rows[:, :, :-1] = self.rows[:, :, 1:].clone()
        self.rows[:, :, -1:, self.side : self.rows.shape[3] - self.side] = row

    def out(self) -> torch.Tensor:
        """The output row ``(B, C_out, 1, W / stride)`` over the last ``kh`` input rows."""
        return F.conv2d(self.rows, self.weight, self.bias, stride=(1, self.stride))

    def push(self, row: torch.Tensor) -> torch.Tensor:
        """``add(row)``, then the output row ``(B, C_out, 1, W / stride)``."""
        self.add(row)
        return self.out()
