"""Fitting one Gaussian mixture: EM, and its variational form with a Dirichlet-process prior.

scikit-learn's ``GaussianMixture`` and ``BayesianGaussianMixture``
(``weight_concentration_prior_type="dirichlet_process"``) are the numerical reference; every
update below is theirs, in float64 torch:

- initialisation ``init_params="k-means++"``: responsibilities one-hot at k-means++ centres
  (``zoo_core.layers.gaussians.kmeans_plusplus``), then an M-step from them (weights n_k / n);
- E-step: ``log_resp = weighted - logsumexp(weighted)``, ``weighted`` the log weights plus the
  Gaussian log-densities (for the variational form: the expected log weights of the stick-breaking
  posterior and the expected log-densities under the Normal-Wishart posterior, ``_estimate_log_prob``);
- M-step: ``n_k = sum resp + 10 eps``, means, covariances + ``reg_covar`` (``_estimate_gaussian_parameters``);
  EM sets weights n_k / n, the variational form the posterior's parameters (``_estimate_weights``,
  ``_estimate_means``, ``_estimate_wishart_full`` / ``_diag``) with scikit-learn's default priors
  (weight concentration 1 / K, mean prior the data's mean with precision 1, degrees of freedom D,
  covariance prior the data's covariance, ``np.cov``);
- stop when the change of the bound is below ``tol`` or after ``max_iter`` iterations.

One deviation, also in the card: the variational form stops on the change of the mean expected
log-likelihood (the E-step's ``log_prob_norm``), not of scikit-learn's full evidence lower bound
(``_compute_lower_bound``); with ``tol=0`` both run ``max_iter`` iterations and agree.

Example:
    >>> mixture = fit_mixture(x, 10, "diag", generator=torch.Generator().manual_seed(0))
    >>> mixture.weights.sum()
    tensor(1., dtype=torch.float64)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from zoo_core import ZooError
from zoo_core.layers.gaussians import covariance_scale, gaussian_log_prob, kmeans_plusplus

__all__ = ["INFERENCE", "Mixture", "Priors", "e_step", "fit_mixture", "m_step"]

#: how a mixture is fitted: maximum likelihood by EM, or variational Bayes with a Dirichlet-process prior
INFERENCE = ("em", "dirichlet-process")
_EPS = torch.finfo(torch.float64).eps


@dataclass
class Priors:
    """The variational form's priors (scikit-learn's defaults, from the data)."""

    weight_concentration: float
    mean: torch.Tensor
    mean_precision: float
    degrees_of_freedom: float
    covariance: torch.Tensor

    @classmethod
    def default(cls, x: torch.Tensor, n_components: int, covariance_type: str) -> Priors:
        dims = x.shape[1]
        covariance = torch.cov(x.T).reshape(dims, dims) if covariance_type == "full" else x.var(0, correction=1)
        return cls(1.0 / n_components, x.mean(0), 1.0, float(dims), covariance)


@dataclass
class Mixture:
    """One mixture's parameters (float64): ``weights`` ``(K,)``, ``means`` ``(K, D)``, ``covariances``
    ``(K, D, D)`` or ``(K, D)`` and their ``scale`` (Cholesky factors or variances); for the variational
    form also the posterior's ``concentration`` (``(2, K)``: the Beta parameters of the sticks),
    ``mean_precision`` and ``degrees_of_freedom`` (``(K,)``). ``weights`` are the posterior mean's for it."""

    weights: torch.Tensor
    means: torch.Tensor
    covariances: torch.Tensor
    scale: torch.Tensor
    concentration: torch.Tensor | None = None
    mean_precision: torch.Tensor | None = None
    degrees_of_freedom: torch.Tensor | None = None


