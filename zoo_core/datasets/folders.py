"""The papers' folder formats, for users' own data.

- ``imagefolder``: images in a folder, or in class subfolders (labels from the sorted subfolder
  names, as torchvision's ``ImageFolder``; images inside a class folder may sit in deeper folders).
- ``aligned`` (pix2pix): each image is ``A|B`` side by side, under ``ROOT/train``, ``val``, ``test``;
  ``direction="AtoB"`` gives ``{"image": A, "target": B}``, ``"BtoA"`` the reverse.
- ``unpaired`` (CycleGAN): ``ROOT/trainA``, ``trainB`` (``testA``, ``testB``); item ``i`` pairs
  ``A[i]`` with a random ``B`` (seeded per item), or ``B[i]`` with ``serial=True``, as the
  reference's ``--serial_batches``; the dataset is as long as the larger domain.
- ``captions`` (text to image): each image has a ``.txt`` file of the same stem (next to it, or
  at the same relative path under ``text_root``), one caption per line; items ``{"image", "caption"}``.

Splits. ``aligned`` and ``unpaired`` use the papers' split folders and fail when one is missing.
``imagefolder`` and ``captions`` take ``ROOT/train``, ``ROOT/val``, ``ROOT/test`` when ROOT has
any of them (``all``: all of them); a folder without split folders is served whole as ``train``
and ``all``, and asking it for ``val`` or ``test`` is an error rather than silently serving the
training images again.

Transforms. Training splits use the papers' transform (resize to a ``load_size`` 286 square,
random crop ``crop_size`` 256, random flip); the random choices come from a generator seeded
with ``(seed, epoch, index)`` (``set_epoch`` for fresh ones). Other splits resize to
``crop_size`` (the reference's test options set ``load_size = crop_size``, no flip).
``load_size=None`` keeps the images as they are.

Only files with an image suffix are read (other files, and names starting with ``.``, are
skipped); a file with an image suffix that cannot be decoded fails when it is read, naming it.

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
from ..data import RandomItemsDataset
from .transforms import Compose, pix2pix_test_transform, pix2pix_train_transform

__all__ = [
    "IMAGE_SUFFIXES",
    "AlignedDataset",
    "CaptionDataset",
    "ImageFolderDataset",
    "UnpairedDataset",
    "list_images",
    "read_image",
    "split_folders",
]

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm"})
SPLIT_NAMES = ("train", "val", "test")


def _hidden(path: Path, below: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(below).parts)


def list_images(folder: Path, *, recursive: bool = False) -> list[Path]:
    """The image files of ``folder`` (by suffix, sorted, hidden names skipped); an error when there are none.

    Example:
        >>> list_images(Path("datasets/facades/train"))[:2]
        [PosixPath('datasets/facades/train/1.jpg'), PosixPath('datasets/facades/train/10.jpg')]
    """
    if not folder.is_dir():
        raise ZooError(f"{folder} is not a folder; check the dataset's root.")
    entries = sorted(p for p in (folder.rglob("*") if recursive else folder.iterdir()) if p.is_file())
    entries = [p for p in entries if not _hidden(p, folder)]
    files = [p for p in entries if p.suffix.lower() in IMAGE_SUFFIXES]
    if not files:
        others = [p.name for p in entries]
        skipped = f" (it holds {len(others)} other file(s), e.g. {others[0]})" if others else ""
        raise ZooError(
            f"{folder} holds no images{skipped}; put {', '.join(sorted(IMAGE_SUFFIXES))} files there or fix the path."
        )
    return files


def read_image(path: Path, channels: int = 3) -> torch.Tensor:
    """An image file as floats in [0, 1], ``(channels, H, W)``; grey and RGB are converted as asked.

    Example:
        >>> read_image(Path("datasets/facades/train/1.jpg")).shape
        torch.Size([3, 256, 512])
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            array = np.array(image.convert("L" if channels == 1 else "RGB"))
    except (UnidentifiedImageError, OSError) as exc:
        raise ZooError(f"{path} is not an image that can be read ({exc}); remove or replace it.") from exc
    tensor = torch.from_numpy(array)
    tensor = tensor.unsqueeze(0) if tensor.dim() == 2 else tensor.permute(2, 0, 1)
    return tensor.float().div_(255.0)


