"""Sampling a PixelRNN pixel by pixel: the naive loop, and a cached generator that computes every LSTM cell once.

``sample_naive`` re-runs the whole network on the image drawn so far for every pixel: H x W
forward passes, each of them a full sweep of every LSTM layer (what the readable references do).

``sample_cached`` keeps the state the recurrences carry, in the spirit of Ramachandran et al.
(2017, "Fast Generation for Convolutional Autoregressive Models"): nothing is computed twice.

- The 7x7 mask-A input convolution and the Row LSTM's ``1 x k`` mask-B input-to-state run a
  pixel at a time over a ``zoo_core.layers.PixelCache`` of the rows their kernels reach.
- **Row LSTM**: when an image row starts, every layer's state-to-state convolution of the row
  above is computed at once; each pixel then costs one LSTM cell per layer (its cell state is
  the one above it).
- **Diagonal BiLSTM**: the left-to-right LSTM at (r, c) reads the states at (r - 1, c), kept
  from the row above, and at (r, c - 1), the previous pixel's: one cell per layer and pixel. The
  right-to-left LSTM reaches the pixels of row r only through row r - 1 (its output is shifted
  down one row), and row r - 1 of every layer is complete when row r starts: so at each row
  start, it sweeps row r - 1 from right to left, layer by layer, once.

A cell is one ``torch.lstm_cell`` call (its weights permuted to PyTorch's gate order
``[i, f, g, o]`` from the paper's ``[o, f, i, g]``). Both samplers draw pixel (i, j) as
``u < sigmoid(logit)`` with the same uniform ``u`` (one ``torch.rand`` of the whole batch, from the
generator, before the first pixel), so from one seed they draw the same images; their logits
differ only in the order of float additions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from zoo_core.layers import PixelCache, conv1x1_as_linear
from zoo_core.modeling import pixel_noise, pixel_progress

from .model import DiagonalBiLSTM, RowLSTM

if TYPE_CHECKING:
    from .model import PixelRNN

__all__ = ["CachedPixelRNN", "draw_noise", "sample_cached", "sample_naive"]


def draw_noise(model: PixelRNN, n: int, generator: torch.Generator) -> torch.Tensor:
    """The uniform numbers ``(n, 1, H, W)`` both samplers compare each pixel's probability with."""
    return pixel_noise(model, n, 1, model.config.image_size, generator)


def sample_naive(model: PixelRNN, n: int, generator: torch.Generator, *, progress: bool = False) -> torch.Tensor:
    """``n`` binary images by re-running the whole network for each pixel.

    Example:
        >>> x = sample_naive(model.eval(), 4, torch.Generator().manual_seed(0))
    """
    size = model.config.image_size
    noise = draw_noise(model, n, generator)
    x = torch.zeros_like(noise)
    with pixel_progress(size * size, n, progress) as bar:
        for i in range(size):
            for j in range(size):
                p = torch.sigmoid(model(x)[:, 0, i, j])
                x[:, 0, i, j] = (noise[:, 0, i, j] < p).to(x.dtype)
                bar.update()
    return x


def sample_cached(model: PixelRNN, n: int, generator: torch.Generator, *, progress: bool = False) -> torch.Tensor:
    """``n`` binary images with the cached generator: the same images as ``sample_naive``, far faster.

    Example:
        >>> x = sample_cached(model.eval(), 16, torch.Generator().manual_seed(0), progress=True)
    """
    size = model.config.image_size
    noise = draw_noise(model, n, generator)
    sampler = CachedPixelRNN(model, n)
    with pixel_progress(size * size, n, progress) as bar:
        for i in range(size):
            sampler.start_row(i)
            for j in range(size):
                p = torch.sigmoid(sampler.logit(j))
                sampler.set_pixel(j, (noise[:, 0, i, j] < p).to(noise.dtype))
                bar.update()
    return sampler.image()


