"""Real data shipped inside installed packages: ``digits``, ``photos`` and ``faces``.

Nothing is downloaded. scikit-learn, scikit-image and matplotlib are imported only when a
dataset is loaded (``pip install 'zoo-core[data]'``).

Splits (fixed and deterministic):

- ``digits``: scikit-learn's 1,797 handwritten 8x8 digits (values 0-16, scaled to 0-255); the last
  20 % (rounded down) of each class in scikit-learn's order are the test split (355 digits), the
  rest train (1,442).
- ``photos``: ten RGB photographs; ``chelsea``, ``coffee`` and ``grace_hopper`` are held out for
  evaluation, the other seven train. Grey photos (camera, moon, coins) are left out so that every
  image is RGB.
- ``faces``: scikit-image's ``lfw_subset`` holds 100 faces (25x25, grey) followed by 100 patches
  that are *not* faces (it was made for a face detector); ``faces`` serves the 100 faces, the
  last 20 of them as the test split.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import torch

from .._errors import ZooError
from ..data import ImageDataset, TensorImageDataset

__all__ = ["EVAL_PHOTOS", "PHOTOS", "PhotoDataset", "load_digits", "load_faces", "load_photo", "load_photos"]

#: name -> (package, loader) of every photograph of ``photos``
PHOTOS: dict[str, str] = {
    "astronaut": "skimage",
    "chelsea": "skimage",
    "coffee": "skimage",
    "rocket": "skimage",
    "hubble_deep_field": "skimage",
    "retina": "skimage",
    "immunohistochemistry": "skimage",
    "china": "sklearn",
    "flower": "sklearn",
    "grace_hopper": "matplotlib",
}
EVAL_PHOTOS = ("chelsea", "coffee", "grace_hopper")


def _need(module: str, dataset: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        package = {"sklearn": "scikit-learn", "skimage": "scikit-image"}.get(module.split(".")[0], module)
        raise ZooError(f"The {dataset!r} dataset needs {package}: run `pip install 'zoo-core[data]'`.") from None


def _check_split(split: str, splits: tuple[str, ...], dataset: str) -> None:
    if split not in splits:
        raise ZooError(f"Dataset {dataset!r} has no split {split!r}; its splits are {', '.join(splits)}.")


def _resize_uint8(images: torch.Tensor, size: int) -> torch.Tensor:
    resized = torch.nn.functional.interpolate(
        images.float(), size=(size, size), mode="bilinear", align_corners=False, antialias=True
    )
    return resized.round_().clamp_(0, 255).to(torch.uint8)


def load_digits(split: str = "train", size: int = 8) -> TensorImageDataset:
    """scikit-learn's digits as 1-channel images; ``size`` 28 or 32 resizes them (bilinear) to pair with MNIST."""
    _check_split(split, ("train", "test", "all"), "digits")
    if size not in (8, 28, 32):
        raise ZooError(f"digits come in sizes 8, 28 or 32, not {size}.")
    data = _need("sklearn.datasets", "digits").load_digits()
    images = torch.from_numpy(np.rint(data.images * (255.0 / 16.0)).astype(np.uint8)).unsqueeze(1)
    labels = torch.from_numpy(data.target.astype(np.int64))
    test = torch.zeros(len(labels), dtype=torch.bool)
    for digit in range(10):
        members = torch.nonzero(labels == digit).flatten()
        test[members[len(members) - len(members) // 5 :]] = True
    index = torch.arange(len(labels)) if split == "all" else torch.nonzero(test if split == "test" else ~test).flatten()
    images = images[index]
    if size != 8:
        images = _resize_uint8(images, size)
    return TensorImageDataset(images, labels[index], name="digits", split=split)


def load_faces(split: str = "train") -> TensorImageDataset:
    """The 100 faces of scikit-image's ``lfw_subset`` (25x25 grey); the last 20 are the test split."""
    _check_split(split, ("train", "test", "all"), "faces")
    faces = _need("skimage.data", "faces").lfw_subset()[:100]
    images = torch.from_numpy(np.rint(faces * 255.0).astype(np.uint8)).unsqueeze(1)
    index = {"train": slice(0, 80), "test": slice(80, 100), "all": slice(0, 100)}[split]
    return TensorImageDataset(images[index].clone(), name="faces", split=split)


@cache
def load_photo(name: str) -> torch.Tensor:
    """One photograph as a uint8 ``(3, H, W)`` tensor."""
    if name not in PHOTOS:
        raise ZooError(f"There is no photo {name!r}; the photos are {', '.join(PHOTOS)}.")
    source = PHOTOS[name]
    if source == "skimage":
        array = getattr(_need("skimage.data", "photos"), name)()
    elif source == "sklearn":
        bunch = _need("sklearn.datasets", "photos").load_sample_images()
        array = bunch.images[[f.rsplit("/", 1)[-1] for f in bunch.filenames].index(f"{name}.jpg")]
    else:
        from PIL import Image

        cbook = _need("matplotlib.cbook", "photos")
        with Image.open(cbook.get_sample_data("grace_hopper.jpg")) as image:
            array = np.asarray(image.convert("RGB"))
    return torch.from_numpy(np.array(array, dtype=np.uint8)).permute(2, 0, 1).contiguous()


def _bicubic_down(hr: torch.Tensor, scale: int) -> torch.Tensor:
    """PIL's bicubic downscale of a uint8 image, as most SR code bases make LR inputs.

    (MATLAB's ``imresize``, used by the SRGAN paper, antialiases slightly differently; PSNR on
    the same model moves by a few hundredths of a dB between the two.)
    """
    from PIL import Image

    h, w = hr.shape[-2:]
    picture = Image.fromarray(hr.permute(1, 2, 0).numpy())
    small = picture.resize((w // scale, h // scale), Image.BICUBIC)
    return torch.from_numpy(np.array(small)).permute(2, 0, 1).contiguous()


class PhotoDataset(ImageDataset):
    """``photos``: random crops for training, whole images for evaluation (the SR protocol).

    With ``scale`` (default 4) items are ``{"image": LR, "target": HR}`` where LR is the bicubic
    downscale of HR; with ``scale=None`` items are ``{"image": HR}``. Training items are random
    ``crop_size`` crops (photo chosen in proportion to its area, position and flip from a
    generator seeded with ``(seed, index)``), ``crops_per_epoch`` of them; evaluation items are
    the whole held-out photos, cropped at the bottom and right to a multiple of the scale.
    """

    kind = "paired"
    channels = 3

    def __init__(
        self,
        split: str = "train",
        *,
        scale: int | None = 4,
        crop_size: int = 96,
        crops_per_epoch: int = 1000,
        seed: int = 0,
        whole: bool | None = None,
    ) -> None:
        _check_split(split, ("train", "test"), "photos")
        if scale is not None and (scale < 1 or crop_size % scale):
            raise ZooError(f"crop_size {crop_size} must be a multiple of the scale {scale}.")
        self.name, self.split = "photos", split
        self.names = [n for n in PHOTOS if (n in EVAL_PHOTOS) == (split == "test")]
        self.photos = [load_photo(n) for n in self.names]
        self.scale, self.crop_size, self.crops_per_epoch, self.seed = scale, crop_size, crops_per_epoch, seed
        self.whole = (split == "test") if whole is None else whole
        self.kind = "paired" if scale else "images"
        self.image_size = (0, 0) if self.whole else (crop_size, crop_size)
        areas = torch.tensor([p.shape[1] * p.shape[2] for p in self.photos], dtype=torch.float64)
        self._weights = areas / areas.sum()

    def __len__(self) -> int:
        return len(self.photos) if self.whole else self.crops_per_epoch

    def _crop(self, index: int) -> tuple[torch.Tensor, str]:
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + index)
        which = int(torch.multinomial(self._weights, 1, generator=generator))
        photo, size = self.photos[which], self.crop_size
        top = int(torch.randint(0, photo.shape[1] - size + 1, (1,), generator=generator))
        left = int(torch.randint(0, photo.shape[2] - size + 1, (1,), generator=generator))
        crop = photo[:, top : top + size, left : left + size]
        if float(torch.rand((), generator=generator)) < 0.5:
            crop = crop.flip(-1)
        return crop.contiguous(), self.names[which]

    def __getitem__(self, index: int) -> dict[str, Any]:
        if not 0 <= index < len(self):
            raise IndexError(index)
        if self.whole:
            hr, name = self.photos[index], self.names[index]
            if self.scale:
                h, w = hr.shape[1] - hr.shape[1] % self.scale, hr.shape[2] - hr.shape[2] % self.scale
                hr = hr[:, :h, :w].contiguous()
        else:
            hr, name = self._crop(index)
        item: dict[str, Any] = {"name": name}
        if self.scale:
            item["image"] = _bicubic_down(hr, self.scale).float().div_(255.0)
            item["target"] = hr.float().div_(255.0)
        else:
            item["image"] = hr.float().div_(255.0)
        return item


def load_photos(split: str = "train", **options: Any) -> PhotoDataset:
    return PhotoDataset(split, **options)
