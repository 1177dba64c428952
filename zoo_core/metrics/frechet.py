"""Fréchet distance between Gaussians fitted to features (the core of FID).

``d² = |mu1 - mu2|² + tr(S1) + tr(S2) - 2 tr sqrt(S1 S2)``.

pytorch-fid computes ``tr sqrt(S1 S2)`` with ``scipy.linalg.sqrtm`` of the non-symmetric
product (about 9 s at d = 2048 on this project's machines). Here it is computed from a
Cholesky factor and one symmetric eigenvalue problem in float64, which gives the same
number much faster: with ``S1 = L Lᵀ``, ``S1 S2`` is similar to the symmetric positive
semi-definite ``A = Lᵀ S2 L``, so ``tr sqrt(S1 S2) = sum_i sqrt(lambda_i(A))``. Tiny
negative eigenvalues (rounding) are clamped to 0. When ``S1`` is singular, ``L`` is replaced
by ``V sqrt(Λ)`` from ``eigh(S1)`` restricted to its numerical range (eigenvalues above
``d * eps * λ_max``).

Rank-deficient covariances (fewer features than dimensions): the formula stays well defined
for positive semi-definite matrices, so nothing is added to the diagonals; the value is the
Fréchet distance of the two degenerate Gaussians. pytorch-fid keeps ``sqrtm``'s result for
the singular product (scipy warns that it may be inaccurate) and adds ``eps = 1e-6`` to both
diagonals only when that result is not finite; the square root amplifies the rounding
noise of the null spaces. Measured on 2,048-d features of 100-2,000 images against the exact
value computed from the features themselves (the nuclear norm of ``A1 A2ᵀ / (n - 1)``, A the
centred features): pytorch-fid is off by 2e-9 to 1.1e-4 (relative), this implementation by
2e-9 to 2e-6, so the two differ by up to about 1e-4 there. With 5,000 images (full rank) both
are within 2e-8 of the exact value.

Example:
    >>> torch.manual_seed(0)
    >>> f1, f2 = torch.randn(500, 8), torch.randn(500, 8) + 0.5
    >>> mu1, s1 = feature_statistics(f1)
    >>> mu2, s2 = feature_statistics(f2)
    >>> frechet_distance(mu1, s1, mu2, s2)  # about 8 * 0.25 = 2
    2.07...
"""

from __future__ import annotations

import numpy as np
import torch

from .._errors import ZooError

__all__ = ["RunningStatistics", "feature_statistics", "frechet_distance", "trace_sqrt_product"]

ArrayLike = torch.Tensor | np.ndarray


def _as_float64(x: ArrayLike) -> torch.Tensor:
    if isinstance(x, np.ndarray):
        return torch.from_numpy(np.asarray(x, dtype=np.float64))
    return torch.as_tensor(x).detach().to(device="cpu", dtype=torch.float64)


