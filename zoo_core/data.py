"""The dataset contract: what every registered dataset returns.

A dataset registered with ``register_datasets`` has a ``load(split=..., **options)`` that
returns an ``ImageDataset``: a ``torch.utils.data.Dataset`` whose items are dicts with
``"image"`` (a float ``(C, H, W)`` tensor in [0, 1]) and, where the data has them,
``"label"`` (an int), ``"target"`` (the paired image), ``"caption"`` (a string).
Its ``channels`` and ``image_size`` attributes let a trainer check that it fits a model
before the first step; ``image_size`` is ``None`` when the images vary in size.

Datasets whose items are random (crops, flips, the B image drawn for an unpaired A) derive
from ``RandomItemsDataset``: item ``i`` of epoch ``e`` is drawn from a generator seeded with
``(seed, e, i)``, so it does not depend on worker processes or on the order items are read,
and a training loop that calls ``set_epoch(e)`` gets fresh augmentations every epoch.

Example:
    >>> from zoo_core.data import load_dataset
    >>> train = load_dataset("mnist5k", split="train")
    >>> train[0]["image"].shape, train[0]["label"]
    (torch.Size([1, 28, 28]), 0)
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import torch
from torch.utils.data import Dataset

from ._errors import ZooError

__all__ = [
    "ImageDataset",
    "RandomItemsDataset",
    "TensorImageDataset",
    "check_dataset_options",
    "item_seed",
    "load_dataset",
]


class ImageDataset(Dataset):
    """Base of zoo datasets: items are dicts with at least ``"image"`` in [0, 1], CHW."""

    name: str = ""
    split: str = ""
    channels: int = 0
    #: ``(H, W)`` of every item's ``"image"``, or ``None`` when the images vary in size
    image_size: tuple[int, int] | None = None
    #: images | labelled | paired | unpaired | captioned
    kind: str = "images"

    def __len__(self) -> int:
        raise NotImplementedError

    def __getitem__(self, index: int) -> dict[str, Any]:
        raise NotImplementedError


def item_seed(seed: int, epoch: int, index: int, stream: int = 0) -> int:
    """A 63-bit seed for item ``index`` of epoch ``epoch`` (``stream`` separates independent draws).

    Hashed rather than added (``seed + index`` would give seed 0's item 1 to seed 1's item 0).

    Example:
        >>> item_seed(0, 0, 1) != item_seed(1, 0, 0)
        True
    """
    digest = hashlib.sha256(f"zoo-data:{seed}:{epoch}:{index}:{stream}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & ((1 << 63) - 1)


class RandomItemsDataset(ImageDataset):
    """Base of datasets with random items: ``seed`` and ``epoch`` fix every random choice.

    The same ``(seed, epoch, index)`` always gives the same item; ``set_epoch`` changes the
    draws, as ``DistributedSampler.set_epoch`` does for the order (call it at each epoch's start).

    Example:
        >>> crops = load_dataset("photos", split="train", seed=0)
        >>> crops.set_epoch(1)  # new crops, still reproducible
    """

    seed: int = 0
    epoch: int = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def generator(self, index: int, stream: int = 0) -> torch.Generator:
        """The generator of item ``index``'s random choices (``stream``: an independent one)."""
        return torch.Generator().manual_seed(item_seed(self.seed, self.epoch, index, stream))


class TensorImageDataset(ImageDataset):
    """Images held in memory as a uint8 ``(N, C, H, W)`` tensor, with optional integer labels."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor | None = None, *, name: str = "", split: str = ""):
        if images.dtype != torch.uint8 or images.dim() != 4:
            raise ZooError(
                f"TensorImageDataset takes uint8 images shaped (N, C, H, W), not {images.dtype} {tuple(images.shape)}."
            )
        if labels is not None and len(labels) != len(images):
            raise ZooError(f"{len(images)} images but {len(labels)} labels; they must match.")
        self.images, self.labels = images, labels
        self.name, self.split = name, split
        self.channels = images.shape[1]
        self.image_size = (images.shape[2], images.shape[3])
        self.kind = "labelled" if labels is not None else "images"

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> dict[str, Any]:
        item: dict[str, Any] = {"image": self.images[index].float().div_(255.0)}
        if self.labels is not None:
            item["label"] = int(self.labels[index])
        return item

    def tensors(self) -> torch.Tensor:
        """All images as one float tensor in [0, 1] (for small data sets that fit in memory)."""
        return self.images.float().div_(255.0)


#: the range of a dataset option named ``size`` or ``*_size`` (pixels), unless its loader checks a tighter one
IMAGE_SIZE_RANGE: tuple[int, int] = (1, 4096)


def check_dataset_options(name: str, loader: Any, options: dict[str, Any]) -> dict[str, Any]:
    """``options`` checked against the loader's parameters: known names, their types, sizes in pixels in range.

    A loader that passes ``**options`` on to the dataset class it returns (``-> PhotoDataset``)
    takes that class's parameters too.

    Example:
        >>> check_dataset_options("digits", lambda split="train", size=8: None, {"size": -3})
        Traceback (most recent call last):
        zoo_core._errors.ZooError: Option 'size' of dataset 'digits' must be from 1 to 4096, not -3.
    """
    from ._config import check_call_options

    def ranges(key: str) -> tuple[int, int] | None:
        return IMAGE_SIZE_RANGE if key == "size" or key.endswith("_size") else None

    return check_call_options(
        f"dataset {name!r}", loader, options, skip=("self", "split"), ranges=ranges, unknown=f"Dataset {name!r}"
    )


def load_dataset(name: str, split: str = "train", **options: Any) -> ImageDataset:
    """Load a registered dataset by name (``zoo datasets`` lists them); ``options`` go to its loader.

    ``NAME:FOLDER`` is short for ``root=FOLDER`` (the folder formats), so a command line can say
    ``--dataset aligned:datasets/facades``.

    Example:
        >>> load_dataset("digits", split="test", size=28).image_size
        (28, 28)
        >>> load_dataset("aligned:datasets/facades", split="train", direction="BtoA").kind
        'paired'
    """
    from ._catalog import get_catalog
    from .specs import resolve_target

    name, _, root = name.partition(":")  # "aligned:datasets/facades" is root=datasets/facades
    if root:
        options = {"root": root, **options}
    spec = get_catalog().dataset(name)
    if split not in spec.splits:
        raise ZooError(f"Dataset {name!r} has no split {split!r}; its splits are {', '.join(spec.splits)}.")
    loader = resolve_target(spec.load)
    options = check_dataset_options(name, loader, options)
    try:
        return loader(split=split, **options)
    except TypeError as exc:
        # A misspelt option reads as one sentence, not as a traceback through the loader.
        unknown = re.search(r"unexpected keyword argument '(\w+)'", str(exc))
        if unknown and unknown.group(1) in options:
            raise ZooError(
                f"Dataset {name!r} has no option {unknown.group(1)!r}; see its loader's docstring "
                f"({spec.load if isinstance(spec.load, str) else spec.load.__qualname__}) for the options it takes."
            ) from exc
        raise
