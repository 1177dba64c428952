"""Sampling a Gated PixelCNN: the naive loop, and the cached generator of Ramachandran et al. (2017).

``sample_naive`` re-runs the whole network on the image drawn so far for every pixel: H x W
forward passes.

``sample_cached`` computes every activation once, with the caches of ``zoo_core.layers``:

- the vertical stack at row r reads rows ``r - k // 2 .. r`` of its input, and the horizontal stack
  of row r needs it only at row r - 1 (the link is shifted down), so when image row r starts, row
  r - 1 of every layer's vertical stack is computed, one *row* at a time (``RowCache``), with the
  links of row r;
- the horizontal stack at (r, c) reads row r up to column c, so it is computed one *pixel* at a
  time (``PixelCache`` of one row), with the skip connections and the head.

Both samplers draw pixel (i, j) from the same uniform ``u`` (one ``torch.rand`` of the whole batch,
from the generator, before the first pixel): ``u < sigmoid(logit)`` for binary images, the grey
level where the softmax's cumulative sum passes ``u`` for 8-bit ones (``draw_pixel``). So from
one seed they draw the same images; their logits differ only in the order of float additions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from zoo_core.layers import PixelCache, RowCache, conv1x1_as_linear
from zoo_core.modeling import pixel_noise, pixel_progress

from .model import gate

if TYPE_CHECKING:
    from .model import GatedPixelCNN

__all__ = ["CachedGatedPixelCNN", "draw_noise", "draw_pixel", "sample_cached", "sample_naive"]


def draw_noise(model: GatedPixelCNN, n: int, generator: torch.Generator) -> torch.Tensor:
    """The uniform numbers ``(n, 1, H, W)`` both samplers compare each pixel's probability with."""
    c = model.config
    return pixel_noise(model, n, c.channels, c.image_size, generator)


def draw_pixel(logits: torch.Tensor, u: torch.Tensor, pixel_levels: int) -> torch.Tensor:
    """Pixel values ``(B,)`` in [0, 1] from one pixel's logits ``(B, 1 or 256)`` and uniform numbers ``u`` ``(B,)``.

    Example:
        >>> draw_pixel(torch.zeros(2, 256), torch.tensor([0.0, 0.999]), 256)   # uniform: levels 0 and 255
        tensor([0., 1.])
    """
    if pixel_levels == 2:
        return (u < torch.sigmoid(logits[:, 0])).to(u.dtype)
    cdf = torch.softmax(logits, dim=1).cumsum(dim=1)
    level = (cdf < u[:, None]).sum(dim=1).clamp(max=pixel_levels - 1)
    return level.to(u.dtype) / (pixel_levels - 1)


def sample_naive(model: GatedPixelCNN, n: int, generator: torch.Generator, *, progress: bool = False) -> torch.Tensor:
    """``n`` images by re-running the whole network for each pixel.

    Example:
        >>> x = sample_naive(model.eval(), 4, torch.Generator().manual_seed(0))
    """
    size, levels = model.config.image_size, model.config.pixel_levels
    noise = draw_noise(model, n, generator)
    x = torch.zeros_like(noise)
    with pixel_progress(size * size, n, progress) as bar:
        for i in range(size):
            for j in range(size):
                x[:, 0, i, j] = draw_pixel(model(x)[:, :, i, j], noise[:, 0, i, j], levels)
                bar.update()
    return x


def sample_cached(model: GatedPixelCNN, n: int, generator: torch.Generator, *, progress: bool = False) -> torch.Tensor:
    """``n`` images with the cached generator: the same images as ``sample_naive``, far faster.

    Example:
        >>> x = sample_cached(model.eval(), 16, torch.Generator().manual_seed(0), progress=True)
    """
    size, levels = model.config.image_size, model.config.pixel_levels
    noise = draw_noise(model, n, generator)
    sampler = CachedGatedPixelCNN(model, n)
    with pixel_progress(size * size, n, progress) as bar:
        for i in range(size):
            sampler.start_row(i)
            for j in range(size):
                sampler.set_pixel(i, j, draw_pixel(sampler.logits(j), noise[:, 0, i, j], levels))
                bar.update()
    return sampler.image()


