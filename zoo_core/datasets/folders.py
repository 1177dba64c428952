"""The papers' folder formats, for users' own data.

- ``imagefolder``: images in a folder, or in class subfolders (labels from the sorted subfolder
  names); ``ROOT/SPLIT/`` is used when it exists.
- ``aligned`` (pix2pix): each image is ``A|B`` side by side, under ``ROOT/train``, ``val``, ``test``;
  ``direction="AtoB"`` gives ``{"image": A, "target": B}``, ``"BtoA"`` the reverse.
- ``unpaired`` (CycleGAN): ``ROOT/trainA``, ``trainB`` (``testA``, ``testB``); item ``i`` pairs
  ``A[i]`` with a random ``B`` (seeded per item), or ``B[i]`` with ``serial=True``, as the
  reference's ``--serial_batches``.
- ``captions`` (text to image): each image has a ``.txt`` file of the same stem, one caption per line.

Training splits use the papers' transform (resize to ``load_size`` 286, random crop ``crop_size``
256, random flip; the random choices come from a generator seeded with ``(seed, index)``), other
splits resize to ``crop_size``. ``load_size=None`` keeps the images as they are.

Example:
    >>> pairs = load_dataset("aligned", split="train", root="datasets/facades", direction="BtoA")
    >>> pairs[0]["image"].shape, pairs[0]["target"].shape
    (torch.Size([3, 256, 256]), torch.Size([3, 256, 256]))
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from .._errors import ZooError
from ..data import ImageDataset
from .transforms import Compose, pix2pix_test_transform, pix2pix_train_transform

__all__ = ["AlignedDataset", "CaptionDataset", "ImageFolderDataset", "UnpairedDataset", "list_images", "read_image"]

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm"}


def list_images(folder: Path) -> list[Path]:
    """The image files of ``folder`` (by suffix), sorted; a clear error when there are none."""
    if not folder.is_dir():
        raise ZooError(f"{folder} is not a folder; check the dataset's root.")
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise ZooError(f"{folder} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))}); add some or fix the path.")
    return files


def read_image(path: Path, channels: int = 3) -> torch.Tensor:
    """An image file as floats in [0, 1], ``(channels, H, W)``; grey and RGB are converted as asked."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            array = np.array(image.convert("L" if channels == 1 else "RGB"))
    except (UnidentifiedImageError, OSError) as exc:
        raise ZooError(f"{path} is not an image that can be read ({exc}); remove or replace it.") from exc
    tensor = torch.from_numpy(array)
    tensor = tensor.unsqueeze(0) if tensor.dim() == 2 else tensor.permute(2, 0, 1)
    return tensor.float().div_(255.0)


def _check_channels(channels: int) -> None:
    if channels not in (1, 3):
        raise ZooError(f"channels must be 1 (grey) or 3 (RGB), not {channels}.")


class _FolderDataset(ImageDataset):
    """Shared by the folder formats: the transform and its per-item seeded generator."""

    def __init__(self, split: str, channels: int, load_size: int | None, crop_size: int, flip: bool, seed: int) -> None:
        _check_channels(channels)
        self.split, self.channels, self.seed = split, channels, seed
        if load_size is None:
            self.transform: Compose | None = None
            self.image_size = (0, 0)
        else:
            train = split == "train"
            self.transform = (
                pix2pix_train_transform(load_size, crop_size, flip) if train else pix2pix_test_transform(crop_size)
            )
            self.image_size = (crop_size, crop_size)

    def _apply(self, images: list[torch.Tensor], index: int) -> list[torch.Tensor]:
        if self.transform is None:
            return images
        return self.transform(images, torch.Generator().manual_seed(self.seed * 1_000_003 + index))


class ImageFolderDataset(_FolderDataset):
    """Images, with labels when ``root`` has class subfolders."""

    def __init__(
        self,
        root: str | Path,
        split: str = "train",
        *,
        channels: int = 3,
        load_size: int | None = None,
        crop_size: int = 256,
        flip: bool = True,
        seed: int = 0,
    ) -> None:
        super().__init__(split, channels, load_size, crop_size, flip, seed)
        root = Path(root)
        folder = root / split if (root / split).is_dir() else root
        self.name = "imagefolder"
        classes = sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
        if classes:
            self.classes = classes
            self.files = [(f, label) for label, c in enumerate(classes) for f in list_images(folder / c)]
            self.kind = "labelled"
        else:
            self.classes = []
            self.files = [(f, -1) for f in list_images(folder)]
            self.kind = "images"

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> dict[str, Any]:
        path, label = self.files[index]
        (image,) = self._apply([read_image(path, self.channels)], index)
        return {"image": image, "label": label} if label >= 0 else {"image": image}


