"""The papers' image transforms, on float ``(C, H, W)`` tensors in [0, 1].

Each transform takes a list of images and applies the *same* random choice to all of them, so
that an aligned pair (pix2pix's A and B) is cropped and flipped together. Randomness comes from
a ``torch.Generator``, so crops are reproducible from a seed.

Example:
    >>> transform = pix2pix_train_transform()          # load 286, random crop 256, random flip
    >>> a, b = transform([a, b], torch.Generator().manual_seed(0))
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

__all__ = [
    "CenterCrop",
    "Compose",
    "RandomCrop",
    "RandomHorizontalFlip",
    "Resize",
    "cyclegan_train_transform",
    "pix2pix_test_transform",
    "pix2pix_train_transform",
]

Images = list[torch.Tensor]


class Compose:
    def __init__(self, transforms: Sequence[object]) -> None:
        self.transforms = list(transforms)

    def __call__(self, images: Images, generator: torch.Generator | None = None) -> Images:
        for transform in self.transforms:
            images = transform(images, generator)  # type: ignore[operator]
        return images


class Resize:
    """Resize to ``(h, w)`` (or a square side), bicubic with antialiasing like PIL, clamped to [0, 1]."""

    def __init__(self, size: int | tuple[int, int], mode: str = "bicubic") -> None:
        self.size = (size, size) if isinstance(size, int) else tuple(size)
        self.mode = mode

    def __call__(self, images: Images, generator: torch.Generator | None = None) -> Images:
        out = []
        for image in images:
            if tuple(image.shape[-2:]) == self.size:
                out.append(image)
                continue
            resized = F.interpolate(image[None], size=self.size, mode=self.mode, align_corners=False, antialias=True)
            out.append(resized[0].clamp_(0, 1))
        return out


class RandomCrop:
    """The same random ``size`` x ``size`` window of every image (they must share their size)."""

    def __init__(self, size: int) -> None:
        self.size = size

    def __call__(self, images: Images, generator: torch.Generator | None = None) -> Images:
        h, w = images[0].shape[-2:]
        if h < self.size or w < self.size:
            from .._errors import ZooError

            raise ZooError(f"Cannot crop {self.size}x{self.size} from a {h}x{w} image; use a smaller crop size.")
        top = int(torch.randint(0, h - self.size + 1, (1,), generator=generator))
        left = int(torch.randint(0, w - self.size + 1, (1,), generator=generator))
        return [image[..., top : top + self.size, left : left + self.size] for image in images]


class CenterCrop:
    def __init__(self, size: int) -> None:
        self.size = size

    def __call__(self, images: Images, generator: torch.Generator | None = None) -> Images:
        h, w = images[0].shape[-2:]
        top, left = (h - self.size) // 2, (w - self.size) // 2
        return [image[..., top : top + self.size, left : left + self.size] for image in images]


class RandomHorizontalFlip:
    """Mirror every image left-right with probability ``p`` (one draw for all of them)."""

    def __init__(self, p: float = 0.5) -> None:
        self.p = p

    def __call__(self, images: Images, generator: torch.Generator | None = None) -> Images:
        if float(torch.rand((), generator=generator)) < self.p:
            return [image.flip(-1) for image in images]
        return images


def pix2pix_train_transform(load_size: int = 286, crop_size: int = 256, flip: bool = True) -> Compose:
    """pix2pix / CycleGAN training: resize to ``load_size``, random crop ``crop_size``, random flip."""
    steps: list[object] = [Resize(load_size), RandomCrop(crop_size)]
    if flip:
        steps.append(RandomHorizontalFlip())
    return Compose(steps)


def pix2pix_test_transform(crop_size: int = 256) -> Compose:
    """Evaluation: resize straight to ``crop_size``, no randomness."""
    return Compose([Resize(crop_size)])


cyclegan_train_transform = pix2pix_train_transform
