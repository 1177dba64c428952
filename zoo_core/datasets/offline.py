"""Real data shipped inside installed packages: ``digits``, ``photos`` and ``faces``.

Nothing is downloaded. scikit-learn, scikit-image and matplotlib are imported only when a
dataset is loaded (``pip install 'zoo-core[data]'``).

Splits (fixed and deterministic):

- ``digits``: scikit-learn's 1,797 handwritten 8x8 digits (values 0-16, scaled to 0-255, ink
  bright as in MNIST); the last 20 % (rounded down) of each class in scikit-learn's order are
  the test split (355 digits), the rest train (1,442). The writers are not recorded, so the
  split is not writer-disjoint (all 1,797 are UCI optdigits' test set, 13 writers).
- ``photos``: ten RGB photographs; ``chelsea``, ``coffee`` and ``grace_hopper`` are held out for
  evaluation (an animal, a still life and a portrait, the kinds of Set5 / Set14), the other
  seven train. Grey photos (camera, moon, coins) and grey textures (brick, grass, gravel) are
  left out: an SR model trained on RGB should not see grey-copied-to-RGB images, and the
  synthetic ones (colorwheel, logo) are not photographs. ``stereo_motorcycle`` states no
  license, so it is left out too.
- ``faces``: scikit-image's ``lfw_subset`` holds 100 faces (25x25, grey) followed by 100 patches
  that are *not* faces (it was made for a face detector); ``faces`` serves the 100 faces, the
  last 20 of them as the test split.

Example:
    >>> from zoo_core.data import load_dataset
    >>> sr = load_dataset("photos", split="test")
    >>> sr[0]["name"], sr[0]["image"].shape, sr[0]["target"].shape
    ('chelsea', torch.Size([3, 75, 112]), torch.Size([3, 300, 448]))
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import Any

import numpy as np
import torch

from .._errors import ZooError
from ..data import RandomItemsDataset, TensorImageDataset
from .transforms import bicubic_downscale

__all__ = ["EVAL_PHOTOS", "PHOTOS", "PhotoDataset", "load_digits", "load_faces", "load_photo", "load_photos"]

#: name -> the package that ships it, for every photograph of ``photos`` (in serving order)
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
#: the held-out evaluation photographs (the ``test`` split)
EVAL_PHOTOS = ("chelsea", "coffee", "grace_hopper")


def _need(module: str, dataset: str) -> Any:
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


def load_digits(split: str = "train", size: int = 8, margin: int = 0) -> TensorImageDataset:
    """scikit-learn's handwritten digits as 1-channel images with labels.

    ``size`` (8 to 256) resizes them (bilinear: bicubic would ring around 8x8 blocks), e.g. 28 or
    32 to pair them with MNIST for translation. The digits fill their 8x8 frame, MNIST's sit in a
    20x20 box centred in 28x28: ``margin=4`` with ``size=28`` resizes to 20 and pads 4 black
    pixels on each side, which frames them the same way.

    Example:
        >>> test = load_digits("test", size=28, margin=4)
        >>> len(test), test.image_size, test[0]["label"]
        (355, (28, 28), 8)
    """
    _check_split(split, ("train", "test", "all"), "digits")
    if not 8 <= size <= 256 or not 0 <= 2 * margin <= size - 8:
        raise ZooError(
            f"digits take a size from 8 to 256 and a margin that leaves at least 8 pixels, not size={size}, "
            f"margin={margin}."
        )
    data = _need("sklearn.datasets", "digits").load_digits()
    images = torch.from_numpy(np.rint(data.images * (255.0 / 16.0)).astype(np.uint8)).unsqueeze(1)
    labels = torch.from_numpy(data.target.astype(np.int64))
    test = torch.zeros(len(labels), dtype=torch.bool)
    for digit in range(10):
        members = torch.nonzero(labels == digit).flatten()
        test[members[len(members) - len(members) // 5 :]] = True
    index = torch.arange(len(labels)) if split == "all" else torch.nonzero(test if split == "test" else ~test).flatten()
    images = images[index]
    inner = size - 2 * margin
    if inner != 8:
        images = _resize_uint8(images, inner)
    if margin:
        images = torch.nn.functional.pad(images, (margin, margin, margin, margin))
    return TensorImageDataset(images.contiguous(), labels[index], name="digits", split=split)


def load_faces(split: str = "train") -> TensorImageDataset:
    """The 100 faces of scikit-image's ``lfw_subset`` (25x25 grey); the last 20 are the test split.

    ``lfw_subset`` stores floats in [0, 1]; they are rounded to 8 bits like every other dataset.

    Example:
        >>> faces = load_faces("train")
        >>> len(faces), faces.image_size, faces.channels
        (80, (25, 25), 1)
    """
    _check_split(split, ("train", "test", "all"), "faces")
    faces = _need("skimage.data", "faces").lfw_subset()[:100]
    images = torch.from_numpy(np.rint(faces * 255.0).astype(np.uint8)).unsqueeze(1)
    index = {"train": slice(0, 80), "test": slice(80, 100), "all": slice(0, 100)}[split]
    return TensorImageDataset(images[index].clone(), name="faces", split=split)


@cache
def load_photo(name: str) -> torch.Tensor:
    """One photograph of ``photos`` as a uint8 ``(3, H, W)`` tensor (cached; do not modify it).

    Example:
        >>> load_photo("chelsea").shape
        torch.Size([3, 300, 451])
    """
    if name not in PHOTOS:
        raise ZooError(f"There is no photo {name!r}; the photos are {', '.join(PHOTOS)}.")
    source = PHOTOS[name]
    if source == "skimage":
        array = getattr(_need("skimage.data", "photos"), name)()
    elif source == "sklearn":
        bunch = _need("sklearn.datasets", "photos").load_sample_images()
        array = bunch.images[[f.replace("\\", "/").rsplit("/", 1)[-1] for f in bunch.filenames].index(f"{name}.jpg")]
    else:
        from PIL import Image

        cbook = _need("matplotlib.cbook", "photos")
        with Image.open(cbook.get_sample_data("grace_hopper.jpg")) as image:
            array = np.asarray(image.convert("RGB"))
    return torch.from_numpy(np.array(array, dtype=np.uint8)).permute(2, 0, 1).contiguous()


class PhotoDataset(RandomItemsDataset):
    """``photos``: random crops for training, whole images for evaluation (the SR protocol).

    With ``scale`` (default 4) items are ``{"image": LR, "target": HR, "name": photo}`` where LR
    is ``bicubic_downscale(HR, scale)`` (PIL bicubic on 8 bits; see its docstring for how that
    differs from MATLAB's ``imresize``); with ``scale=None`` items are ``{"image": HR, "name"}``.

    Training items are ``crops_per_epoch`` random ``crop_size`` crops (SRGAN: 96x96 HR). Item
    ``i`` picks a photo uniformly (weighting by area would give the 1411x1411 retina scan, a
    tenth of whose crops are black background, half of all crops), a position and, with
    ``flip``, a horizontal flip, from a generator seeded with ``(seed, epoch, i)``: the same
    seed gives the same crops, ``set_epoch`` new ones. Evaluation items are the whole held-out
    photos, cropped at the bottom and right to a multiple of the scale (the SR "modcrop").

    ``image_size`` is the size of ``"image"`` (the LR crop), ``None`` for whole images;
    ``target_size`` is the HR size.

    Example:
        >>> train = PhotoDataset("train", seed=0)
        >>> train[0]["image"].shape, train[0]["target"].shape
        (torch.Size([3, 24, 24]), torch.Size([3, 96, 96]))
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
        flip: bool = True,
        seed: int = 0,
        whole: bool | None = None,
    ) -> None:
        _check_split(split, ("train", "test"), "photos")
        if scale is not None and (scale < 1 or crop_size % scale):
            raise ZooError(f"crop_size {crop_size} must be a multiple of the scale {scale}.")
        if crops_per_epoch < 1:
            raise ZooError(f"crops_per_epoch must be at least 1, not {crops_per_epoch}.")
        self.name, self.split = "photos", split
        self.names = [n for n in PHOTOS if (n in EVAL_PHOTOS) == (split == "test")]
        self.photos = [load_photo(n) for n in self.names]
        self.scale, self.crop_size, self.crops_per_epoch = scale, crop_size, crops_per_epoch
        self.flip, self.seed = flip, seed
        self.whole = (split == "test") if whole is None else whole
        smallest = min(min(p.shape[-2:]) for p in self.photos)
        if not self.whole and not 1 <= crop_size <= smallest:
            raise ZooError(
                f"The photos' crop_size must be from 1 to {smallest} pixels (their smallest side), not {crop_size}."
            )
        self.kind = "paired" if scale else "images"
        if self.whole:
            self.image_size = self.target_size = None
        else:
            self.target_size = (crop_size, crop_size)
            low = crop_size // (scale or 1)
            self.image_size = (low, low)

    def __len__(self) -> int:
        return len(self.photos) if self.whole else self.crops_per_epoch

    def _crop(self, index: int) -> tuple[torch.Tensor, str]:
        generator = self.generator(index)
        which = int(torch.randint(0, len(self.photos), (1,), generator=generator))
        photo, size = self.photos[which], self.crop_size
        top = int(torch.randint(0, photo.shape[1] - size + 1, (1,), generator=generator))
        left = int(torch.randint(0, photo.shape[2] - size + 1, (1,), generator=generator))
        crop = photo[:, top : top + size, left : left + size]
        if self.flip and float(torch.rand((), generator=generator)) < 0.5:
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
            item["image"] = bicubic_downscale(hr, self.scale).float().div_(255.0)
            item["target"] = hr.float().div_(255.0)
        else:
            item["image"] = hr.float().div_(255.0)
        return item


def load_photos(split: str = "train", **options: Any) -> PhotoDataset:
    """The ``photos`` dataset (options: scale, crop_size, crops_per_epoch, flip, seed, whole).

    Example:
        >>> load_photos("test", scale=2)[0]["image"].shape
        torch.Size([3, 150, 225])
    """
    return PhotoDataset(split, **options)