class AlignedDataset(_FolderDataset):
    """pix2pix pairs: ``A|B`` side by side in one image."""

    kind = "paired"

    def __init__(
        self,
        root: str | Path,
        split: str = "train",
        *,
        direction: str = "AtoB",
        channels: int = 3,
        load_size: int | None = 286,
        crop_size: int = 256,
        flip: bool = True,
        seed: int = 0,
    ) -> None:
        if direction not in ("AtoB", "BtoA"):
            raise ZooError(f"direction must be 'AtoB' or 'BtoA', not {direction!r}.")
        super().__init__(split, channels, load_size, crop_size, flip, seed)
        self.name, self.direction = "aligned", direction
        self.files = list_images(Path(root) / split)

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> dict[str, Any]:
        path = self.files[index]
        both = read_image(path, self.channels)
        width = both.shape[-1]
        if width % 2:
            raise ZooError(
                f"{path} is {width} pixels wide: an aligned pair must be two images of the same size "
                "side by side (A|B), so an even width."
            )
        a, b = both[..., : width // 2], both[..., width // 2 :]
        a, b = self._apply([a, b], index)
        if self.direction == "BtoA":
            a, b = b, a
        return {"image": a, "target": b}


class UnpairedDataset(_FolderDataset):
    """CycleGAN domains: ``ROOT/{split}A`` and ``ROOT/{split}B``, of unrelated sizes and counts."""

    kind = "unpaired"

    def __init__(
        self,
        root: str | Path,
        split: str = "train",
        *,
        serial: bool = False,
        channels: int = 3,
        load_size: int | None = 286,
        crop_size: int = 256,
        flip: bool = True,
        seed: int = 0,
    ) -> None:
        super().__init__(split, channels, load_size, crop_size, flip, seed)
        root = Path(root)
        for side in ("A", "B"):
            if not (root / f"{split}{side}").is_dir():
                raise ZooError(
                    f"{root / f'{split}{side}'} is missing: an unpaired dataset needs {split}A/ and {split}B/ folders."
                )
        self.name, self.serial = "unpaired", serial
        self.files_a, self.files_b = list_images(root / f"{split}A"), list_images(root / f"{split}B")

    def __len__(self) -> int:
        return max(len(self.files_a), len(self.files_b))

    def __getitem__(self, index: int) -> dict[str, Any]:
        a_path = self.files_a[index % len(self.files_a)]
        if self.serial:
            b_index = index % len(self.files_b)
        else:
            generator = torch.Generator().manual_seed(self.seed * 1_000_003 + index + 7)
            b_index = int(torch.randint(0, len(self.files_b), (1,), generator=generator))
        # A and B are transformed independently, as in the reference.
        (a,) = self._apply([read_image(a_path, self.channels)], index)
        (b,) = self._apply([read_image(self.files_b[b_index], self.channels)], index + 500_009)
        return {"image": a, "target": b}


class CaptionDataset(_FolderDataset):
    """Images with a ``.txt`` of captions each (one per line; item ``i`` takes a seeded random line)."""

    kind = "captioned"

    def __init__(
        self,
        root: str | Path,
        split: str = "train",
        *,
        channels: int = 3,
        load_size: int | None = None,
        crop_size: int = 256,
        flip: bool = False,
        seed: int = 0,
    ) -> None:
        super().__init__(split, channels, load_size, crop_size, flip, seed)
        root = Path(root)
        folder = root / split if (root / split).is_dir() else root
        self.name = "captions"
        self.files = list_images(folder)
        self.captions = []
        for path in self.files:
            text_file = path.with_suffix(".txt")
            if not text_file.is_file():
                raise ZooError(f"{path} has no caption file {text_file.name}; write one caption per line.")
            lines = [line.strip() for line in text_file.read_text(encoding="utf-8").splitlines() if line.strip()]
            if not lines:
                raise ZooError(f"{text_file} is empty; write one caption per line.")
            self.captions.append(lines)

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> dict[str, Any]:
        (image,) = self._apply([read_image(self.files[index], self.channels)], index)
        lines = self.captions[index]
        pick = int(torch.randint(0, len(lines), (1,), generator=torch.Generator().manual_seed(self.seed + index)))
        return {"image": image, "caption": lines[pick]}


def _needs_root(name: str, root: str | Path | None) -> Path:
    if root is None:
        raise ZooError(f"The {name!r} dataset reads your folder: pass root=FOLDER (or --dataset {name}:FOLDER).")
    return Path(root)


def load_imagefolder(split: str = "train", root: str | Path | None = None, **options: Any) -> ImageFolderDataset:
    return ImageFolderDataset(_needs_root("imagefolder", root), split, **options)


def load_aligned(split: str = "train", root: str | Path | None = None, **options: Any) -> AlignedDataset:
    return AlignedDataset(_needs_root("aligned", root), split, **options)


def load_unpaired(split: str = "train", root: str | Path | None = None, **options: Any) -> UnpairedDataset:
    return UnpairedDataset(_needs_root("unpaired", root), split, **options)


def load_captions(split: str = "train", root: str | Path | None = None, **options: Any) -> CaptionDataset:
    return CaptionDataset(_needs_root("captions", root), split, **options)
