"""Image grids: float NCHW tensors in [0, 1] to a PNG, written atomically (no torchvision)."""

from __future__ import annotations

import io
import math
import os
from typing import Any

import numpy as np

from ._atomic import write_output
from ._errors import ZooError

__all__ = ["make_grid", "save_grid"]


def make_grid(images: Any, nrow: int | None = None, padding: int = 2) -> np.ndarray:
    """Tile ``(N, C, H, W)`` images in [0, 1] into one ``(H', W', C)`` uint8 array."""
    array = images.detach().float().cpu().numpy() if hasattr(images, "detach") else np.asarray(images)
    if array.ndim != 4 or array.shape[1] not in (1, 3):
        raise ZooError(f"Expected images shaped (N, 1 or 3, H, W), got {tuple(array.shape)}.")
    n, c, h, w = array.shape
    nrow = nrow or max(1, math.ceil(math.sqrt(n)))
    rows = math.ceil(n / nrow)
    grid = np.zeros((c, rows * (h + padding) + padding, nrow * (w + padding) + padding), dtype=np.float32)
    for i in range(n):
        y, x = divmod(i, nrow)
        top, left = padding + y * (h + padding), padding + x * (w + padding)
        grid[:, top : top + h, left : left + w] = array[i]
    pixels = np.clip(grid * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return pixels.transpose(1, 2, 0)


def save_grid(images: Any, path: str | os.PathLike[str], nrow: int | None = None) -> None:
    """Write a grid of images as a PNG file, atomically: a failure (full disk, Ctrl-C) leaves no partial or
    temporary file, and an ``OSError`` is one sentence (a ``ZooError``)."""
    from PIL import Image

    pixels = make_grid(images, nrow)
    picture = Image.fromarray(pixels[:, :, 0] if pixels.shape[2] == 1 else pixels)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    write_output(path, buffer.getvalue())