def split_folders(root: Path, split: str, dataset: str) -> list[Path]:
    """The folders of ``split`` under ``root`` (see the module docstring for the rule).

    Example:
        >>> split_folders(Path("flowers"), "train", "imagefolder")  # flowers/ has train/ and test/
        [PosixPath('flowers/train')]
    """
    if not root.is_dir():
        raise ZooError(f"{root} is not a folder; check the {dataset!r} dataset's root.")
    present = [name for name in SPLIT_NAMES if (root / name).is_dir()]
    if split not in (*SPLIT_NAMES, "all"):
        raise ZooError(f"Dataset {dataset!r} has no split {split!r}; its splits are train, val, test, all.")
    if present:
        if split == "all":
            return [root / name for name in present]
        if split not in present:
            raise ZooError(
                f"{root / split} is missing: {root} is split into {', '.join(n + '/' for n in present)} but has no "
                f"{split}/; create it or ask for one of those splits."
            )
        return [root / split]
    if split in ("train", "all"):
        return [root]
    raise ZooError(
        f"{root} has no {split}/ folder, so it has no held-out images (without split folders the whole folder is "
        f"the train split); move held-out images to {root / split} and the rest to {root / 'train'}."
    )


def _check_channels(channels: int) -> None:
    if channels not in (1, 3):
        raise ZooError(f"channels must be 1 (grey) or 3 (RGB), not {channels}.")


def _check_direction(direction: str) -> None:
    if direction not in ("AtoB", "BtoA"):
        raise ZooError(f"direction must be 'AtoB' or 'BtoA', not {direction!r}.")


class _FolderDataset(RandomItemsDataset):
    """Shared by the folder formats: the split's transform, fed by the item's seeded generator."""

    def __init__(self, split: str, channels: int, load_size: int | None, crop_size: int, flip: bool, seed: int) -> None:
        _check_channels(channels)
        self.split, self.channels, self.seed = split, channels, seed
        if load_size is None:
            self.transform: Compose | None = None
            self.image_size = None
        else:
            train = split == "train"
            self.transform = (
                pix2pix_train_transform(load_size, crop_size, flip) if train else pix2pix_test_transform(crop_size)
            )
            self.image_size = (crop_size, crop_size)

    def _apply(self, images: list[torch.Tensor], index: int, stream: int = 0) -> list[torch.Tensor]:
        if self.transform is None:
            return images
        return self.transform(images, self.generator(index, stream))


class ImageFolderDataset(_FolderDataset):
    """Images, with labels when the folder has class subfolders.

    A folder holds either images (no labels) or class subfolders (labels ``0..K-1`` in sorted
    order, ``classes`` names them), not both: loose images beside class folders would otherwise
    be dropped (torchvision) or mislabelled. Folders whose name starts with ``.`` are not
    classes (``.ipynb_checkpoints``).

    Example:
        >>> pets = ImageFolderDataset("pets", "train", load_size=72, crop_size=64)  # pets/train/{cat,dog}/
        >>> pets.classes, pets[0]["label"], pets[0]["image"].shape
        (['cat', 'dog'], 0, torch.Size([3, 64, 64]))
    """

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
        self.name = "imagefolder"
        folders = split_folders(Path(root), split, "imagefolder")
        class_dirs = {f: sorted(p for p in f.iterdir() if p.is_dir() and not p.name.startswith(".")) for f in folders}
        self.classes = sorted({d.name for dirs in class_dirs.values() for d in dirs})
        self.files: list[tuple[Path, int]] = []
        for folder in folders:
            loose = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]
            if self.classes and loose:
                raise ZooError(
                    f"{folder} holds both images (e.g. {loose[0].name}) and class subfolders; put every image in a "
                    "class subfolder (labelled data) or none (unlabelled)."
                )
            if self.classes:
                label = {name: i for i, name in enumerate(self.classes)}
                self.files += [(f, label[d.name]) for d in class_dirs[folder] for f in list_images(d, recursive=True)]
            else:
                self.files += [(f, -1) for f in list_images(folder)]
        self.kind = "labelled" if self.classes else "images"

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> dict[str, Any]:
        path, label = self.files[index]
        (image,) = self._apply([read_image(path, self.channels)], index)
        return {"image": image, "label": label} if label >= 0 else {"image": image}