def _torch_gate_order(w: torch.Tensor) -> torch.Tensor:
    """Rows ``[o, f, i, g]`` (the paper's order, ours) -> ``[i, f, g, o]`` (``torch.lstm_cell``'s)."""
    o, f, i, g = w.detach().chunk(4, dim=0)
    return torch.cat([i, f, g, o]).contiguous()


class _CachedRowLSTM:
    """A Row LSTM layer's sampling state: the row above's hidden and cell states, this row's so far."""

    def __init__(self, layer: RowLSTM, batch: int, width: int) -> None:
        hid, k = layer.hidden, layer.k
        weight = layer.input_to_state.masked_weight()[:, :, :, : k // 2 + 1]  # the taps right of the pixel are 0
        self.inputs = PixelCache(_torch_gate_order(weight), None, batch, width, left=k // 2, right=0)
        self.bias = _torch_gate_order(layer.input_to_state.bias)
        self.state_kernel = _torch_gate_order(layer.state_to_state.weight)  # (4h, h, k)
        self.k, self.width = k, width
        self.out = conv1x1_as_linear(layer.output, detach=True)
        like = self.bias
        self.h = like.new_zeros(batch, hid, width)  # the row above (zeros above row 0)
        self.c = like.new_zeros(width, batch, hid)
        self.next_h, self.next_c = like.new_zeros(width, batch, hid), like.new_zeros(width, batch, hid)
        self.zero_h, self.zero_w = like.new_zeros(batch, hid), like.new_zeros(4 * hid, hid)

    def start_row(self, r: int) -> None:
        if r > 0:
            self.inputs.next_row()
            self.h = self.next_h.permute(1, 2, 0).contiguous()  # (B, h, W)
            self.c, self.next_c = self.next_c, self.c
        state = F.conv1d(self.h, self.state_kernel, padding=self.k // 2)  # (B, 4h, W): the row above, at once
        self.above = (state + self.bias[:, None]).permute(2, 0, 1).contiguous()  # (W, B, 4h)

    def step(self, col: int, x: torch.Tensor) -> torch.Tensor:
        self.inputs.put(col, x)
        patch = self.inputs.rows[:, :, 0, col : col + self.k // 2 + 1].reshape(x.shape[0], -1)
        h, c = torch.lstm_cell(
            patch, (self.zero_h, self.c[col]), self.inputs.weight, self.zero_w, self.above[col], None
        )
        self.next_h[col], self.next_c[col] = h, c
        return x + F.linear(h, *self.out)


class _CachedDiagonalBiLSTM:
    """A Diagonal BiLSTM layer's sampling state: both directions' states of the row above, this row's so far."""

    def __init__(self, layer: DiagonalBiLSTM, batch: int, width: int) -> None:
        hid = layer.hidden
        self.hid, self.width = hid, width
        self.directions = []
        for lstm in (layer.forward_lstm, layer.backward_lstm):
            w_in, b_in = conv1x1_as_linear(lstm.input_to_state, detach=True)
            kernel = lstm.state_to_state.weight
            self.directions.append(
                (
                    _torch_gate_order(w_in),
                    _torch_gate_order(b_in),
                    _torch_gate_order(kernel[:, :, 0]),  # the state above
                    _torch_gate_order(kernel[:, :, 1]),  # the state before along the row
                )
            )
        self.out = conv1x1_as_linear(layer.output, detach=True)
        like = self.directions[0][1]
        zeros = like.new_zeros
        self.forward_above = zeros(width, batch, hid)  # the left-to-right states of the row above
        self.forward_row = zeros(width, batch, hid)
        self.backward_rows = [zeros(width, batch, hid), zeros(width, batch, hid)]  # rows r - 2, r - 1
        self.inputs_above, self.inputs_row = zeros(width, batch, 2 * hid), zeros(width, batch, 2 * hid)
        self.zero_h, self.zero_w = zeros(batch, hid), zeros(4 * hid, hid)

    def start_row(self, r: int) -> None:
        _, b_in, w_above, _ = self.directions[0]
        if r > 0:
            self.forward_above, self.forward_row = self.forward_row, self.forward_above
            self.inputs_above, self.inputs_row = self.inputs_row, self.inputs_above
            self._sweep_backward()
        # the left-to-right gates' parts known at the row start: the bias and the states above
        self.forward_gates = F.linear(self.forward_above, w_above, b_in)  # (W, B, 4h)
        self.h = self.c = self.zero_h  # zero states left of the image
        self.shifted = self.backward_rows[1]  # the right-to-left output of row r - 1, added to row r's

    def _sweep_backward(self) -> None:
        """The right-to-left LSTM over the row above (complete now), from its last pixel to its first."""
        w_in, b_in, w_above, w_before = self.directions[1]
        gates = F.linear(self.inputs_above, w_in, b_in) + F.linear(self.backward_rows[1], w_above)
        row = torch.empty_like(self.backward_rows[0])
        h = c = self.zero_h
        for col in range(self.width - 1, -1, -1):
            h, c = torch.lstm_cell(h, (self.zero_h, c), w_before, self.zero_w, gates[col], None)
            row[col] = h
        self.backward_rows = [self.backward_rows[1], row]

    def step(self, col: int, x: torch.Tensor) -> torch.Tensor:
        w_in, _, _, w_before = self.directions[0]
        self.inputs_row[col] = x
        self.h, self.c = torch.lstm_cell(x, (self.h, self.c), w_in, w_before, self.forward_gates[col], None)
        self.forward_row[col] = self.h
        return x + F.linear(self.h + self.shifted[col], *self.out)


class CachedPixelRNN:
    """The state of a cached PixelRNN sampling run over a batch (see the module docstring).

    Call ``start_row(r)`` at each image row, then for each column ``c`` ``logit(c)`` (``(B,)``: the
    logit of pixel (r, c) from the pixels set so far) and ``set_pixel(c, value)``.

    Example:
        >>> s = CachedPixelRNN(model.eval(), batch=16)
        >>> for r in range(28):
        ...     s.start_row(r)
        ...     for c in range(28):
        ...         s.set_pixel(c, torch.bernoulli(torch.sigmoid(s.logit(c))))
        >>> images = s.image()   # (16, 1, 28, 28)
    """

    def __init__(self, model: PixelRNN, batch: int) -> None:
        size = model.config.image_size
        self.input = PixelCache.from_conv(model.input_conv, batch, size)
        cached = {RowLSTM: _CachedRowLSTM, DiagonalBiLSTM: _CachedDiagonalBiLSTM}
        self.layers = [cached[type(layer)](layer, batch, size) for layer in model.layers]
        self.head = (conv1x1_as_linear(model.head_in, detach=True), conv1x1_as_linear(model.head_out, detach=True))
        self.x = next(model.parameters()).detach().new_zeros(batch, 1, size, size)
        self.row = 0

    def start_row(self, r: int) -> None:
        """Begin image row ``r`` (rows are visited in order from 0)."""
        if r > 0:
            self.input.next_row()
        for layer in self.layers:
            layer.start_row(r)
        self.row = r

    def logit(self, c: int) -> torch.Tensor:
        """The logit ``(B,)`` of pixel (r, c) of the current row from the pixels set so far."""
        x = self.input.out(c)
        for layer in self.layers:
            x = layer.step(c, x)
        (w1, b1), (w2, b2) = self.head
        return F.linear(F.relu(F.linear(F.relu(x), w1, b1)), w2, b2)[:, 0]

    def set_pixel(self, c: int, value: torch.Tensor) -> None:
        """Write pixel (r, c) (``(B,)``, 0. or 1.) into the image the next steps read."""
        self.x[:, 0, self.row, c] = value
        self.input.put(c, self.x[:, :, self.row, c])

    def image(self) -> torch.Tensor:
        """The images drawn so far, ``(B, 1, H, W)``."""
        return self.x.clone()
