"""Full-reference image quality: PSNR and SSIM, on RGB or on the Y channel as super-resolution papers report them.

- ``psnr``: ``10 log10(data_range² / MSE)`` per image (over every pixel and channel).
- ``ssim``: Wang et al. 2004 with an 11x11 Gaussian window (sigma 1.5), K1 = 0.01,
  K2 = 0.03, population (co)variances, averaged over the valid window positions and over
  channels: ``skimage.metrics.structural_similarity(..., gaussian_weights=True, sigma=1.5,
  use_sample_covariance=False, data_range=...)``.
- SR protocol (``y_channel=True``, ``crop_border=scale``): both images are converted to
  the luma Y of ITU-R BT.601 as MATLAB's ``rgb2ycbcr`` computes it, in the [16, 235] range
  of 8-bit video (``Y = 16 + 65.481 R + 128.553 G + 24.966 B`` for R, G, B in [0, 1]), not
  rounded to integers (BasicSR's convention; MATLAB rounds uint8 inputs); ``crop_border``
  pixels are removed from every side; PSNR and SSIM then use a data range of 255.

Images are ``(N, C, H, W)`` (or ``(C, H, W)``) floats in [0, data_range]; computed in float64;
metric values are means over images of the per-image values.

Example:
    >>> psnr(prediction, target)                 # RGB, per image
    tensor([31.2, 29.8], dtype=torch.float64)
    >>> m = PSNR(y_channel=True, crop_border=4)  # Set5 / Set14 x4 protocol
    >>> m.update(prediction=sr, target=hr)
    >>> m.compute()
    {'psnr-y': 30.1}
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from .._errors import ZooError
from . import Metric

__all__ = ["PSNR", "SSIM", "psnr", "psnr_y", "rgb_to_y", "ssim", "ssim_y"]

_Y_WEIGHTS = (65.481, 128.553, 24.966)


def _batch(x: Any, what: str) -> torch.Tensor:
    x = torch.as_tensor(x)
    if x.dim() == 3:
        x = x.unsqueeze(0)
    if x.dim() != 4:
        raise ZooError(f"{what} takes images shaped (N, C, H, W) or (C, H, W), not {tuple(x.shape)}.")
    return x.double()


def _pair(a: Any, b: Any, what: str) -> tuple[torch.Tensor, torch.Tensor]:
    a, b = _batch(a, what), _batch(b, what)
    if a.shape != b.shape:
        raise ZooError(f"{what} compares images of the same shape, not {tuple(a.shape)} and {tuple(b.shape)}.")
    return a, b.to(a.device)


def rgb_to_y(images: torch.Tensor) -> torch.Tensor:
    """Luma of RGB images in [0, 1], as MATLAB ``rgb2ycbcr``: ``(N, 1, H, W)`` in [16, 235] (8-bit scale).

    Example:
        >>> rgb_to_y(torch.ones(1, 3, 1, 1)).item()  # white
        235.0
    """
    x = _batch(images, "rgb_to_y")
    if x.shape[1] != 3:
        raise ZooError(f"rgb_to_y takes RGB images (3 channels), not {x.shape[1]}.")
    weights = torch.tensor(_Y_WEIGHTS, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return 16.0 + (x * weights).sum(dim=1, keepdim=True)


def _prepare(
    a: Any, b: Any, data_range: float, y_channel: bool, crop_border: int, what: str
) -> tuple[torch.Tensor, torch.Tensor, float]:
    a, b = _pair(a, b, what)
    if crop_border < 0:
        raise ZooError(f"crop_border must be >= 0, not {crop_border}.")
    if crop_border:
        if min(a.shape[-2:]) <= 2 * crop_border:
            raise ZooError(f"crop_border {crop_border} leaves nothing of {a.shape[-2]}x{a.shape[-1]} images.")
        a = a[..., crop_border:-crop_border, crop_border:-crop_border]
        b = b[..., crop_border:-crop_border, crop_border:-crop_border]
    if y_channel:
        a, b = rgb_to_y(a / data_range), rgb_to_y(b / data_range)
        data_range = 255.0
    return a, b, data_range


def psnr(
    a: torch.Tensor,
    b: torch.Tensor,
    data_range: float = 1.0,
    *,
    y_channel: bool = False,
    crop_border: int = 0,
) -> torch.Tensor:
    """Per-image PSNR in dB, ``(N,)`` float64 (``inf`` for identical images).

    Example:
        >>> psnr(torch.zeros(1, 1, 4, 4), torch.full((1, 1, 4, 4), 0.1))  # MSE 0.01
        tensor([20.], dtype=torch.float64)
    """
    a, b, data_range = _prepare(a, b, data_range, y_channel, crop_border, "PSNR")
    mse = (a - b).pow(2).flatten(1).mean(dim=1)
    return 10.0 * torch.log10(data_range**2 / mse)


def _gaussian_window(sigma: float, truncate: float, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    radius = int(truncate * sigma + 0.5)  # scipy.ndimage.gaussian_filter's radius: 5 for sigma 1.5
    x = torch.arange(-radius, radius + 1, dtype=dtype, device=device)
    window = torch.exp(-0.5 * (x / sigma) ** 2)
    return window / window.sum()


def ssim(
    a: torch.Tensor,
    b: torch.Tensor,
    data_range: float = 1.0,
    *,
    y_channel: bool = False,
    crop_border: int = 0,
    sigma: float = 1.5,
    k1: float = 0.01,
    k2: float = 0.03,
    truncate: float = 3.5,
) -> torch.Tensor:
    """Per-image SSIM, ``(N,)`` float64: Gaussian window 11 (sigma 1.5), mean over valid positions and channels.

    Example:
        >>> x = torch.rand(2, 3, 32, 32)
        >>> ssim(x, x)
        tensor([1., 1.], dtype=torch.float64)
    """
    a, b, data_range = _prepare(a, b, data_range, y_channel, crop_border, "SSIM")
    n, c, h, w = a.shape
    window = _gaussian_window(sigma, truncate, a.dtype, a.device)
    size = window.numel()
    if h < size or w < size:
        raise ZooError(f"SSIM's {size}x{size} window does not fit {h}x{w} images; use larger images.")

    def blur(x: torch.Tensor) -> torch.Tensor:  # valid separable Gaussian filter, per channel
        x = x.reshape(n * c, 1, x.shape[-2], x.shape[-1])
        x = F.conv2d(x, window.view(1, 1, size, 1))
        return F.conv2d(x, window.view(1, 1, 1, size))

    ux, uy = blur(a), blur(b)
    vx = blur(a * a) - ux * ux
    vy = blur(b * b) - uy * uy
    vxy = blur(a * b) - ux * uy
    c1, c2 = (k1 * data_range) ** 2, (k2 * data_range) ** 2
    s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2))
    return s.reshape(n, c, -1).mean(dim=2).mean(dim=1)


class _FullReference(Metric):
    inputs = ("prediction", "target")
    _function: Any = None
    _base = ""

    def __init__(self, *, y_channel: bool = False, crop_border: int = 0, data_range: float = 1.0) -> None:
        self.y_channel, self.crop_border, self.data_range = y_channel, crop_border, data_range
        self.name = f"{self._base}-y" if y_channel else self._base
        space = "Y channel (BT.601, MATLAB rgb2ycbcr, 8-bit range)" if y_channel else "all channels"
        self.protocol = f"{space}, border crop {crop_border} px, mean over images"
        super().__init__()

    def reset(self) -> None:
        self.total = 0.0
        self.count = 0

    def update(self, prediction: torch.Tensor, target: torch.Tensor) -> None:
        values = self._function(
            prediction, target, self.data_range, y_channel=self.y_channel, crop_border=self.crop_border
        )
        self.total += float(values.sum())
        self.count += values.numel()

    def compute(self) -> dict[str, float]:
        if self.count == 0:
            raise ZooError(f"{self.name} has seen no images; call update(prediction=..., target=...) first.")
        return {self.name: self.total / self.count}


class PSNR(_FullReference):
    """Mean per-image PSNR in dB; ``y_channel=True, crop_border=scale`` is the SR papers' protocol.

    Example:
        >>> m = PSNR()
        >>> m.update(prediction=torch.zeros(1, 3, 8, 8), target=torch.full((1, 3, 8, 8), 0.1))
        >>> m.compute()
        {'psnr': 20.0}
    """

    _base = "psnr"
    _function = staticmethod(psnr)
    higher_is_better = True
    unit = "dB"


class SSIM(_FullReference):
    """Mean per-image SSIM; ``y_channel=True, crop_border=scale`` is the SR papers' protocol.

    Example:
        >>> m = SSIM(y_channel=True, crop_border=4)
        >>> m.update(prediction=sr, target=hr)
        >>> m.compute()
        {'ssim-y': 0.90}
    """

    _base = "ssim"
    _function = staticmethod(ssim)
    higher_is_better = True
    unit = ""


def psnr_y(*, crop_border: int = 4, data_range: float = 1.0) -> PSNR:
    """PSNR on the Y channel with a border crop: the SR papers' protocol (``crop_border`` = scale, 4 for x4).

    Example:
        >>> psnr_y(crop_border=2)  # a x2 model
    """
    return PSNR(y_channel=True, crop_border=crop_border, data_range=data_range)


def ssim_y(*, crop_border: int = 4, data_range: float = 1.0) -> SSIM:
    """SSIM on the Y channel with a border crop: the SR papers' protocol (``crop_border`` = scale, 4 for x4).

    Example:
        >>> ssim_y(crop_border=4)
    """
    return SSIM(y_channel=True, crop_border=crop_border, data_range=data_range)
