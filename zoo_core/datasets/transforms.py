"""The papers' image transforms, on float ``(C, H, W)`` tensors in [0, 1].

Each transform takes a list of images and applies the *same* random choice to all of them, so
that an aligned pair (pix2pix's A and B) is cropped and flipped together; unpaired images
(CycleGAN's A and B) are transformed by separate calls. Randomness comes from the
``torch.Generator`` passed in (``None``: torch's global generator), so crops are reproducible
from a seed.

Why float tensors rather than PIL images: the items are already float CHW (the dataset
contract), and ``F.interpolate(..., antialias=True)`` reproduces PIL's bicubic resize to within
about one grey level, so the pipeline never goes back to 8 bits between steps. The one place
where 8-bit PIL is used on purpose is ``bicubic_downscale``, the super-resolution LR input.

Example:
    >>> transform = pix2pix_train_transform()  # load 286, random crop 256, random flip
    >>> a, b = transform([a, b], torch.Generator().manual_seed(0))
    >>> a.shape
    torch.Size([3, 256, 256])
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from .._errors import ZooError

__all__ = [
    "CenterCrop",
    "Compose",
    "RandomCrop",
    "RandomHorizontalFlip",
    "Resize",
    "bicubic_downscale",
    "cyclegan_train_transform",
    "pix2pix_test_transform",
    "pix2pix_train_transform",
]

Images = list[torch.Tensor]


class Compose:
    """Apply transforms in order, passing the one generator to each.

    Example:
        >>> Compose([Resize(64), RandomCrop(56)])([image], torch.Generator().manual_seed(0))[0].shape
        torch.Size([3, 56, 56])
    """

    def __init__(self, transforms: Sequence[object]) -> None:
        self.transforms = list(transforms)

    def __call__(self, images: Images, generator: torch.Generator | None = None) -> Images:
        for transform in self.transforms:
            images = transform(images, generator)  # type: ignore[operator]
        return images


class Resize:
    """Resize to ``(h, w)``, or to a ``size`` x ``size`` square as pix2pix's ``load_size`` does.

    Bicubic with antialiasing (as PIL's ``Image.BICUBIC``), clamped to [0, 1]. A square is what
    pix2pix / CycleGAN's ``resize_and_crop`` does: it ignores the aspect ratio.

    Example:
        >>> Resize(286)([torch.rand(3, 256, 256)])[0].shape
        torch.Size([3, 286, 286])
    """

    def __init__(self, size: int | tuple[int, int], mode: str = "bicubic") -> None:
        self.size = (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))
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


def _check_same_size(images: Images, what: str) -> tuple[int, int]:
    h, w = images[0].shape[-2:]
    for image in images[1:]:
        if tuple(image.shape[-2:]) != (h, w):
            raise ZooError(
                f"{what} needs images of one size to crop them together, got {h}x{w} and "
                f"{image.shape[-2]}x{image.shape[-1]}; resize them first."
            )
    return int(h), int(w)


class RandomCrop:
    """The same random ``size`` x ``size`` window of every image (they must share their size).

    Example:
        >>> a, b = RandomCrop(256)([a, b], torch.Generator().manual_seed(0))
    """

    def __init__(self, size: int) -> None:
        self.size = size

    def __call__(self, images: Images, generator: torch.Generator | None = None) -> Images:
        h, w = _check_same_size(images, "RandomCrop")
        if h < self.size or w < self.size:
            raise ZooError(f"Cannot crop {self.size}x{self.size} from a {h}x{w} image; use a smaller crop size.")
        top = int(torch.randint(0, h - self.size + 1, (1,), generator=generator))
        left = int(torch.randint(0, w - self.size + 1, (1,), generator=generator))
        return [image[..., top : top + self.size, left : left + self.size] for image in images]


class CenterCrop:
    """The central ``size`` x ``size`` window (top-left rounding down, as torchvision).

    Example:
        >>> CenterCrop(64)([torch.rand(3, 64, 80)])[0].shape
        torch.Size([3, 64, 64])
    """

    def __init__(self, size: int) -> None:
        self.size = size

    def __call__(self, images: Images, generator: torch.Generator | None = None) -> Images:
        h, w = _check_same_size(images, "CenterCrop")
        if h < self.size or w < self.size:
            raise ZooError(f"Cannot crop {self.size}x{self.size} from a {h}x{w} image; use a smaller crop size.")
        top, left = (h - self.size) // 2, (w - self.size) // 2
        return [image[..., top : top + self.size, left : left + self.size] for image in images]


class RandomHorizontalFlip:
    """Mirror every image left-right with probability ``p`` (one draw for all of them).

    Example:
        >>> image = torch.rand(3, 8, 8)
        >>> torch.equal(RandomHorizontalFlip(p=1.0)([image])[0], image.flip(-1))
        True
    """

    def __init__(self, p: float = 0.5) -> None:
        self.p = p

    def __call__(self, images: Images, generator: torch.Generator | None = None) -> Images:
        if float(torch.rand((), generator=generator)) < self.p:
            return [image.flip(-1) for image in images]
        return images


def pix2pix_train_transform(load_size: int = 286, crop_size: int = 256, flip: bool = True) -> Compose:
    """pix2pix / CycleGAN training (``--preprocess resize_and_crop``): resize to a ``load_size`` square,
    random ``crop_size`` crop, random horizontal flip.

    Example:
        >>> pix2pix_train_transform()([torch.rand(3, 256, 256)])[0].shape
        torch.Size([3, 256, 256])
    """
    steps: list[object] = [Resize(load_size), RandomCrop(crop_size)]
    if flip:
        steps.append(RandomHorizontalFlip())
    return Compose(steps)


def pix2pix_test_transform(crop_size: int = 256) -> Compose:
    """Evaluation: resize straight to ``crop_size``, no randomness.

    The reference's test options set ``load_size = crop_size`` and ``no_flip``, so its crop is
    the whole resized image.

    Example:
        >>> pix2pix_test_transform()([torch.rand(3, 300, 600)])[0].shape
        torch.Size([3, 256, 256])
    """
    return Compose([Resize(crop_size)])


#: CycleGAN trains with the same resize / crop / flip (applied to A and B independently).
cyclegan_train_transform = pix2pix_train_transform


def bicubic_downscale(image: torch.Tensor, scale: int) -> torch.Tensor:
    """The super-resolution LR input: PIL's bicubic downscale by ``scale`` of an 8-bit image.

    ``image`` is a float ``(C, H, W)`` in [0, 1] (rounded to 8 bits first) or a uint8 tensor; H
    and W must be multiples of ``scale``. The result has the input's dtype.

    Why PIL on uint8: it is what most SR code bases (and torchvision's ``Resize`` on PIL images)
    do, it is deterministic across machines, and it antialiases (its kernel widens by ``scale``
    when shrinking). The SRGAN / EDSR papers made LR images with MATLAB's ``imresize``, which
    uses the same Keys kernel (a = -0.5) but computes in double precision and rounds once,
    where PIL rounds to 8 bits between its horizontal and vertical pass and weights the borders
    differently. Measured against a NumPy port of ``imresize`` at scale 4 on astronaut, chelsea,
    coffee and china: about 11 % of LR pixels differ, by 0.12 grey level on average (at most 4
    inside the image, up to 12 in the outer two rows and columns), and the PSNR of a bicubic
    upscaling baseline moves by less than 0.01 dB (a gap to a paper's number below that means nothing).

    Example:
        >>> bicubic_downscale(torch.rand(3, 96, 96), 4).shape
        torch.Size([3, 24, 24])
    """
    from PIL import Image

    h, w = image.shape[-2:]
    if scale < 1 or h % scale or w % scale:
        raise ZooError(f"A {h}x{w} image cannot be downscaled by {scale}: crop it to a multiple of the scale first.")
    pixels = image if image.dtype == torch.uint8 else (image * 255.0).round_().clamp_(0, 255).to(torch.uint8)
    array = pixels.permute(1, 2, 0).numpy()
    picture = Image.fromarray(array[:, :, 0] if array.shape[2] == 1 else array)
    small = np.asarray(picture.resize((w // scale, h // scale), Image.Resampling.BICUBIC))
    out = torch.from_numpy(small.copy())
    out = out.unsqueeze(0) if out.dim() == 2 else out.permute(2, 0, 1).contiguous()
    return out if image.dtype == torch.uint8 else out.float().div_(255.0)
