"""``mnist5k-anomaly``: the one-class MNIST protocol on mnist5k, with digit ``digit`` as the anomaly.

The usual MNIST anomaly benchmark (one class held out; e.g. the f-AnoGAN / GANomaly papers' "MNIST,
digit k abnormal") on zoo's offline mnist5k split:

- ``train``: mnist5k's training digits of the *other* nine classes (4,050 of 4,500; class ``digit``
  is never seen), as a plain labelled dataset (items ``image``, ``label``);
- ``test``: all 500 of mnist5k's test digits (50 per class); items also carry ``anomaly``: 1 for
  the 50 digits of class ``digit`` (the positives of AUROC), 0 for the 450 others.

Both splits keep ``anomaly_class`` (= ``digit``). ``size`` resizes as mnist5k's does; its default
32 is the anogan networks' size (``zoo train anogan --config image_size=32``).

Example:
    >>> train = load_dataset("mnist5k-anomaly", split="train", digit=3)
    >>> len(train), 3 in set(train.labels.tolist())
    (4050, False)
    >>> test = load_dataset("mnist5k-anomaly", split="test", digit=3)
    >>> len(test), sum(int(test[i]["anomaly"]) for i in range(len(test)))
    (500, 50)
"""

from __future__ import annotations

from typing import Any

import torch

from zoo_core import ZooError
from zoo_core.data import TensorImageDataset, load_dataset

__all__ = ["DATASET", "AnomalyTestDigits", "load"]

#: the registered name
DATASET = "mnist5k-anomaly"


class AnomalyTestDigits(TensorImageDataset):
    """Test digits whose items carry ``anomaly`` (1 for class ``anomaly_class``, else 0) beside ``label``.

    Example:
        >>> AnomalyTestDigits(images, labels, anomaly_class=0)[0]["anomaly"]
        1
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, *, anomaly_class: int, name: str, split: str):
        super().__init__(images, labels, name=name, split=split)
        self.anomaly_class = anomaly_class
        self.anomalies = (labels == anomaly_class).long()

    def __getitem__(self, index: int) -> dict[str, Any]:
        item = super().__getitem__(index)
        item["anomaly"] = int(self.anomalies[index])
        return item


def load(split: str = "train", digit: int | None = None, size: int = 32) -> TensorImageDataset:
    """The ``split`` of the one-class protocol with ``digit`` (0-9) as the anomaly; see the module docstring.

    Example:
        >>> load("test", digit=0).anomalies.sum()
        tensor(50)
    """
    if digit is None:
        raise ZooError(
            f"The dataset {DATASET!r} needs the anomalous digit: pass --dataset-option digit=K (0-9), "
            "or load_dataset(..., digit=K)."
        )
    if isinstance(digit, bool) or not isinstance(digit, int) or not 0 <= digit <= 9:
        raise ZooError(f"The dataset {DATASET!r} takes digit=0 to 9 (the anomalous class), not {digit!r}.")
    if split not in ("train", "test"):
        raise ZooError(f"Dataset {DATASET!r} has no split {split!r}; its splits are train, test.")
    digits = load_dataset("mnist5k", split=split, size=size)
    if not isinstance(digits, TensorImageDataset) or digits.labels is None:
        raise ZooError("mnist5k did not load as labelled digits in memory; reinstall zoo-core.")
    if split == "test":
        return AnomalyTestDigits(digits.images, digits.labels, anomaly_class=digit, name=DATASET, split=split)
    keep = digits.labels != digit
    data = TensorImageDataset(digits.images[keep], digits.labels[keep], name=DATASET, split=split)
    data.anomaly_class = digit  # type: ignore[attr-defined]  (an attribute: items stay the fast plain ones)
    return data