class _Layer:
    """A gated layer's caches: the vertical stack a row at a time, the horizontal stack a pixel at a time."""

    def __init__(self, layer, batch: int, width: int) -> None:
        half = layer.kernel // 2
        self.first = layer.first
        self.vertical = RowCache(layer.v_conv.weight, layer.v_conv.bias, batch, width)
        self.horizontal = PixelCache(layer.h_conv.weight, layer.h_conv.bias, batch, width, left=half, right=0)
        self.v_to_h = (layer.v_to_h.weight.detach(), layer.v_to_h.bias.detach())
        self.h_out = None if layer.h_out is None else conv1x1_as_linear(layer.h_out, detach=True)
        self.skip = conv1x1_as_linear(layer.skip, detach=True)
        # the link of the current row: the vertical pre-activations of the row above (zero above row 0)
        self.link = F.conv2d(layer.v_conv.weight.new_zeros(batch, self.v_to_h[0].shape[1], 1, width), *self.v_to_h)

    def row_above(self, v: torch.Tensor) -> torch.Tensor:
        """Feed the vertical stack's input at the row above ``(B, C, 1, W)``; keep its link; return its output."""
        v_pre = self.vertical.push(v)
        self.link = F.conv2d(v_pre, *self.v_to_h)
        self.horizontal.next_row()
        return gate(v_pre)

    def pixel(self, c: int, h: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """The horizontal stack at column ``c`` given its input there (``None``: the first layer, mask A)."""
        if h is not None:
            self.horizontal.put(c, h)
        gated = gate(self.horizontal.out(c) + self.link[:, :, 0, c])
        if self.h_out is None:  # the last layer: only its skip output is read
            return h, F.linear(gated, *self.skip)
        h_new = F.linear(gated, *self.h_out)
        if h is not None:
            h_new = h_new + h
        return h_new, F.linear(gated, *self.skip)


class CachedGatedPixelCNN:
    """The state of a cached Gated PixelCNN sampling run over a batch (see the module docstring).

    Call ``start_row(r)`` at each image row, then for each column ``c`` ``logits(c)`` (``(B, 1)``)
    and ``set_pixel(r, c, value)``.

    Example:
        >>> s = CachedGatedPixelCNN(model.eval(), batch=16)
        >>> for r in range(28):
        ...     s.start_row(r)
        ...     for c in range(28):
        ...         s.set_pixel(r, c, torch.bernoulli(torch.sigmoid(s.logits(c)[:, 0])))
        >>> images = s.image()   # (16, 1, 28, 28)
    """

    def __init__(self, model: GatedPixelCNN, batch: int) -> None:
        size = model.config.image_size
        like = next(model.parameters()).detach()
        self.layers = [_Layer(layer, batch, size) for layer in model.layers]
        self.head = (conv1x1_as_linear(model.head_in, detach=True), conv1x1_as_linear(model.head_out, detach=True))
        self.x = like.new_zeros(batch, model.config.channels, size, size)

    def start_row(self, r: int) -> None:
        """Begin image row ``r`` (rows are visited in order from 0): run the vertical stacks on row r - 1."""
        if r == 0:
            return
        v = self.x[:, :, r - 1 : r]
        for layer in self.layers:  # the last layer's vertical output feeds nothing but its link
            v = layer.row_above(v)

    def logits(self, c: int) -> torch.Tensor:
        """The logits ``(B, 1)`` (binary) or ``(B, 256)`` (8-bit) of pixel (r, c) of the current row."""
        h, skips = None, 0
        for layer in self.layers:
            h, skip = layer.pixel(c, h)
            skips = skips + skip
        (w1, b1), (w2, b2) = self.head
        return F.linear(F.relu(F.linear(F.relu(skips), w1, b1)), w2, b2)

    def set_pixel(self, r: int, c: int, value: torch.Tensor) -> None:
        """Write pixel (r, c) (``(B,)`` in [0, 1]) into the image the next steps read."""
        self.x[:, 0, r, c] = value
        self.layers[0].horizontal.put(c, self.x[:, :, r, c])

    def image(self) -> torch.Tensor:
        """The images drawn so far, ``(B, 1, H, W)``."""
        return self.x.clone()
