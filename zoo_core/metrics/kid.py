"""Kernel Inception Distance: unbiased MMD² between feature sets, averaged over random subsets.

Bińkowski et al. 2018, "Demystifying MMD GANs". The kernel is the cubic polynomial
``k(x, y) = (gamma x·y + coef0) ** degree`` (gamma = 1/d, coef0 = 1, degree 3); each of
``subsets`` subsets draws ``subset_size`` features of each side without replacement, with
``numpy.random.RandomState(seed)`` in the same order as torch-fidelity
(``kid_features_to_metric``), so both give the same subsets and values. Everything is
computed in float64 (torch-fidelity computes in the features' dtype).

When the subsets cover a large share of the features, the kernel matrices of all features are
computed once and every subset's sums are read from them with 0/1 indicator vectors
(``wᵀ K w``), instead of multiplying the features of every subset again.

Example:
    >>> f1, f2 = torch.randn(2000, 64), torch.randn(2000, 64) + 0.1
    >>> kernel_inception_distance(f1, f2, subsets=10, subset_size=500)  # (mean, std) of MMD²
    (0.033..., 0.0027...)
"""

from __future__ import annotations

import numpy as np
import torch

from .._errors import ZooError

__all__ = ["kernel_inception_distance", "mmd2_unbiased", "polynomial_kernel"]

#: largest Gram matrices (in float64 entries, all three together) computed up front
_GRAM_LIMIT = 64 * 1024 * 1024


def polynomial_kernel(
    x: torch.Tensor, y: torch.Tensor, *, degree: int = 3, gamma: float | None = None, coef0: float = 1.0
) -> torch.Tensor:
    """``(gamma x yᵀ + coef0) ** degree``; ``gamma`` defaults to ``1 / d``.

    Example:
        >>> polynomial_kernel(torch.ones(1, 2), torch.ones(1, 2))  # (2/2 + 1)^3
        tensor([[8.]])
    """
    if gamma is None:
        gamma = 1.0 / x.shape[1]
    return (x @ y.T * gamma + coef0) ** degree


def mmd2_unbiased(k_xx: torch.Tensor, k_xy: torch.Tensor, k_yy: torch.Tensor) -> float:
    """Unbiased MMD² from the three ``(m, m)`` kernel matrices (diagonals of ``k_xx``, ``k_yy`` dropped).

    Example:
        >>> k = torch.eye(3)
        >>> mmd2_unbiased(k, k, k)  # 0 - 2 * 3 / 9
        -0.666...
    """
    m = k_xx.shape[0]
    if k_xx.shape != (m, m) or k_xy.shape != (m, m) or k_yy.shape != (m, m):
        raise ValueError("kernel matrices must all be (m, m)")
    sum_xx = k_xx.sum() - k_xx.diagonal().sum()
    sum_yy = k_yy.sum() - k_yy.diagonal().sum()
    return float((sum_xx + sum_yy) / (m * (m - 1)) - 2 * k_xy.sum() / (m * m))


def _mmd2_from_gram(
    k11: torch.Tensor, k12: torch.Tensor, k22: torch.Tensor, draws: list[tuple[np.ndarray, np.ndarray]], m: int
) -> np.ndarray:
    """Unbiased MMD² of every subset from the full kernel matrices, with 0/1 subset indicators:
    ``sum_{i,j in I} K_ij = wᵀ K w``, so no submatrix is ever copied."""
    w1 = torch.zeros(k11.shape[0], len(draws), dtype=k11.dtype)
    w2 = torch.zeros(k22.shape[0], len(draws), dtype=k22.dtype)
    for column, (index1, index2) in enumerate(draws):
        w1[torch.from_numpy(index1), column] = 1
        w2[torch.from_numpy(index2), column] = 1
    sum_xx = ((k11 @ w1) * w1).sum(0) - (k11.diagonal().unsqueeze(1) * w1).sum(0)
    sum_yy = ((k22 @ w2) * w2).sum(0) - (k22.diagonal().unsqueeze(1) * w2).sum(0)
    sum_xy = ((k12 @ w2) * w1).sum(0)
    return ((sum_xx + sum_yy) / (m * (m - 1)) - 2 * sum_xy / (m * m)).numpy()


def kernel_inception_distance(
    features1: torch.Tensor,
    features2: torch.Tensor,
    *,
    subsets: int = 100,
    subset_size: int = 1000,
    degree: int = 3,
    gamma: float | None = None,
    coef0: float = 1.0,
    seed: int = 2020,
) -> tuple[float, float]:
    """KID between two ``(N, d)`` feature sets: ``(mean, std)`` of MMD² over the subsets.

    The standard deviation is numpy's (population) one, as torch-fidelity reports it.

    Example:
        >>> mean, std = kernel_inception_distance(fake_features, real_features)
    """
    f1 = torch.as_tensor(features1).detach().to("cpu", torch.float64)
    f2 = torch.as_tensor(features2).detach().to("cpu", torch.float64)
    if f1.dim() != 2 or f2.dim() != 2 or f1.shape[1] != f2.shape[1]:
        raise ZooError(f"KID compares (N, d) features of the same d, not {tuple(f1.shape)} and {tuple(f2.shape)}.")
    n1, n2 = f1.shape[0], f2.shape[0]
    if min(n1, n2) < subset_size:
        raise ZooError(
            f"KID's subset size {subset_size} is larger than the number of images ({n1} and {n2}); "
            f"pass subset_size={max(2, min(n1, n2))} or more images."
        )
    if subset_size < 2:
        raise ZooError(f"KID's subset size must be at least 2, not {subset_size}.")
    if gamma is None:
        gamma = 1.0 / f1.shape[1]

    def kernel(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return polynomial_kernel(a, b, degree=degree, gamma=gamma, coef0=coef0)

    gram_entries = n1 * n1 + n2 * n2 + n1 * n2
    precompute = gram_entries <= _GRAM_LIMIT and gram_entries < 3 * subsets * subset_size**2
    rng = np.random.RandomState(seed)
    draws = [
        (rng.choice(n1, subset_size, replace=False), rng.choice(n2, subset_size, replace=False)) for _ in range(subsets)
    ]
    if precompute:
        values = _mmd2_from_gram(kernel(f1, f1), kernel(f1, f2), kernel(f2, f2), draws, subset_size)
    else:
        values = np.zeros(subsets)
        for i, (index1, index2) in enumerate(draws):
            x, y = f1[torch.from_numpy(index1)], f2[torch.from_numpy(index2)]
            values[i] = mmd2_unbiased(kernel(x, x), kernel(x, y), kernel(y, y))
    return float(values.mean()), float(values.std())
