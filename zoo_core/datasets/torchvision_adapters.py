"""torchvision's data sets as zoo datasets (torchvision is imported only when one is loaded).

zoo never downloads: each adapter passes ``download=False``, and missing files become one
sentence saying where torchvision expects them under ``root``. Items are ``{"image", "label"}``
(CelebA: ``{"image"}``; its 40 attributes are not labels). Extra options go to the torchvision
class (e.g. ``transform=torchvision.transforms.Resize(64)``, applied to the PIL image).

Example:
    >>> train = load_dataset("torchvision-cifar10", split="train", root="~/data")
    >>> train[0]["image"].shape, train[0]["label"]
    (torch.Size([3, 32, 32]), 6)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from .._errors import ZooError
from ..data import ImageDataset

__all__ = [
    "TorchvisionDataset",
    "load_celeba",
    "load_cifar10",
    "load_fashionmnist",
    "load_imagefolder",
    "load_mnist",
    "load_torchvision",
]


class TorchvisionDataset(ImageDataset):
    """Any torchvision dataset of ``(image, target)`` items, as ``{"image", "label"}`` dicts.

    PIL images are converted to ``channels`` (1: grey, 3: RGB) and to float CHW in [0, 1];
    integer targets become ``"label"``, other targets (CelebA's attribute vectors) are dropped.
    ``image_size`` is read from the first item when ``fixed_size`` (MNIST, CIFAR ...), ``None``
    otherwise (an image folder).

    Example:
        >>> from torchvision.datasets import FakeData
        >>> data = TorchvisionDataset(FakeData(size=8, image_size=(3, 32, 32)), name="fake")
        >>> data[0]["image"].shape, data.image_size
        (torch.Size([3, 32, 32]), (32, 32))
    """

    kind = "labelled"

    def __init__(
        self, dataset: Any, *, name: str = "", split: str = "", channels: int = 3, fixed_size: bool = True
    ) -> None:
        if channels not in (1, 3):
            raise ZooError(f"channels must be 1 (grey) or 3 (RGB), not {channels}.")
        self.dataset, self.name, self.split, self.channels = dataset, name, split, channels
        self.image_size = None
        if fixed_size and len(dataset):
            first = self[0]
            self.image_size = (int(first["image"].shape[-2]), int(first["image"].shape[-1]))
            self.kind = "labelled" if "label" in first else "images"

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> dict[str, Any]:
        image, target = self.dataset[index]
        if not isinstance(image, torch.Tensor):
            array = np.array(image.convert("L" if self.channels == 1 else "RGB"))
            tensor = torch.from_numpy(array)
            image = (tensor.unsqueeze(0) if array.ndim == 2 else tensor.permute(2, 0, 1)).float().div_(255.0)
        item: dict[str, Any] = {"image": image}
        if isinstance(target, int) or (isinstance(target, torch.Tensor) and target.dim() == 0):
            item["label"] = int(target)
        return item


# name -> (torchvision class, channels, splits, where torchvision looks for the files under root)
_SETS: dict[str, tuple[str, int, tuple[str, ...], str]] = {
    "mnist": (
        "MNIST",
        1,
        ("train", "test"),
        "ROOT/MNIST/raw/ (train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, "
        "t10k-labels-idx1-ubyte)",
    ),
    "fashionmnist": (
        "FashionMNIST",
        1,
        ("train", "test"),
        "ROOT/FashionMNIST/raw/ (the same four idx files as MNIST)",
    ),
    "cifar10": (
        "CIFAR10",
        3,
        ("train", "test"),
        "ROOT/cifar-10-batches-py/ (data_batch_1 to 5, test_batch, batches.meta)",
    ),
    "celeba": (
        "CelebA",
        3,
        ("train", "valid", "test", "all"),
        "ROOT/celeba/ (img_align_celeba/ and list_eval_partition.txt, list_attr_celeba.txt, identity_CelebA.txt, "
        "list_bbox_celeba.txt, list_landmarks_align_celeba.txt)",
    ),
    "imagefolder": ("ImageFolder", 3, ("train", "val", "test"), "ROOT/CLASS/IMAGE files (or ROOT/SPLIT/CLASS/IMAGE)"),
}


def load_torchvision(
    which: str, split: str = "train", root: str | Path | None = None, channels: int | None = None, **options: Any
) -> TorchvisionDataset:
    """Load torchvision's ``which`` (mnist, fashionmnist, cifar10, celeba, imagefolder) from ``root``.

    ``imagefolder`` takes ``ROOT/SPLIT/`` when ROOT has split folders, else ROOT as the train
    split (the rule of zoo's own ``imagefolder``).

    Example:
        >>> load_torchvision("mnist", "test", root="~/data")[0]["label"]
        7
    """
    if which not in _SETS:
        raise ZooError(f"There is no torchvision adapter {which!r}; the adapters are {', '.join(_SETS)}.")
    cls_name, default_channels, splits, layout = _SETS[which]
    if split not in splits:
        raise ZooError(f"Dataset 'torchvision-{which}' has no split {split!r}; its splits are {', '.join(splits)}.")
    if root is None:
        raise ZooError(f"The torchvision-{which} dataset reads files you already have: pass root=FOLDER.")
    try:
        import torchvision.datasets as tvd
    except ImportError:
        raise ZooError(f"The torchvision-{which} dataset needs torchvision: run `pip install torchvision`.") from None
    root = Path(root).expanduser()
    if which == "imagefolder":
        from .folders import split_folders

        (folder,) = split_folders(root, split, f"torchvision-{which}")
        try:
            dataset = tvd.ImageFolder(str(folder), **options)
        except FileNotFoundError as exc:
            raise ZooError(
                f"torchvision's ImageFolder found no images in {folder} ({exc}); put them in class subfolders, "
                "FOLDER/CLASS/IMAGE."
            ) from exc
        return TorchvisionDataset(
            dataset, name=f"torchvision-{which}", split=split, channels=channels or 3, fixed_size=False
        )
    cls = getattr(tvd, cls_name)
    try:
        if which == "celeba":
            options.setdefault("target_type", [])  # images only: CelebA's attributes are not class labels
            dataset = cls(str(root), split=split, download=False, **options)
        else:
            dataset = cls(str(root), train=split == "train", download=False, **options)
    except (RuntimeError, FileNotFoundError) as exc:
        raise ZooError(
            f"torchvision's {cls_name} files are not under {root}, and zoo never downloads: put them in "
            f"{layout.replace('ROOT', str(root))}, e.g. fetched once elsewhere with torchvision's download=True."
        ) from exc
    return TorchvisionDataset(dataset, name=f"torchvision-{which}", split=split, channels=channels or default_channels)


def load_mnist(
    split: str = "train", root: str | Path | None = None, channels: int | None = None, **options: Any
) -> TorchvisionDataset:
    """``torchvision-mnist``: MNIST's 60,000 / 10,000 split from ``root`` (see ``load_torchvision``).

    Example:
        >>> len(load_mnist("test", root="~/data"))
        10000
    """
    return load_torchvision("mnist", split, root, channels, **options)


def load_fashionmnist(
    split: str = "train", root: str | Path | None = None, channels: int | None = None, **options: Any
) -> TorchvisionDataset:
    """``torchvision-fashionmnist``: Fashion-MNIST's 60,000 / 10,000 split from ``root``.

    Example:
        >>> load_fashionmnist("train", root="~/data").image_size
        (28, 28)
    """
    return load_torchvision("fashionmnist", split, root, channels, **options)


def load_cifar10(
    split: str = "train", root: str | Path | None = None, channels: int | None = None, **options: Any
) -> TorchvisionDataset:
    """``torchvision-cifar10``: CIFAR-10's 50,000 / 10,000 split from ``root``.

    Example:
        >>> load_cifar10("test", root="~/data").channels
        3
    """
    return load_torchvision("cifar10", split, root, channels, **options)


def load_celeba(
    split: str = "train", root: str | Path | None = None, channels: int | None = None, **options: Any
) -> TorchvisionDataset:
    """``torchvision-celeba``: CelebA's official train / valid / test partition from ``root`` (images only).

    Example:
        >>> load_celeba("valid", root="~/data").image_size
        (218, 178)
    """
    return load_torchvision("celeba", split, root, channels, **options)


def load_imagefolder(
    split: str = "train", root: str | Path | None = None, channels: int | None = None, **options: Any
) -> TorchvisionDataset:
    """``torchvision-imagefolder``: torchvision's ``ImageFolder`` over ``root`` (class subfolders).

    Example:
        >>> load_imagefolder("train", root="pets").kind
        'labelled'
    """
    return load_torchvision("imagefolder", split, root, channels, **options)