class AlignedDataset(_FolderDataset):
    """pix2pix pairs: ``A|B`` side by side in one image, under ``ROOT/{train,val,test}``.

    The image is cut at half its width (A left, B right, as the reference's ``aligned_dataset``);
    an odd width fails, naming the file, where the reference would silently drop a column. A
    and B get the same resize, crop and flip. ``direction="BtoA"`` (pix2pix's facades setting)
    swaps them.

    Example:
        >>> facades = AlignedDataset("datasets/facades", "train", direction="BtoA")
        >>> facades[0]["image"].shape  # the label map, resized to 286, cropped to 256
        torch.Size([3, 256, 256])
    """

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
        _check_direction(direction)
        super().__init__(split, channels, load_size, crop_size, flip, seed)
        root = Path(root)
        if not (root / split).is_dir():
            raise ZooError(
                f"{root / split} is missing: pix2pix data keeps its A|B images in {root}/train/, val/ and test/."
            )
        self.name, self.direction = "aligned", direction
        self.files = list_images(root / split)

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
    """CycleGAN domains: ``ROOT/{split}A`` and ``ROOT/{split}B``, of unrelated sizes and counts.

    As the reference's ``unaligned_dataset``: the length is the larger domain's, item ``i`` takes
    ``A[i % len(A)]`` and a ``B`` drawn at random (here from the item's seeded generator, so it is
    reproducible), or ``B[i % len(B)]`` with ``serial=True``. A and B are resized, cropped and
    flipped independently. ``direction="BtoA"`` swaps the domains.

    Example:
        >>> horses = UnpairedDataset("datasets/horse2zebra", "train", load_size=None)
        >>> len(horses), horses.kind
        (1334, 'unpaired')
    """

    kind = "unpaired"

    def __init__(
        self,
        root: str | Path,
        split: str = "train",
        *,
        direction: str = "AtoB",
        serial: bool = False,
        channels: int = 3,
        load_size: int | None = 286,
        crop_size: int = 256,
        flip: bool = True,
        seed: int = 0,
    ) -> None:
        _check_direction(direction)
        super().__init__(split, channels, load_size, crop_size, flip, seed)
        root = Path(root)
        if not root.is_dir():
            raise ZooError(f"{root} is not a folder; check the 'unpaired' dataset's root.")
        for side in ("A", "B"):
            if not (root / f"{split}{side}").is_dir():
                raise ZooError(
                    f"{root / f'{split}{side}'} is missing: unpaired (CycleGAN) data needs {split}A/ and {split}B/ "
                    f"under {root}; create it and put the domain-{side} images in it."
                )
        self.name, self.serial, self.direction = "unpaired", serial, direction
        self.files_a, self.files_b = list_images(root / f"{split}A"), list_images(root / f"{split}B")
        if direction == "BtoA":
            self.files_a, self.files_b = self.files_b, self.files_a

    def __len__(self) -> int:
        return max(len(self.files_a), len(self.files_b))

    def __getitem__(self, index: int) -> dict[str, Any]:
        a_path = self.files_a[index % len(self.files_a)]
        if self.serial:
            b_index = index % len(self.files_b)
        else:
            b_index = int(torch.randint(0, len(self.files_b), (1,), generator=self.generator(index, stream=2)))
        (a,) = self._apply([read_image(a_path, self.channels)], index, stream=0)
        (b,) = self._apply([read_image(self.files_b[b_index], self.channels)], index, stream=1)
        return {"image": a, "target": b}


