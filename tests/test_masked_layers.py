"""zoo_core.layers.masked: the PixelCNN masks (grey and RGB channel groups) and the pixel / row caches."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from zoo_core import ZooError
from zoo_core.layers import MaskedConv2d, PixelCache, RowCache, causal_mask, channel_groups, conv1x1_as_linear


def test_grey_masks_hide_the_future_and_mask_a_the_pixel_itself() -> None:
    a = causal_mask(1, 1, (5, 5), "A")[0, 0]
    b = causal_mask(1, 1, (5, 5), "B")[0, 0]
    assert a[:2].eq(1).all() and a[3:].eq(0).all() and b[3:].eq(0).all()  # rows above seen, rows below not
    assert a[2].tolist() == [1, 1, 0, 0, 0] and b[2].tolist() == [1, 1, 1, 0, 0]


def test_rgb_masks_let_each_colour_see_the_earlier_colours_of_its_pixel() -> None:
    assert channel_groups(6, 3).tolist() == [0, 0, 1, 1, 2, 2]
    a = causal_mask(6, 3, (3, 3), "A", data_channels=3)[:, :, 1, 1]  # the centre: (out, in)
    b = causal_mask(6, 6, (3, 3), "B", data_channels=3)[:, :, 1, 1]
    # mask A: R sees no colour of the pixel, G sees R, B sees R and G
    assert a.tolist() == [[0, 0, 0], [0, 0, 0], [1, 0, 0], [1, 0, 0], [1, 1, 0], [1, 1, 0]]
    # mask B: each group also sees its own group
    assert b[0].tolist() == [1, 1, 0, 0, 0, 0] and b[5].tolist() == [1] * 6 and b[2].tolist() == [1, 1, 1, 1, 0, 0]


def test_bad_masks_are_one_sentence() -> None:
    with pytest.raises(ZooError, match="'A' or 'B'"):
        causal_mask(1, 1, (3, 3), "C")
    with pytest.raises(ZooError, match="odd kernel"):
        MaskedConv2d(1, 4, 4)
    with pytest.raises(ZooError, match="divisible by 3"):
        MaskedConv2d(3, 4, 3, "A", data_channels=3)


def test_masked_conv_state_dict_is_a_plain_conv_and_the_mask_applies() -> None:
    conv = MaskedConv2d(2, 4, 3, "A")
    assert set(conv.state_dict()) == {"weight", "bias"}
    x = torch.randn(1, 2, 5, 5, dtype=torch.float64)
    conv = conv.double()
    with torch.no_grad():
        conv.weight.normal_()
    expected = F.conv2d(x, conv.weight * causal_mask(4, 2, (3, 3), "A").double(), conv.bias, padding=1)
    torch.testing.assert_close(conv(x), expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize(("kernel", "mask_type"), [(7, "A"), (3, "B"), (5, "B")])
def test_pixel_cache_gives_the_full_convolution(kernel: int, mask_type: str) -> None:
    torch.manual_seed(0)
    conv = MaskedConv2d(3, 4, kernel, mask_type).double()
    x = torch.randn(2, 3, 6, 7, dtype=torch.float64)
    full = conv(x)
    cache = PixelCache.from_conv(conv, batch=2, width=7)
    got = torch.zeros_like(full)
    for r in range(6):
        if r:
            cache.next_row()
        for c in range(7):
            if mask_type == "A":  # mask A: the output is known before the input at (r, c)
                got[:, :, r, c] = cache.out(c)
                cache.put(c, x[:, :, r, c])
            else:
                cache.put(c, x[:, :, r, c])
                got[:, :, r, c] = cache.out(c)
    torch.testing.assert_close(got, full, rtol=0, atol=1e-12)


def test_row_cache_gives_the_full_convolution_of_the_rows_so_far() -> None:
    torch.manual_seed(0)
    weight, bias = torch.randn(4, 3, 2, 3, dtype=torch.float64), torch.randn(4, dtype=torch.float64)
    x = torch.randn(2, 3, 5, 6, dtype=torch.float64)
    full = F.conv2d(F.pad(x, (1, 1, 1, 0)), weight, bias)  # row r reads rows r - 1 and r
    cache = RowCache(weight, bias, batch=2, width=6)
    got = torch.cat([cache.push(x[:, :, r : r + 1]) for r in range(5)], dim=2)
    torch.testing.assert_close(got, full, rtol=0, atol=1e-12)


def test_row_cache_with_a_stride_stores_rows_and_reads_them_later() -> None:
    """A down-sampling convolution (stride 2 across columns): ``add`` a row now, read ``out()`` when needed."""
    torch.manual_seed(0)
    weight, bias = torch.randn(4, 3, 2, 3, dtype=torch.float64), torch.randn(4, dtype=torch.float64)
    x = torch.randn(2, 3, 4, 8, dtype=torch.float64)
    full = F.conv2d(F.pad(x, (1, 1, 1, 0)), weight, bias, stride=(1, 2))
    cache = RowCache(weight, bias, batch=2, width=8, stride=2)
    for r in range(4):
        cache.add(x[:, :, r : r + 1])
        torch.testing.assert_close(cache.out(), full[:, :, r : r + 1], rtol=0, atol=1e-12)


def test_conv1x1_as_linear_is_the_convolution_per_pixel() -> None:
    """``F.linear`` with the weights of a 1x1 convolution (masked: with its mask) equals the convolution at every
    pixel; ``detach=True`` leaves autograd out."""
    torch.manual_seed(0)
    x = torch.randn(2, 6, 4, 5)
    for conv in (MaskedConv2d(6, 9, 1, "B", data_channels=3), torch.nn.Conv2d(6, 4, 1)):
        weight, bias = conv1x1_as_linear(conv)
        per_pixel = F.linear(x.permute(0, 2, 3, 1), weight, bias).permute(0, 3, 1, 2)
        torch.testing.assert_close(per_pixel, conv(x), rtol=0, atol=1e-6)
        assert weight.requires_grad and not any(t.requires_grad for t in conv1x1_as_linear(conv, detach=True))
