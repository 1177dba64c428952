"""``photos-colorize``: grey-to-colour pairs cut from the offline ``photos`` (zoo_core.datasets.offline).

Each item is ``{"image": grey (1, H, W), "target": colour (3, H, W), "name": photo}``; the grey
image is the photo's ITU-R 601 luma rounded to 8 bits, computed exactly as PIL's RGB -> ``L``
conversion (``(19595 R + 38470 G + 7471 B + 32768) >> 16``), so a colour photo turned grey by
any PIL-based tool, or by ``zoo translate``, is what the model saw in training.

Splits follow ``photos``: the seven training photos give ``crops_per_epoch`` random
``crop_size`` crops per epoch (seeded by ``(seed, epoch, index)``, flipped at random), and the
``test`` split is the three held-out photos whole (chelsea 300x451, coffee 400x600,
grace_hopper 600x512), never seen in training.

Example:
    >>> pairs = load_colorize("train", crop_size=128)
    >>> pairs[0]["image"].shape, pairs[0]["target"].shape
    (torch.Size([1, 128, 128]), torch.Size([3, 128, 128]))
"""

from __future__ import annotations

from typing import Any

import torch

from zoo_core.data import ImageDataset
from zoo_core.datasets.offline import PhotoDataset

__all__ = ["ColorizeDataset", "load_colorize", "pil_luma"]


def pil_luma(rgb: torch.Tensor) -> torch.Tensor:
    """PIL's ``convert("L")`` of float RGB images in [0, 1] (``(3, H, W)`` or ``(N, 3, H, W)``), as floats.

    Example:
        >>> pil_luma(torch.ones(3, 2, 2))
        tensor([[[1., 1.], [1., 1.]]])
    """
    pixels = (rgb * 255.0).round().clamp(0, 255).to(torch.int64)
    r, g, b = pixels.unbind(-3)
    luma = (r * 19595 + g * 38470 + b * 7471 + 32768) >> 16
    return luma.unsqueeze(-3).to(rgb.dtype) / 255.0


class ColorizeDataset(ImageDataset):
    """Grey input, colour target, from ``photos`` crops (train) or whole held-out photos (test).

    Example:
        >>> ColorizeDataset("test").names
        ['chelsea', 'coffee', 'grace_hopper']
    """

    kind = "paired"
    channels = 1
    target_channels = 3

    def __init__(
        self,
        split: str = "train",
        *,
        crop_size: int = 128,
        crops_per_epoch: int = 1000,
        flip: bool = True,
        seed: int = 0,
        whole: bool | None = None,
    ) -> None:
        self.photos = PhotoDataset(
            split, scale=None, crop_size=crop_size, crops_per_epoch=crops_per_epoch, flip=flip, seed=seed, whole=whole
        )
        self.name, self.split = "photos-colorize", split
        self.names = self.photos.names
        self.image_size = self.photos.image_size

    def set_epoch(self, epoch: int) -> None:
        self.photos.set_epoch(epoch)

    def __len__(self) -> int:
        return len(self.photos)

    def __getitem__(self, index: int) -> dict[str, Any]:
        item = self.photos[index]
        colour = item["image"]
        return {"image": pil_luma(colour), "target": colour, "name": item["name"]}


def load_colorize(split: str = "train", **options: Any) -> ColorizeDataset:
    """The ``photos-colorize`` dataset (options: crop_size, crops_per_epoch, flip, seed, whole).

    Example:
        >>> load_colorize("test")[0]["image"].shape
        torch.Size([1, 300, 451])
    """
    return ColorizeDataset(split, **options)
