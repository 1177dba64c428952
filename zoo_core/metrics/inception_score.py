"""Inception Score from class logits (Salimans et al. 2016).

``IS = exp(E_x KL(p(y|x) || p(y)))``, computed on ``splits`` chunks of the images with
``p(y)`` the mean prediction of each chunk; the result is the mean and the unbiased
standard deviation of the chunks' scores. Like ``torchmetrics.image.inception.InceptionScore``
the images are shuffled first (``torch.randperm`` with a generator seeded ``seed``; the same
permutation torchmetrics draws after ``torch.manual_seed(seed)``) and cut with
``torch.chunk``. ``seed=None`` keeps the images in order (as the original TF code, which also
drops the remainder when N is not a multiple of ``splits``; ``torch.chunk`` does not).
Computed in float64, with ``log p(y)`` by log-sum-exp (torchmetrics takes the log of the mean
probability, which gives NaN when it underflows to 0).

Example:
    >>> logits = torch.randn(1000, 10) * 3
    >>> mean, std = inception_score(logits, splits=10, seed=0)
"""

from __future__ import annotations

import math

import torch

from .._errors import ZooError

__all__ = ["inception_score"]


def inception_score(logits: torch.Tensor, *, splits: int = 10, seed: int | None = 0) -> tuple[float, float]:
    """``(mean, std)`` of the Inception Score over ``splits`` chunks of ``(N, classes)`` logits.

    Example:
        >>> inception_score(torch.eye(10).repeat(10, 1) * 100, splits=1)  # 10 classes, confident
        (10.0, nan)
    """
    x = torch.as_tensor(logits).detach().to("cpu", torch.float64)
    if x.dim() != 2:
        raise ZooError(f"The Inception Score takes (N, classes) logits, not {tuple(x.shape)}.")
    if splits < 1 or x.shape[0] < splits:
        raise ZooError(f"The Inception Score needs at least {splits} images for {splits} splits, got {x.shape[0]}.")
    if seed is not None:
        generator = torch.Generator().manual_seed(seed)
        x = x[torch.randperm(x.shape[0], generator=generator)]
    log_prob = x.log_softmax(dim=1)
    scores = []
    for chunk in log_prob.chunk(splits, dim=0):
        # log p(y) by log-sum-exp: finite even where a class's mean probability underflows
        log_marginal = torch.logsumexp(chunk, dim=0) - math.log(chunk.shape[0])
        kl = (chunk.exp() * (chunk - log_marginal)).sum(dim=1).mean()
        scores.append(kl.exp())
    values = torch.stack(scores)
    std = float(values.std()) if len(values) > 1 else float("nan")
    return float(values.mean()), std