def gaussian_statistics(
    x: torch.Tensor, resp: torch.Tensor, reg_covar: float, covariance_type: str
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``n_k``, the means and the covariances (+ ``reg_covar``) of responsibilities ``resp`` (scikit-learn's)."""
    nk = resp.sum(0) + 10 * _EPS
    means = resp.T @ x / nk[:, None]
    if covariance_type == "full":
        covariances = torch.empty(len(nk), x.shape[1], x.shape[1], dtype=x.dtype)
        for k in range(len(nk)):
            diff = x - means[k]
            covariances[k] = (resp[:, k] * diff.T) @ diff / nk[k]
            covariances[k].diagonal().add_(reg_covar)
    else:
        covariances = resp.T @ (x * x) / nk[:, None] - means**2 + reg_covar
    return nk, means, covariances


def m_step(
    x: torch.Tensor, resp: torch.Tensor, reg_covar: float, covariance_type: str, priors: Priors | None, *, initial=False
) -> Mixture:
    """The M-step of EM (``priors`` None) or of the variational form; ``initial``: EM's weights are n_k / n
    without renormalising (scikit-learn's ``_initialize``)."""
    nk, xk, sk = gaussian_statistics(x, resp, reg_covar, covariance_type)
    if priors is None:
        weights = nk / x.shape[0]
        if not initial:
            weights = weights / weights.sum()
        return Mixture(weights, xk, sk, covariance_scale(sk, covariance_type))
    # the stick-breaking posterior: Beta(1 + n_k, alpha + sum_{j > k} n_j)
    after = torch.cat([nk.flip(0).cumsum(0).flip(0)[1:], nk.new_zeros(1)])
    concentration = torch.stack([1.0 + nk, priors.weight_concentration + after])
    mean_precision = priors.mean_precision + nk
    means = (priors.mean_precision * priors.mean + nk[:, None] * xk) / mean_precision[:, None]
    dof = priors.degrees_of_freedom + nk
    diff = xk - priors.mean
    shrink = nk * priors.mean_precision / mean_precision
    if covariance_type == "full":
        covariances = (
            priors.covariance + nk[:, None, None] * sk + shrink[:, None, None] * diff[:, :, None] * diff[:, None, :]
        )
        covariances = covariances / dof[:, None, None]
    else:
        covariances = (priors.covariance + nk[:, None] * sk + shrink[:, None] * diff**2) / dof[:, None]
    a, b = concentration
    total = a + b
    weights = a / total * torch.cat([a.new_ones(1), torch.cumprod(b / total, 0)[:-1]])
    weights = weights / weights.sum()
    return Mixture(
        weights, means, covariances, covariance_scale(covariances, covariance_type), concentration, mean_precision, dof
    )


def weighted_log_prob(x: torch.Tensor, mixture: Mixture, covariance_type: str) -> torch.Tensor:
    """``log w_k + log p(x_n | k)`` ``(N, K)``: plug-in for EM, the variational expectations otherwise."""
    log_gauss = gaussian_log_prob(x, mixture.means, mixture.scale, covariance_type)
    if mixture.concentration is None:
        return log_gauss + mixture.weights.log()
    dims = x.shape[1]
    dof, a, b = mixture.degrees_of_freedom, *mixture.concentration
    log_gauss = log_gauss - 0.5 * dims * dof.log()
    steps = torch.arange(dims, dtype=x.dtype)[:, None]
    log_lambda = dims * torch.log(torch.tensor(2.0, dtype=x.dtype)) + torch.digamma(0.5 * (dof - steps)).sum(0)
    log_prob = log_gauss + 0.5 * (log_lambda - dims / mixture.mean_precision)
    digamma_total = torch.digamma(a + b)
    log_weights = torch.digamma(a) - digamma_total
    log_weights = log_weights + torch.cat([a.new_zeros(1), torch.cumsum(torch.digamma(b) - digamma_total, 0)[:-1]])
    return log_prob + log_weights


def e_step(x: torch.Tensor, mixture: Mixture, covariance_type: str) -> tuple[float, torch.Tensor]:
    """The mean of ``log sum_k exp(weighted)`` over the points, and the log responsibilities ``(N, K)``."""
    weighted = weighted_log_prob(x, mixture, covariance_type)
    norm = torch.logsumexp(weighted, 1)
    return float(norm.mean()), weighted - norm[:, None]


def fit_mixture(
    x: torch.Tensor,
    n_components: int,
    covariance_type: str,
    *,
    inference: str = "em",
    reg_covar: float = 1e-6,
    max_iter: int = 100,
    tol: float = 1e-3,
    generator: torch.Generator | None = None,
    init_indices: torch.Tensor | None = None,
    callback: Callable[[int, Mixture, float], None] | None = None,
) -> tuple[Mixture, int, bool, float]:
    """Fit a mixture of ``n_components`` Gaussians to the rows of ``x``: ``(mixture, iterations, converged, bound)``.

    ``init_indices`` (the k-means++ centres, e.g. scikit-learn's) replaces the k-means++ draw from
    ``generator``; ``callback(iteration, mixture, bound)`` is called after every M-step (curves).

    Example:
        >>> mixture, n_iter, converged, bound = fit_mixture(x, 3, "full", generator=torch.Generator().manual_seed(0))
    """
    if inference not in INFERENCE:
        raise ZooError(f"inference must be one of {', '.join(INFERENCE)}, not {inference!r}.")
    x = x.double()
    n = x.shape[0]
    if n < 1:
        raise ZooError("A Gaussian mixture needs at least one point to fit.")
    if init_indices is None:
        init_indices = kmeans_plusplus(x, n_components, generator or torch.Generator().manual_seed(0))
    resp = torch.zeros(n, n_components, dtype=torch.float64)
    resp[init_indices, torch.arange(n_components)] = 1
    priors = Priors.default(x, n_components, covariance_type) if inference == "dirichlet-process" else None
    mixture = m_step(x, resp, reg_covar, covariance_type, priors, initial=True)
    bound, converged, iteration = -float("inf"), False, 0
    for iteration in range(1, max_iter + 1):
        previous = bound
        bound, log_resp = e_step(x, mixture, covariance_type)
        mixture = m_step(x, log_resp.exp(), reg_covar, covariance_type, priors)
        if callback is not None:
            callback(iteration, mixture, bound)
        if abs(bound - previous) < tol:
            converged = True
            break
    return mixture, iteration, converged, bound
