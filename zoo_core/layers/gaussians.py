"""Multivariate Gaussians for the explicit models (the Bayes-classifier sampler, the Gaussian mixture).

One way to hold, score and draw Gaussians, shared by ``zoo-gaussian-bayes`` and ``zoo-gmm``:

- a ``"full"`` covariance is held as its lower Cholesky factor ``scale_tril`` (``(K, D, D)``,
  covariance ``L L^T``), a ``"diag"`` one as its variances (``(K, D)``);
- ``gaussian_log_prob`` scores points under K Gaussians (the sum of the log-determinant and the
  Mahalanobis term, as scikit-learn's ``_estimate_log_gaussian_prob``, computed through the
  covariance's Cholesky factor instead of the precision's: the same number);
- ``sample_gaussians`` draws ``mean + L z`` (or ``mean + sqrt(var) z``) with noise from a generator;
- ``covariance_scale`` turns covariances into what is held (the Cholesky factor, in float64);
- ``kmeans_plusplus`` picks initial centres as Arthur & Vassilvitskii (2007): the first
  uniformly, each next one with probability proportional to the squared distance to the
  nearest centre chosen (with scikit-learn's ``2 + log(k)`` local trials, keeping the candidate
  that most lowers the potential).

Example:
    >>> scale = covariance_scale(torch.eye(2).expand(3, 2, 2) * 4, "full")
    >>> gaussian_log_prob(torch.zeros(1, 2), torch.zeros(3, 2), scale, "full").shape
    torch.Size([1, 3])
"""

from __future__ import annotations

import math

import torch

from .._errors import ZooError

__all__ = ["COVARIANCE_TYPES", "covariance_scale", "gaussian_log_prob", "kmeans_plusplus", "sample_gaussians"]

#: the covariance types the explicit models hold
COVARIANCE_TYPES = ("full", "diag")


def _check_type(covariance_type: str) -> None:
    if covariance_type not in COVARIANCE_TYPES:
        raise ZooError(f"The covariance type must be one of {', '.join(COVARIANCE_TYPES)}, not {covariance_type!r}.")


def covariance_scale(covariances: torch.Tensor, covariance_type: str) -> torch.Tensor:
    """What a model holds for ``covariances``: the lower Cholesky factor of each (``"full"``), or the variances.

    Fails in one sentence when a covariance is not positive definite (raise ``reg_covar``).

    Example:
        >>> covariance_scale(torch.eye(2)[None] * 4, "full")[0]
        tensor([[2., 0.],
                [0., 2.]])
    """
    _check_type(covariance_type)
    if covariance_type == "diag":
        if bool((covariances <= 0).any()):
            raise ZooError("A variance is not positive; raise reg_covar.")
        return covariances
    scale, info = torch.linalg.cholesky_ex(covariances)
    if bool((info != 0).any()):
        raise ZooError("A covariance matrix is not positive definite (too few points for its size); raise reg_covar.")
    return scale


def gaussian_log_prob(x: torch.Tensor, means: torch.Tensor, scale: torch.Tensor, covariance_type: str) -> torch.Tensor:
    """``log N(x_n; mean_k, cov_k)`` for every point and Gaussian: ``(N, D)``, ``(K, D)`` -> ``(N, K)``.

    ``scale`` is what ``covariance_scale`` returns (Cholesky factors ``(K, D, D)`` or variances ``(K, D)``).

    Example:
        >>> gaussian_log_prob(torch.zeros(1, 1), torch.zeros(1, 1), torch.ones(1, 1), "diag")
        tensor([[-0.9189]])
    """
    _check_type(covariance_type)
    dims = x.shape[1]
    constant = -0.5 * dims * math.log(2 * math.pi)
    if covariance_type == "diag":
        inverse = scale.reciprocal()  # (K, D)
        # sum_d (x - m)^2 / v, expanded as in scikit-learn so that (N, K, D) is never built
        mahalanobis = (
            (means**2 * inverse).sum(1)[None, :] - 2 * x @ (means * inverse).T + (x**2) @ inverse.T
        ).clamp_min(0)
        return constant - 0.5 * scale.log().sum(1)[None, :] - 0.5 * mahalanobis
    out = torch.empty(x.shape[0], means.shape[0], dtype=x.dtype, device=x.device)
    for k in range(means.shape[0]):  # one triangular solve per Gaussian: (D, N) at a time
        solved = torch.linalg.solve_triangular(scale[k], (x - means[k]).T, upper=False)
        log_det = scale[k].diagonal().log().sum()
        out[:, k] = constant - log_det - 0.5 * solved.pow(2).sum(0)
    return out


def sample_gaussians(
    means: torch.Tensor,
    scale: torch.Tensor,
    covariance_type: str,
    index: torch.Tensor,
    generator: torch.Generator,
) -> torch.Tensor:
    """One draw from Gaussian ``index[i]`` for each ``i``: ``means`` ``(K, D)``, ``scale`` ``(K, D, D)`` or
    ``(K, D)``, ``index`` ``(n,)`` -> ``(n, D)``.

    The noise ``z ~ N(0, I)`` comes from ``generator`` (on the CPU) as one ``(n, D)`` draw, then each
    row becomes ``mean_k + L_k z`` (``mean_k + sqrt(var_k) z``); the Gaussians are applied one at a time,
    so no ``(n, D, D)`` tensor is ever built.

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> sample_gaussians(torch.zeros(3, 2), torch.ones(3, 2), "diag", torch.tensor([0, 2, 2, 1]), g).shape
        torch.Size([4, 2])
    """
    _check_type(covariance_type)
    n, dims = index.shape[0], means.shape[1]
    z = torch.randn(n, dims, generator=generator, dtype=torch.float64).to(means.device, means.dtype)
    if covariance_type == "diag":
        return means[index] + scale[index].sqrt() * z
    out = torch.empty_like(z)
    for k in index.unique().tolist():
        rows = index == k
        out[rows] = means[k] + z[rows] @ scale[k].T
    return out


def kmeans_plusplus(
    x: torch.Tensor, k: int, generator: torch.Generator, local_trials: int | None = None
) -> torch.Tensor:
    """Indices of ``k`` initial centres among the rows of ``x`` (greedy k-means++, as scikit-learn's).

    With fewer distinct points than ``k`` the remaining centres repeat points (every distance is then 0).

    Example:
        >>> kmeans_plusplus(torch.rand(100, 2), 3, torch.Generator().manual_seed(0)).shape
        torch.Size([3])
    """
    n = x.shape[0]
    if n == 0 or k < 1:
        raise ZooError(f"k-means++ needs points and at least one centre, not {n} points and k={k}.")
    trials = local_trials if local_trials is not None else 2 + int(math.log(k))
    x = x.double()
    first = int(torch.randint(n, (1,), generator=generator))
    chosen = [first]
    closest = (x - x[first]).pow(2).sum(1)
    for _ in range(1, k):
        potential = float(closest.sum())
        if potential <= 0:
            chosen.append(int(torch.randint(n, (1,), generator=generator)))
            continue
        draws = torch.rand(trials, generator=generator, dtype=torch.float64) * potential
        candidates = torch.searchsorted(closest.cumsum(0), draws).clamp_max(n - 1)
        distances = torch.cdist(x[candidates], x).pow(2)  # (trials, n)
        options = torch.minimum(closest[None, :], distances)
        best = int(options.sum(1).argmin())
        chosen.append(int(candidates[best]))
        closest = options[best]
    return torch.tensor(chosen, dtype=torch.long)
