"""Trivial baselines, the numbers a model's metric is shown beside in its card and in the README.

Classification:

- ``majority``: always the class most frequent in the training split (the first of the most frequent);
- ``nearest-class-mean``: the class whose mean training image is nearest in Euclidean distance.

Likelihood of binary digits (the likelihood table's floor): ``independent_bernoulli_nll``, each pixel an
independent Bernoulli with its Laplace-smoothed frequency among the binarized training digits.

Sample quality of digits (the GAN table's floor): ``real_digits_fid_mnist``, FID-MNIST of 500 real training digits
at the size a model trains at, against the 28x28 test digits, as a model's samples are scored.

Example:
    >>> classification_baselines("mnist5k")
    {'majority': 0.1, 'nearest-class-mean': 0.806}
"""

from __future__ import annotations

from typing import Any

import torch

__all__ = [
    "classification_baselines",
    "independent_bernoulli_nll",
    "majority_class_accuracy",
    "nearest_class_mean_accuracy",
    "real_digits_fid_mnist",
]


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


def independent_bernoulli_nll(dataset: str = "mnist5k", binarize: str = "stochastic") -> float:
    """Mean NLL in nats of the binarized test digits under per-pixel Bernoulli marginals fitted on the train digits.

    The probability of each pixel is ``(ones + 1) / (n + 2)`` (Laplace), so a pixel never on in training does
    not give a test digit an infinite NLL. A model of binary digits must beat it.

    Example:
        >>> round(independent_bernoulli_nll(), 1)
        213.1
    """
    from ..data import load_dataset

    train = load_dataset(dataset, split="train", binarize=binarize).tensors().double().flatten(1)
    test = load_dataset(dataset, split="test", binarize=binarize).tensors().double().flatten(1)
    p = (train.sum(0) + 1) / (len(train) + 2)
    log_lik = test * torch.log(p) + (1 - test) * torch.log1p(-p)
    return float(-log_lik.sum(1).mean())


def real_digits_fid_mnist(size: int = 28, n: int = 500, seed: int = 0) -> float:
    """FID-MNIST of ``n`` real training digits of mnist5k at ``size`` against the 500 test digits at 28x28.

    The floor of a digit generator's ``fid-mnist`` (500 samples, the same protocol): the digits are
    ``torch.randperm(4500)`` with ``seed``, the first ``n``; at ``size`` 32 they go through the round trip a
    32x32 model's samples go through (resized to 32 as its training data, back to 28 by the metric), which
    blurs them: a 32x32 model cannot score below that floor.

    Example:
        >>> round(real_digits_fid_mnist(), 1), round(real_digits_fid_mnist(size=32), 1)
        (23.8, 73.9)
    """
    from ..data import load_dataset
    from . import create_metric

    train = load_dataset("mnist5k", split="train", size=size).tensors()
    test = load_dataset("mnist5k", split="test").tensors()
    pick = torch.randperm(len(train), generator=torch.Generator().manual_seed(seed))[:n]
    fid = create_metric("fid-mnist")
    fid.update(fake=train[pick], real=test)
    return float(fid.compute()["fid-mnist"])