class CaptionDataset(_FolderDataset):
    """Images with a ``.txt`` of captions each, one caption per line (blank lines ignored).

    The caption file has the image's stem: next to it, or at the image's path relative to its split
    folder under ``text_root/SPLIT/`` when that exists, else under ``text_root`` (StackGAN's birds
    keep ``text_c10/<class>/<name>.txt`` beside ``images/<class>/<name>.jpg``). Images are listed
    recursively (class folders are fine; their names are not used). Every caption file is read
    when the dataset is made, so a missing or empty one fails at once, naming it.
    ``pick="random"`` (the default for ``train``, as StackGAN samples one of an image's ten
    captions) draws a line from the item's seeded generator; ``pick="first"`` (the default
    elsewhere) keeps evaluation fixed.

    Example:
        >>> birds = CaptionDataset("birds", "train", text_root="birds/text_c10", load_size=76, crop_size=64)
        >>> birds[0]["caption"]
        'this bird has a white belly and a dark grey crown.'
    """

    kind = "captioned"

    def __init__(
        self,
        root: str | Path,
        split: str = "train",
        *,
        text_root: str | Path | None = None,
        pick: str | None = None,
        channels: int = 3,
        load_size: int | None = None,
        crop_size: int = 256,
        flip: bool = False,
        seed: int = 0,
    ) -> None:
        super().__init__(split, channels, load_size, crop_size, flip, seed)
        self.pick = pick or ("random" if split == "train" else "first")
        if self.pick not in ("random", "first"):
            raise ZooError(f"pick must be 'random' or 'first', not {pick!r}.")
        self.name = "captions"
        root = Path(root).expanduser()
        texts = Path(text_root).expanduser() if text_root is not None else None
        self.files, self.captions = [], []
        for folder in split_folders(root, split, "captions"):
            for path in list_images(folder, recursive=True):
                if texts is None:
                    text_file = path.with_suffix(".txt")
                else:
                    base = texts / folder.relative_to(root) if (texts / folder.relative_to(root)).is_dir() else texts
                    text_file = (base / path.relative_to(folder)).with_suffix(".txt")
                if not text_file.is_file():
                    raise ZooError(f"{path} has no caption file {text_file}; write one caption per line in it.")
                lines = [line.strip() for line in text_file.read_text(encoding="utf-8").splitlines() if line.strip()]
                if not lines:
                    raise ZooError(f"{text_file} is empty; write one caption per line.")
                self.files.append(path)
                self.captions.append(lines)

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> dict[str, Any]:
        (image,) = self._apply([read_image(self.files[index], self.channels)], index)
        lines = self.captions[index]
        pick = 0
        if self.pick == "random":
            pick = int(torch.randint(0, len(lines), (1,), generator=self.generator(index, stream=3)))
        return {"image": image, "caption": lines[pick]}


def _needs_root(name: str, root: str | Path | None) -> Path:
    if root is None:
        raise ZooError(f"The {name!r} dataset reads your folder: pass root=FOLDER (or --dataset {name}:FOLDER).")
    return Path(root).expanduser()


def load_imagefolder(split: str = "train", root: str | Path | None = None, **options: Any) -> ImageFolderDataset:
    """``imagefolder``: see ``ImageFolderDataset`` for the options.

    Example:
        >>> load_dataset("imagefolder", split="train", root="pets", load_size=72, crop_size=64).kind
        'labelled'
    """
    return ImageFolderDataset(_needs_root("imagefolder", root), split, **options)


def load_aligned(split: str = "train", root: str | Path | None = None, **options: Any) -> AlignedDataset:
    """``aligned`` (pix2pix): see ``AlignedDataset`` for the options.

    Example:
        >>> load_dataset("aligned", split="val", root="datasets/facades", direction="BtoA").kind
        'paired'
    """
    return AlignedDataset(_needs_root("aligned", root), split, **options)


def load_unpaired(split: str = "train", root: str | Path | None = None, **options: Any) -> UnpairedDataset:
    """``unpaired`` (CycleGAN): see ``UnpairedDataset`` for the options.

    Example:
        >>> load_dataset("unpaired", split="test", root="datasets/horse2zebra").kind
        'unpaired'
    """
    return UnpairedDataset(_needs_root("unpaired", root), split, **options)


def load_captions(split: str = "train", root: str | Path | None = None, **options: Any) -> CaptionDataset:
    """``captions`` (text to image): see ``CaptionDataset`` for the options.

    Example:
        >>> load_dataset("captions", split="train", root="birds", text_root="birds/text_c10").kind
        'captioned'
    """
    return CaptionDataset(_needs_root("captions", root), split, **options)