def feature_statistics(features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and unbiased covariance of ``(N, d)`` features, in float64.

    Same as ``np.mean(f, axis=0)`` and ``np.cov(f, rowvar=False)``.

    Example:
        >>> mu, sigma = feature_statistics(torch.randn(100, 4))
        >>> mu.shape, sigma.shape, sigma.dtype
        (torch.Size([4]), torch.Size([4, 4]), torch.float64)
    """
    f = _as_float64(features)
    if f.ndim != 2 or f.shape[0] < 2:
        raise ValueError(f"features must be (N, d) with N >= 2, got shape {tuple(f.shape)}")
    mu = f.mean(dim=0)
    centred = f - mu
    sigma = centred.T @ centred / (f.shape[0] - 1)
    return mu, sigma


class RunningStatistics:
    """Mean and unbiased covariance of features that arrive in batches, in float64.

    Batches are merged with Chan et al.'s pairwise update (centred sums), which is as accurate
    as ``feature_statistics`` on all the features at once and needs O(d²) memory.

    Example:
        >>> stats = RunningStatistics()
        >>> for batch in torch.randn(1000, 16).split(100):
        ...     stats.update(batch)
        >>> mu, sigma = stats.compute()
    """

    def __init__(self) -> None:
        self.count = 0
        self.mean: torch.Tensor | None = None
        self.centred_sum: torch.Tensor | None = None  # sum of (x - mean)(x - mean)^T

    def update(self, features: torch.Tensor) -> None:
        f = _as_float64(features)
        if f.ndim != 2:
            raise ValueError(f"features must be (N, d), got shape {tuple(f.shape)}")
        n = f.shape[0]
        if n == 0:
            return
        mean = f.mean(dim=0)
        centred = f - mean
        scatter = centred.T @ centred
        if self.mean is None or self.centred_sum is None:
            self.count, self.mean, self.centred_sum = n, mean, scatter
            return
        if mean.shape != self.mean.shape:
            raise ValueError(f"features of dimension {mean.shape[0]} after {self.mean.shape[0]}")
        total = self.count + n
        delta = mean - self.mean
        self.centred_sum = self.centred_sum + scatter + torch.outer(delta, delta) * (self.count * n / total)
        self.mean = self.mean + delta * (n / total)
        self.count = total

    def compute(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(mu, sigma)`` of every feature seen, like ``feature_statistics`` of their concatenation."""
        if self.count < 2 or self.mean is None or self.centred_sum is None:
            raise ZooError(f"Fréchet statistics need at least 2 images, got {self.count}; pass more images.")
        return self.mean.clone(), self.centred_sum / (self.count - 1)


def trace_sqrt_product(sigma1: ArrayLike, sigma2: ArrayLike) -> float:
    """``tr sqrt(sigma1 @ sigma2)`` for symmetric positive semi-definite matrices.

    With ``sigma1 = F Fᵀ``, ``sigma1 sigma2`` has the eigenvalues of the symmetric positive
    semi-definite ``Fᵀ sigma2 F`` (plus zeros), so the trace is the sum of their square roots.
    ``F`` is the Cholesky factor of ``sigma1``; when ``sigma1`` is singular (Cholesky fails),
    ``F = V sqrt(Λ)`` from its eigendecomposition, keeping only the eigenvalues above
    ``d * eps * λ_max`` (its numerical range), which also makes ``Fᵀ sigma2 F`` smaller.

    Example:
        >>> trace_sqrt_product(torch.eye(3) * 4, torch.eye(3))
        6.0
    """
    s1 = _as_float64(sigma1)
    s2 = _as_float64(sigma2)
    s1 = (s1 + s1.T) / 2
    s2 = (s2 + s2.T) / 2
    factor, info = torch.linalg.cholesky_ex(s1)
    if int(info) != 0:
        eigvals, eigvecs = torch.linalg.eigh(s1)
        keep = eigvals > eigvals.max() * s1.shape[0] * torch.finfo(s1.dtype).eps
        if not bool(keep.any()):
            return 0.0
        factor = eigvecs[:, keep] * eigvals[keep].sqrt()
    inner = factor.T @ s2 @ factor
    inner = (inner + inner.T) / 2
    eigvals = torch.linalg.eigvalsh(inner)
    return float(eigvals.clamp(min=0).sqrt().sum())


def frechet_distance(mu1: ArrayLike, sigma1: ArrayLike, mu2: ArrayLike, sigma2: ArrayLike) -> float:
    """Fréchet distance between ``N(mu1, sigma1)`` and ``N(mu2, sigma2)``.

    Accepts torch tensors or numpy arrays; computed in float64 on the CPU. Equals
    ``pytorch_fid.fid_score.calculate_frechet_distance`` (relative 1e-4 or better).

    Example:
        >>> frechet_distance(np.zeros(2), np.eye(2), np.ones(2), np.eye(2))
        2.0
    """
    m1, m2 = _as_float64(mu1).reshape(-1), _as_float64(mu2).reshape(-1)
    s1, s2 = _as_float64(sigma1), _as_float64(sigma2)
    d = m1.shape[0]
    if m2.shape[0] != d or s1.shape != (d, d) or s2.shape != (d, d):
        raise ValueError(
            "mean and covariance shapes differ: "
            f"{tuple(m1.shape)}, {tuple(s1.shape)}, {tuple(m2.shape)}, {tuple(s2.shape)}"
        )
    diff = m1 - m2
    value = float(diff @ diff) + float(torch.trace(s1)) + float(torch.trace(s2)) - 2.0 * trace_sqrt_product(s1, s2)
    return value
