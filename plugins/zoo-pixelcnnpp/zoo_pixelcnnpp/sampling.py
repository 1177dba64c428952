"""Sampling PixelCNN++ pixel by pixel: the naive loop, and the cached generator of Ramachandran et al. (2017).

``sample_naive`` is the reference's loop: for each of the H x W pixels, run the whole network
on the image drawn so far and draw that pixel from its mixture.

``sample_cached`` ("Fast Generation for Convolutional Autoregressive Models", arXiv 1704.06001)
computes every activation once. It rests on two facts about the network's causality:

- the ``u`` stream (down-shifted convolutions) at row r sees only image rows above r, so each
  of its layers is computed one *row* at a time, when a row of the image is complete;
- the ``ul`` stream (down-right-shifted) at (r, c) sees only pixels before (r, c) in raster
  order (and the u stream at row r), so it is computed one *pixel* at a time.

Every convolution keeps a cache of the past inputs its kernel still needs: the previous row
(its kernels are two rows high; ``zoo_core.layers.RowCache`` for the u stream, ``PixelCache``
for the ul stream, shared with the PixelCNN and Gated PixelCNN samplers). A layer at half
(quarter) resolution produces its row r' when image row 2r' (4r') starts, and its pixel
(r', c') at image pixel (2r', 2c') ((4r', 4c')): the "cache every" / "run every" periods of the
paper. A stride-2 transposed convolution
writes the two rows (u) or the 2x2 block (ul) its input row / pixel produces, which the finer
stage then reads when it gets there. One image costs about one forward pass in total, instead
of H x W of them.

Both samplers consume the same noise (``likelihood.draw_noise``) in the same way and round each
pixel to the 256 levels, so from one seed they draw the same images; the only difference in
their arithmetic is the order of float additions inside the convolutions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from zoo_core.layers import PixelCache, RowCache
from zoo_core.modeling import pixel_progress

from .layers import concat_elu
from .likelihood import draw_noise, sample_pixel

if TYPE_CHECKING:
    from .model import PixelCNNPP

__all__ = ["CachedSampler", "sample_cached", "sample_naive"]


def sample_naive(model: PixelCNNPP, n: int, generator: torch.Generator, *, progress: bool = False) -> torch.Tensor:
    """``n`` images on [-1, 1] by re-running the whole network for each pixel (the reference's loop).

    Example:
        >>> x = sample_naive(model.eval(), 4, torch.Generator().manual_seed(0))
    """
    c = model.config
    size = c.image_size
    mix, logistic = draw_noise(n, c.channels, c.nr_logistic_mix, size, size, generator)
    x = torch.zeros(n, c.channels, size, size, device=model.device, dtype=model.dtype)
    mix, logistic = mix.to(x.device), logistic.to(x.device)
    with pixel_progress(size * size, n, progress) as bar:
        for i in range(size):
            for j in range(size):
                params = model(x)[:, :, i, j]
                x[:, :, i, j] = sample_pixel(params, mix[:, i, j], logistic[:, i, j])
                bar.update()
    return x


def sample_cached(model: PixelCNNPP, n: int, generator: torch.Generator, *, progress: bool = False) -> torch.Tensor:
    """``n`` images on [-1, 1] with the cached generator: the same images as ``sample_naive``, far faster.

    Example:
        >>> x = sample_cached(model.eval(), 16, torch.Generator().manual_seed(0), progress=True)
    """
    c = model.config
    size = c.image_size
    mix, logistic = draw_noise(n, c.channels, c.nr_logistic_mix, size, size, generator)
    sampler = CachedSampler(model, n)
    mix, logistic = mix.to(sampler.device), logistic.to(sampler.device)
    with pixel_progress(size * size, n, progress) as bar:
        for i in range(size):
            sampler.start_row(i)
            for j in range(size):
                params = sampler.pixel_params(i, j)
                sampler.set_pixel(i, j, sample_pixel(params, mix[:, i, j], logistic[:, i, j]))
                bar.update()
    return sampler.image()


# -- caches ------------------------------------------------------------------------------------


def _row_conv(layer, batch: int, width: int, stride: int = 1) -> RowCache:
    """A down-shifted convolution (kernel 2 rows high) fed one row at a time (``zoo_core.layers.RowCache``):
    it remembers the row before; ``stride`` 2 for the down-sampling convolutions."""
    return RowCache(layer.conv.weight, layer.conv.bias, batch, width, stride=stride)


def _pixel_conv(layer, batch: int, width: int) -> PixelCache:
    """A down-right-shifted 2x2 convolution fed one pixel at a time (``zoo_core.layers.PixelCache``): it keeps the
    row above and the row so far, with one column of left padding."""
    return PixelCache(layer.conv.weight, layer.conv.bias, batch, width, left=1, right=0)


def _nin(layer) -> tuple[torch.Tensor, torch.Tensor]:
    return layer.lin_a.weight.detach(), layer.lin_a.bias.detach()


class _UBlock:
    """A u-stream gated ResNet block, run a row at a time."""

    def __init__(self, block, batch: int, width: int, like: torch.Tensor) -> None:
        self.conv_input = _row_conv(block.conv_input, batch, width)
        self.conv_out = _row_conv(block.conv_out, batch, width)
        self.skip = _nin(block.nin_skip) if block.skip_inputs else None

    def __call__(self, og_x: torch.Tensor, a: torch.Tensor | None = None) -> torch.Tensor:
        x = self.conv_input.push(concat_elu(og_x))
        if a is not None:
            x = x + F.linear(concat_elu(a).permute(0, 2, 3, 1), *self.skip).permute(0, 3, 1, 2)
        a_, b_ = self.conv_out.push(concat_elu(x)).chunk(2, dim=1)
        return og_x + a_ * torch.sigmoid(b_)


class _ULBlock:
    """A ul-stream gated ResNet block, run a pixel at a time; values are ``(B, C)``."""

    def __init__(self, block, batch: int, width: int, like: torch.Tensor) -> None:
        self.conv_input = _pixel_conv(block.conv_input, batch, width)
        self.conv_out = _pixel_conv(block.conv_out, batch, width)
        self.skip = _nin(block.nin_skip)

    def new_row(self) -> None:
        self.conv_input.next_row()
        self.conv_out.next_row()

    def __call__(self, col: int, og_x: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        self.conv_input.put(col, F.elu(torch.cat([og_x, -og_x], dim=1)))
        x = self.conv_input.out(col) + F.linear(F.elu(torch.cat([a, -a], dim=1)), *self.skip)
        self.conv_out.put(col, F.elu(torch.cat([x, -x], dim=1)))
        a_, b_ = self.conv_out.out(col).chunk(2, dim=1)
        return og_x + a_ * torch.sigmoid(b_)


class CachedSampler:
    """The state of a cached PixelCNN++ sampling run over a batch (see the module docstring).

    Call ``start_row(r)`` at the start of each image row, then for each column ``c``
    ``pixel_params(r, c)`` (the mixture parameters of pixel (r, c)) and ``set_pixel(r, c, value)``.

    Example:
        >>> s = CachedSampler(model.eval(), batch=16)
        >>> for r in range(28):
        ...     s.start_row(r)
        ...     for c in range(28):
        ...         s.set_pixel(r, c, my_draw(s.pixel_params(r, c)))
        >>> images = s.image()  # (16, 1, 28, 28) on [-1, 1]
    """

    def __init__(self, model: PixelCNNPP, batch: int) -> None:
        if model.training:
            raise RuntimeError("CachedSampler needs the model in eval mode (no dropout).")
        cfg = model.config
        self.model, self.batch = model, batch
        self.nr_resnet, self.nf = cfg.nr_resnet, cfg.nr_filters
        self.height = self.width = cfg.image_size
        like = next(model.parameters()).detach()
        self.device = like.device
        H, W, nf, B = self.height, self.width, self.nf, batch
        self.widths = [W, W // 2, W // 4]
        # the image with its channel of ones, padded 1 row on top and 1 column each side
        self.x = like.new_zeros(B, cfg.channels + 1, H + 1, W + 2)
        self.x[:, cfg.channels, 1:, 1 : W + 1] = 1.0
        self.channels = cfg.channels
        self.u_init = (model.u_init.conv.weight.detach(), model.u_init.conv.bias.detach())
        ul0, ul1 = model.ul_init
        self.ul_init = (ul0.conv.weight.detach().flatten(1), ul0.conv.bias.detach())
        self.ul_init_right = (ul1.conv.weight.detach().flatten(1), ul1.conv.bias.detach())
        # up pass: u blocks (rows) and ul blocks (pixels) per stage; down-sampling convolutions
        self.up_u = [[_UBlock(b, B, self.widths[s], like) for b in model.up_layers[s].u_stream] for s in range(3)]
        self.up_ul = [[_ULBlock(b, B, self.widths[s], like) for b in model.up_layers[s].ul_stream] for s in range(3)]
        self.down_u_conv = [_row_conv(model.downsize_u_stream[s], B, self.widths[s], stride=2) for s in range(2)]
        self.down_ul_conv = [_pixel_conv(model.downsize_ul_stream[s], B, self.widths[s]) for s in range(2)]
        # down pass: stage s of the image is down_layers[2 - s]
        self.dn_u = [[_UBlock(b, B, self.widths[s], like) for b in model.down_layers[2 - s].u_stream] for s in range(3)]
        self.dn_ul = [
            [_ULBlock(b, B, self.widths[s], like) for b in model.down_layers[2 - s].ul_stream] for s in range(3)
        ]
        # stride-2 transposed convolutions from stage s + 1 to stage s
        self.up_u_conv = [(m.deconv.weight.detach(), m.deconv.bias.detach()) for m in model.upsize_u_stream]
        self.up_ul_conv = []
        for m in model.upsize_ul_stream:  # (in, out, 2, 2) -> (out x 2 x 2, in): one input pixel to a 2x2 block
            w = m.deconv.weight.detach()
            self.up_ul_conv.append((w.permute(1, 2, 3, 0).reshape(-1, w.shape[0]), m.deconv.bias.detach()))
        self.nin_out = _nin(model.nin_out)
        # rows of the current row of each stage: up-pass u maps (entry 0 is the stage's input), down-pass input
        self.u_rows: list[list[torch.Tensor]] = [[] for _ in range(3)]
        self.dn_u_rows: list[list[torch.Tensor]] = [[] for _ in range(3)]
        self.u_from_coarse = [like.new_zeros(B, nf, 2, self.widths[s]) for s in range(2)]
        self.ul_from_coarse = [like.new_zeros(B, nf, 2, self.widths[s]) for s in range(2)]
        # the up-pass ul maps of each stage at its current pixel (entry 0 is the stage's input)
        self.ul_skips: list[list[torch.Tensor]] = [[] for _ in range(3)]

    # -- rows: the u stream ------------------------------------------------------------------
    def start_row(self, r: int) -> None:
        """Compute the u stream for image row ``r`` (and the coarser rows that start here)."""
        stages = [s for s in range(3) if r % (1 << s) == 0]
        for s in stages:
            if s == 0:
                if r == 0:
                    entry = self.x.new_zeros(self.batch, self.nf, 1, self.width)
                else:  # u_init shifted down: the conv over image rows r - 2 and r - 1
                    entry = F.conv2d(self.x[:, :, r - 1 : r + 1], *self.u_init)
            else:
                entry = self.down_u_conv[s - 1].out()
            rows = [entry]
            for block in self.up_u[s]:
                rows.append(block(rows[-1]))
            self.u_rows[s] = rows
            for block in self.up_ul[s]:
                block.new_row()
            if s < 2:  # the stride-2 convolutions to the next stage read this stage's last two rows
                self.down_u_conv[s].add(rows[-1])
                self.down_ul_conv[s].next_row()
        for s in reversed(stages):
            rs = r >> s
            ups = self.u_rows[s]
            if s == 2:
                u, skips = ups[-1], ups[-2::-1]
            else:
                u, skips = self.u_from_coarse[s][:, :, rs % 2 : rs % 2 + 1], ups[::-1]
            rows = []
            for block, skip in zip(self.dn_u[s], skips, strict=True):
                u = block(u, skip)
                rows.append(u)
            self.dn_u_rows[s] = rows
            for block in self.dn_ul[s]:
                block.new_row()
            if s > 0:  # the transposed convolution: this row becomes two rows of the finer stage
                weight, bias = self.up_u_conv[2 - s]
                up = F.conv_transpose2d(u, weight, bias, stride=2, output_padding=1)
                self.u_from_coarse[s - 1] = up[:, :, :2, 1:-1]

    # -- pixels: the ul stream ---------------------------------------------------------------
    def pixel_params(self, r: int, c: int) -> torch.Tensor:
        """The mixture parameters ``(B, outputs)`` of pixel (r, c); every pixel before it must be set."""
        stages = [s for s in range(3) if r % (1 << s) == 0 and c % (1 << s) == 0]
        for s in stages:
            cs = c >> s
            if s == 0:
                left = F.linear(self.x[:, :, r, c : c + 3].flatten(1), *self.ul_init)  # row above, shifted down
                above_left = F.linear(self.x[:, :, r : r + 2, c].flatten(1), *self.ul_init_right) if c > 0 else 0.0
                ul = left * (r > 0) + above_left
            else:
                ul = self.down_ul_conv[s - 1].out(2 * cs)  # input columns 2cs - 1 and 2cs
            skips = [ul]
            for k, block in enumerate(self.up_ul[s]):
                ul = block(cs, ul, self.u_rows[s][k + 1][:, :, 0, cs])
                skips.append(ul)
            self.ul_skips[s] = skips
            if s < 2:
                self.down_ul_conv[s].put(cs, ul)
        for s in reversed(stages):
            cs = c >> s
            skips = self.ul_skips[s]
            if s == 2:
                ul, skip_maps = skips[-1], skips[-2::-1]
            else:
                ul, skip_maps = self.ul_from_coarse[s][:, :, (r >> s) % 2, cs], skips[::-1]
            for block, skip, u_row in zip(self.dn_ul[s], skip_maps, self.dn_u_rows[s], strict=True):
                ul = block(cs, ul, torch.cat([u_row[:, :, 0, cs], skip], dim=1))
            if s > 0:  # the transposed convolution: this pixel becomes a 2x2 block of the finer stage
                weight, bias = self.up_ul_conv[2 - s]
                block = F.linear(ul, weight).view(self.batch, -1, 2, 2) + bias.view(1, -1, 1, 1)
                self.ul_from_coarse[s - 1][:, :, :, 2 * cs : 2 * cs + 2] = block
            else:
                return F.linear(F.elu(ul), *self.nin_out)
        raise AssertionError("stage 0 is always computed")

    def set_pixel(self, r: int, c: int, value: torch.Tensor) -> None:
        """Write the drawn pixel (``(B, C)`` on [-1, 1]) into the image the next steps read."""
        self.x[:, : self.channels, r + 1, c + 1] = value

    def image(self) -> torch.Tensor:
        """The images drawn so far, ``(B, C, H, W)`` on [-1, 1]."""
        return self.x[:, : self.channels, 1:, 1:-1].clone()
