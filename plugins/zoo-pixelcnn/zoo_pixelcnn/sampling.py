"""Sampling a PixelCNN pixel by pixel: the naive loop, and the cached generator of Ramachandran et al. (2017).

``sample_naive`` re-runs the whole network on the image drawn so far for every pixel (and every
colour of it): H x W x C forward passes.

``sample_cached`` ("Fast Generation for Convolutional Autoregressive Models", arXiv 1704.06001)
computes every activation once. A masked convolution's output at (r, c) reads its input only in
the rows above r and in row r up to column c, so each layer keeps a ``zoo_core.layers.PixelCache``
of the ``k // 2 + 1`` rows its kernel reaches (the rows below the centre are masked) and computes
its output at (r, c) as soon as its input there is known; the 1x1 layers need no cache. One
image costs about one forward pass in total, plus the Python overhead of about a hundred small
operations per pixel. For RGB images each pixel is run three times, one colour at a time (the
masks' channel groups make R's logit independent of the pixel's colours).

Both samplers draw pixel (k, i, j) as ``u < sigmoid(logit)`` with the same uniform ``u`` (one
``torch.rand`` of the whole batch, from the generator, before the first pixel), so from one seed
they draw the same images; their logits differ only in the order of float additions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from zoo_core.layers import PixelCache, conv1x1_as_linear
from zoo_core.modeling import pixel_noise, pixel_progress

if TYPE_CHECKING:
    from .model import PixelCNN

__all__ = ["CachedPixelCNN", "draw_noise", "sample_cached", "sample_naive"]


def draw_noise(model: PixelCNN, n: int, generator: torch.Generator) -> torch.Tensor:
    """The uniform numbers ``(n, C, H, W)`` both samplers compare each pixel's probability with."""
    c = model.config
    return pixel_noise(model, n, c.channels, c.image_size, generator)


def sample_naive(model: PixelCNN, n: int, generator: torch.Generator, *, progress: bool = False) -> torch.Tensor:
    """``n`` binary images by re-running the whole network for each pixel and colour.

    Example:
        >>> x = sample_naive(model.eval(), 4, torch.Generator().manual_seed(0))
    """
    c = model.config
    noise = draw_noise(model, n, generator)
    x = torch.zeros_like(noise)
    with pixel_progress(c.image_size**2, n, progress) as bar:
        for i in range(c.image_size):
            for j in range(c.image_size):
                for k in range(c.channels):
                    p = torch.sigmoid(model(x)[:, k, i, j])
                    x[:, k, i, j] = (noise[:, k, i, j] < p).to(x.dtype)
                bar.update()
    return x


def sample_cached(model: PixelCNN, n: int, generator: torch.Generator, *, progress: bool = False) -> torch.Tensor:
    """``n`` binary images with the cached generator: the same images as ``sample_naive``, far faster.

    Example:
        >>> x = sample_cached(model.eval(), 16, torch.Generator().manual_seed(0), progress=True)
    """
    c = model.config
    noise = draw_noise(model, n, generator)
    sampler = CachedPixelCNN(model, n)
    with pixel_progress(c.image_size**2, n, progress) as bar:
        for i in range(c.image_size):
            sampler.start_row(i)
            for j in range(c.image_size):
                for k in range(c.channels):
                    p = torch.sigmoid(sampler.logits(j)[:, k])
                    sampler.set_pixel(i, j, k, (noise[:, k, i, j] < p).to(noise.dtype))
                bar.update()
    return sampler.image()


class CachedPixelCNN:
    """The state of a cached PixelCNN sampling run over a batch (see the module docstring).

    Call ``start_row(r)`` at each image row, then for each column ``c`` and colour ``k``
    ``logits(c)`` (``(B, C)``: the logits of pixel (r, c); colour k's is final once the colours
    before it are set) and ``set_pixel(r, c, k, value)``.

    Example:
        >>> s = CachedPixelCNN(model.eval(), batch=16)
        >>> for r in range(28):
        ...     s.start_row(r)
        ...     for c in range(28):
        ...         s.set_pixel(r, c, 0, torch.bernoulli(torch.sigmoid(s.logits(c)[:, 0])))
        >>> images = s.image()   # (16, 1, 28, 28)
    """

    def __init__(self, model: PixelCNN, batch: int) -> None:
        cfg = model.config
        size = cfg.image_size
        like = next(model.parameters()).detach()
        self.input = PixelCache.from_conv(model.input_conv, batch, size)
        self.blocks = [
            (
                conv1x1_as_linear(b.conv_in, detach=True),
                PixelCache.from_conv(b.conv, batch, size),
                conv1x1_as_linear(b.conv_out, detach=True),
            )
            for b in model.blocks
        ]
        self.head = (conv1x1_as_linear(model.head_in, detach=True), conv1x1_as_linear(model.head_out, detach=True))
        self.x = like.new_zeros(batch, cfg.channels, size, size)
        self.caches = [self.input, *(cache for _, cache, _ in self.blocks)]

    def start_row(self, r: int) -> None:
        """Begin image row ``r`` (rows are visited in order from 0)."""
        if r > 0:
            for cache in self.caches:
                cache.next_row()

    def logits(self, c: int) -> torch.Tensor:
        """The logits ``(B, C)`` of pixel (r, c) of the current row from the pixels set so far."""
        x = self.input.out(c)
        for (w_in, b_in), cache, (w_out, b_out) in self.blocks:
            cache.put(c, F.relu(F.linear(F.relu(x), w_in, b_in)))
            x = x + F.linear(F.relu(cache.out(c)), w_out, b_out)
        (w1, b1), (w2, b2) = self.head
        return F.linear(F.relu(F.linear(F.relu(x), w1, b1)), w2, b2)

    def set_pixel(self, r: int, c: int, k: int, value: torch.Tensor) -> None:
        """Write colour ``k`` of pixel (r, c) (``(B,)``, 0. or 1.) into the image the next steps read."""
        self.x[:, k, r, c] = value
        self.input.put(c, self.x[:, :, r, c])

    def image(self) -> torch.Tensor:
        """The images drawn so far, ``(B, C, H, W)``."""
        return self.x.clone()
