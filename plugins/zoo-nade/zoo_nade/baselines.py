"""The trivial baseline beside NADE's ``nll-binarized``: independent Bernoulli pixels, computed (not typed).

Each of the 784 pixels is an independent Bernoulli whose probability is its frequency among the
binarized training digits, smoothed as ``(ones + 1) / (n + 2)`` (Laplace) so that a pixel never
seen on in training does not give the test digits an infinite NLL. Its NLL in nats per image on the
500 binarized test digits is what a model of binary digits must beat.

Example:
    $ python -m zoo_nade.baselines
    independent-bernoulli 213.1 nats
"""

from __future__ import annotations

import torch

__all__ = ["independent_bernoulli_nll"]


def independent_bernoulli_nll(dataset: str = "mnist5k", binarize: str = "stochastic") -> float:
    """Mean NLL in nats of the test digits under per-pixel Bernoulli marginals fitted on the train digits.

    Example:
        >>> round(independent_bernoulli_nll(), 1)
        213.1
    """
    from zoo_core.data import load_dataset

    train = load_dataset(dataset, split="train", binarize=binarize).tensors().double().flatten(1)
    test = load_dataset(dataset, split="test", binarize=binarize).tensors().double().flatten(1)
    p = (train.sum(0) + 1) / (len(train) + 2)
    log_lik = test * torch.log(p) + (1 - test) * torch.log1p(-p)
    return float(-log_lik.sum(1).mean())


if __name__ == "__main__":
    print(f"independent-bernoulli {independent_bernoulli_nll():.4g} nats")
