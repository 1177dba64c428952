"""The dataset contract: what every registered dataset returns.

A dataset registered with ``register_datasets`` has a ``load(split=..., **options)`` that
returns an ``ImageDataset``: a ``torch.utils.data.Dataset`` whose items are dicts with
``"image"`` (a float ``(C, H, W)`` tensor in [0, 1]) and, where the data has them,
``"label"`` (an int), ``"target"`` (the paired image), ``"caption"`` (a string).
Its ``channels`` and ``image_size`` attributes let a trainer check that it fits a model
before the first step.

Example:
    >>> from zoo_core.data import load_dataset
    >>> train = load_dataset("mnist5k", split="train")
    >>> train[0]["image"].shape, train[0]["label"]
    (torch.Size([1, 28, 28]), 0)
"""

from __future__ import annotations

from typing import Any

import torch
from torch.utils.data import Dataset

from ._errors import ZooError

__all__ = ["ImageDataset", "TensorImageDataset", "load_dataset"]


class ImageDataset(Dataset):
    """Base of zoo datasets: items are dicts with at least ``"image"`` in [0, 1], CHW."""

    name: str = ""
    split: str = ""
    channels: int = 0
    image_size: tuple[int, int] = (0, 0)
    #: images | labelled | paired | unpaired | captioned
    kind: str = "images"

    def __len__(self) -> int:
        raise NotImplementedError

    def __getitem__(self, index: int) -> dict[str, Any]:
        raise NotImplementedError


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


def load_dataset(name: str, split: str = "train", **options: Any) -> ImageDataset:
    """Load a registered dataset by name (``zoo datasets`` lists them).

    ``NAME:FOLDER`` is short for ``root=FOLDER`` (the folder formats), so a command line can say
    ``--dataset aligned:datasets/facades``.
    """
    from ._catalog import get_catalog
    from .specs import resolve_target

    name, _, root = name.partition(":")  # "aligned:datasets/facades" is root=datasets/facades
    if root:
        options = {"root": root, **options}
    spec = get_catalog().dataset(name)
    if split not in spec.splits:
        raise ZooError(f"Dataset {name!r} has no split {split!r}; its splits are {', '.join(spec.splits)}.")
    return resolve_target(spec.load)(split=split, **options)
