"""torchvision's data sets as zoo datasets (torchvision is imported only when one is loaded).

zoo never downloads: each adapter passes ``download=False``, and missing files become one
sentence saying where torchvision expects them.

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

__all__ = ["TorchvisionDataset", "load_torchvision"]


class TorchvisionDataset(ImageDataset):
    """Any torchvision dataset of ``(PIL image, target)`` items, as ``{"image", "label"}`` dicts."""

    kind = "labelled"

    def __init__(self, dataset: Any, *, name: str = "", split: str = "", channels: int = 3) -> None:
        self.dataset, self.name, self.split, self.channels = dataset, name, split, channels
        first = self[0]["image"] if len(dataset) else None
        self.image_size = tuple(first.shape[-2:]) if first is not None else (0, 0)

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> dict[str, Any]:
        image, target = self.dataset[index]
        if not isinstance(image, torch.Tensor):
            image = image.convert("L" if self.channels == 1 else "RGB")
            array = np.array(image)
            image = (
                torch.from_numpy(array).unsqueeze(0) if array.ndim == 2 else torch.from_numpy(array).permute(2, 0, 1)
            )
            image = image.float().div_(255.0)
        item: dict[str, Any] = {"image": image}
        if isinstance(target, int) or (isinstance(target, torch.Tensor) and target.dim() == 0):
            item["label"] = int(target)
        return item


_SETS = {
    # name -> (torchvision class, channels, how the split is passed)
    "mnist": ("MNIST", 1, "train"),
    "fashionmnist": ("FashionMNIST", 1, "train"),
    "cifar10": ("CIFAR10", 3, "train"),
    "celeba": ("CelebA", 3, "split"),
    "imagefolder": ("ImageFolder", 3, "folder"),
}


def load_torchvision(
    which: str, split: str = "train", root: str | Path | None = None, **options: Any
) -> TorchvisionDataset:
    """Load torchvision's ``which`` (mnist, fashionmnist, cifar10, celeba, imagefolder) from ``root``."""
    if root is None:
        raise ZooError(f"The torchvision-{which} dataset reads files you downloaded: pass root=FOLDER.")
    try:
        import torchvision.datasets as tvd
    except ImportError:
        raise ZooError(f"The torchvision-{which} dataset needs torchvision: run `pip install torchvision`.") from None
    cls_name, channels, mode = _SETS[which]
    root = Path(root).expanduser()
    try:
        if mode == "train":
            dataset = getattr(tvd, cls_name)(str(root), train=split == "train", download=False, **options)
        elif mode == "split":
            dataset = getattr(tvd, cls_name)(
                str(root), split={"test": "test", "val": "valid"}.get(split, split), download=False, **options
            )
        else:
            folder = root / split if (root / split).is_dir() else root
            dataset = tvd.ImageFolder(str(folder), **options)
    except (RuntimeError, FileNotFoundError) as exc:
        raise ZooError(
            f"torchvision's {cls_name} files are not under {root} ({str(exc).splitlines()[0]}); zoo never downloads: "
            "fetch them once with torchvision (download=True) and point root at that folder."
        ) from exc
    return TorchvisionDataset(dataset, name=f"torchvision-{which}", split=split, channels=channels)


def load_mnist(split: str = "train", **options: Any) -> TorchvisionDataset:
    return load_torchvision("mnist", split, **options)


def load_fashionmnist(split: str = "train", **options: Any) -> TorchvisionDataset:
    return load_torchvision("fashionmnist", split, **options)


def load_cifar10(split: str = "train", **options: Any) -> TorchvisionDataset:
    return load_torchvision("cifar10", split, **options)


def load_celeba(split: str = "train", **options: Any) -> TorchvisionDataset:
    return load_torchvision("celeba", split, **options)


def load_imagefolder(split: str = "train", **options: Any) -> TorchvisionDataset:
    return load_torchvision("imagefolder", split, **options)
