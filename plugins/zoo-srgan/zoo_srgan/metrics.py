"""The bicubic baseline of super-resolution: ``psnr-y-bicubic`` and ``ssim-y-bicubic``.

An SR model's PSNR means little without the number plain bicubic upscaling reaches on the same
images. These metrics take the same ``(prediction, target)`` batches as ``psnr-y`` / ``ssim-y``
(so ``zoo eval`` and the end of ``zoo train`` compute them in the same pass), ignore the
prediction, and score instead the bicubic upscaling of each target's LR image:

1. LR = ``zoo_core.datasets.transforms.bicubic_downscale(target, scale)``: PIL's antialiased
   bicubic on 8 bits, exactly how ``photos`` (and every SR pair of zoo) makes its inputs, so for
   those data sets it *is* the model's input (targets in [0, 1] are 8-bit values / 255, and are
   rounded back to them exactly);
2. upscaled = PIL's bicubic (Keys kernel, a = -0.5, as MATLAB's ``imresize``) back to the
   target's size, rounded to 8 bits, as a bicubic image written to disk would be;
3. PSNR / SSIM on the Y channel (BT.601) with a border crop equal to the scale, as ``psnr-y``.

``scale`` (default 4) must be the model's upscale factor; the default is the x4 protocol.

Example:
    >>> zoo.evaluate("srgan.x4_photos", ["psnr-y", "psnr-y-bicubic"], "photos")
    [{'name': 'psnr-y', 'value': ...}, {'name': 'psnr-y-bicubic', 'value': ...}]
"""

from __future__ import annotations

import numpy as np
import torch

from zoo_core import ZooError
from zoo_core.metrics.image_quality import PSNR, SSIM

__all__ = ["BicubicPSNR", "BicubicSSIM", "bicubic_baseline", "bicubic_upscale"]


def bicubic_upscale(image: torch.Tensor, scale: int, size: tuple[int, int] | None = None) -> torch.Tensor:
    """PIL's bicubic upscaling of a float ``(C, H, W)`` image in [0, 1] (rounded to 8 bits before and after).

    Example:
        >>> bicubic_upscale(torch.rand(3, 24, 24), 4).shape
        torch.Size([3, 96, 96])
    """
    from PIL import Image

    h, w = image.shape[-2:]
    out_h, out_w = size or (h * scale, w * scale)
    pixels = (image.detach().float().cpu() * 255.0).round_().clamp_(0, 255).to(torch.uint8)
    array = pixels.permute(1, 2, 0).numpy()
    picture = Image.fromarray(array[:, :, 0] if array.shape[2] == 1 else array)
    big = np.asarray(picture.resize((out_w, out_h), Image.Resampling.BICUBIC))
    out = torch.from_numpy(big.copy())
    out = out.unsqueeze(0) if out.dim() == 2 else out.permute(2, 0, 1)
    return out.float().div_(255.0)


def bicubic_baseline(targets: torch.Tensor, scale: int) -> torch.Tensor:
    """The bicubic upscaling of each target's bicubic LR image: what an SR model must beat.

    Example:
        >>> bicubic_baseline(hr, 4).shape == hr.shape
        True
    """
    from zoo_core.datasets.transforms import bicubic_downscale

    if targets.dim() == 3:
        targets = targets.unsqueeze(0)
    h, w = targets.shape[-2:]
    if h % scale or w % scale:
        raise ZooError(
            f"The bicubic baseline needs targets whose sides are multiples of the scale {scale}, got {h}x{w}."
        )
    upscaled = [bicubic_upscale(bicubic_downscale(t.cpu().float(), scale), scale, (h, w)) for t in targets]
    return torch.stack(upscaled).to(targets.device)


class _Bicubic:
    def __init__(self, *, scale: int = 4, y_channel: bool = True, crop_border: int | None = None) -> None:
        self.scale = scale
        super().__init__(y_channel=y_channel, crop_border=scale if crop_border is None else crop_border)
        self.name = f"{self.name}-bicubic"
        self.protocol = f"bicubic x{scale} down and up (PIL, 8-bit) of each target; {self.protocol}"

    def update(self, prediction: torch.Tensor | None = None, target: torch.Tensor | None = None) -> None:
        if target is None:
            raise ZooError(f"{self.name} needs the target images (update(target=...)).")
        super().update(prediction=bicubic_baseline(target, self.scale), target=target)


class BicubicPSNR(_Bicubic, PSNR):
    """PSNR-Y of bicubic upscaling on the targets (the prediction is not used).

    Example:
        >>> m = BicubicPSNR(scale=4)
        >>> m.update(prediction=sr, target=hr)
        >>> m.compute()
        {'psnr-y-bicubic': 26.1}
    """


class BicubicSSIM(_Bicubic, SSIM):
    """SSIM-Y of bicubic upscaling on the targets (the prediction is not used).

    Example:
        >>> BicubicSSIM(scale=4).name
        'ssim-y-bicubic'
    """
