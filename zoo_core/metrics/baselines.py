"""Trivial classification baselines, the numbers a classifier's accuracy is shown beside in its card.

- ``majority``: always the class most frequent in the training split (the first of the most frequent);
- ``nearest-class-mean``: the class whose mean training image is nearest in Euclidean distance.

Example:
    >>> classification_baselines("mnist5k")
    {'majority': 0.1, 'nearest-class-mean': 0.806}
"""

from __future__ import annotations

from typing import Any

import torch

__all__ = ["classification_baselines", "majority_class_accuracy", "nearest_class_mean_accuracy"]


def majority_class_accuracy(train_labels: torch.Tensor, test_labels: torch.Tensor) -> float:
    """Accuracy on ``test_labels`` of always answering the most frequent class of ``train_labels``.

    Example:
        >>> majority_class_accuracy(torch.tensor([1, 1, 0]), torch.tensor([1, 0]))
        0.5
    """
    majority = int(torch.bincount(train_labels.long()).argmax())
    return float((test_labels.long() == majority).double().mean())


def nearest_class_mean_accuracy(
    train_images: torch.Tensor, train_labels: torch.Tensor, test_images: torch.Tensor, test_labels: torch.Tensor
) -> float:
    """Accuracy of the nearest class mean (Euclidean, on flattened images) fitted to the training images.

    Example:
        >>> x = torch.tensor([[0.0], [0.2], [1.0]]); y = torch.tensor([0, 0, 1])
        >>> nearest_class_mean_accuracy(x, y, torch.tensor([[0.9], [0.3]]), torch.tensor([1, 0]))
        1.0
    """
    train, test = train_images.flatten(1).double(), test_images.flatten(1).double()
    classes = int(train_labels.max()) + 1
    one_hot = torch.nn.functional.one_hot(train_labels.long(), classes).double()
    means = (one_hot.T @ train) / one_hot.sum(0).clamp_min(1)[:, None]
    predicted = torch.cdist(test, means).argmin(1)
    return float((predicted == test_labels.long()).double().mean())


def classification_baselines(dataset: str = "mnist5k", **options: Any) -> dict[str, float]:
    """Both baselines on a labelled dataset, fitted to its train split and scored on its test split.

    Example:
        >>> classification_baselines("mnist5k")["nearest-class-mean"]
        0.806
    """
    from ..data import load_dataset

    train, test = load_dataset(dataset, split="train", **options), load_dataset(dataset, split="test", **options)
    return {
        "majority": majority_class_accuracy(train.labels, test.labels),
        "nearest-class-mean": nearest_class_mean_accuracy(train.tensors(), train.labels, test.tensors(), test.labels),
    }
