"""Likelihood metrics: ELBO and importance-weighted NLL for VAEs (nats), bits per dimension for density models.

- ``ELBO``: mean evidence lower bound per image, ``-model.negative_elbo(x, generator)``, one
  posterior sample per image from a generator seeded once (``seed``), in nats.
- ``IWAENLL``: the importance-weighted estimate of ``-log p(x)`` (Burda et al. 2015),
  ``-log (1/k) sum_i p(x, z_i) / q(z_i | x)`` with ``k`` posterior samples per image, from
  ``model.log_importance_weights(x, k, generator)``. It is a stochastic upper bound on the
  NLL that tightens as ``k`` grows (k = 5000 in the paper's evaluations) and, for k = 1, is
  an unbiased estimate of ``-ELBO`` (with a Monte Carlo KL term instead of the analytic one).
- ``BitsPerDim``: ``-log p(x) / (D ln 2)`` averaged over images, from ``model.log_prob(x)``
  (``zoo_core.modeling.DensityModel``), D = C x H x W, for models of 8-bit pixels (``pixel_levels`` 256).
- ``BinarizedNLL`` (``nll-binarized``): ``-log p(x)`` in nats averaged over binary images, for
  models of binary pixels (``pixel_levels`` 2): the number the papers quote on binarized MNIST
  (NADE, PixelCNN, PixelRNN). Its recorded protocol is the ``likelihood`` protocol on the 500
  ``mnist5k`` test digits with ``binarize=stochastic`` (one fixed draw of the binary pixels).

Each density metric refuses a model of the other kind of pixels in one sentence naming the metric that fits.

Example:
    >>> metric = ELBO(seed=0)
    >>> metric.update(model=vae, images=test_digits)
    >>> metric.compute()
    {'elbo': -113.9}
"""

from __future__ import annotations

import math
from typing import Any

import torch

from .._errors import ZooError
from . import Metric

__all__ = ["ELBO", "IWAENLL", "BinarizedNLL", "BitsPerDim", "bits_per_dim"]


def bits_per_dim(nll_nats: float | torch.Tensor, dims: int) -> float | torch.Tensor:
    """Negative log-likelihood in nats per image → bits per dimension: ``nll / (dims ln 2)``.

    Example:
        >>> bits_per_dim(784 * math.log(256), 784)  # a uniform 8-bit model
        8.0
    """
    if dims < 1:
        raise ZooError(f"bits per dimension need a positive number of dimensions, not {dims}.")
    return nll_nats / (dims * math.log(2.0))


def _needs(model: Any, method: str, metric: str) -> Any:
    fn = getattr(model, method, None)
    if not callable(fn):
        raise ZooError(f"{metric} needs a model with {method}(); {type(model).__name__} has none. Pick another metric.")
    return fn


#: the density metric that scores models of each number of pixel levels
METRIC_FOR_LEVELS = {2: "nll-binarized", 256: "bpd"}


def _density_log_prob(model: Any, metric: str, levels: int) -> Any:
    """``model.log_prob``, or one sentence when the model has none or models other pixels than ``levels``."""
    log_prob = _needs(model, "log_prob", metric)
    declared = getattr(model, "pixel_levels", None)
    if declared != levels:
        fits = METRIC_FOR_LEVELS.get(declared) if isinstance(declared, int) else None
        what = {2: "binary pixels", 256: "8-bit grey levels"}
        raise ZooError(
            f"The metric {METRIC_FOR_LEVELS[levels]!r} scores models of {what[levels]}, but this "
            f"{getattr(model, 'architecture', '') or type(model).__name__} model's log_prob is defined on "
            f"pixel_levels={declared!r}; "
            + (f"use the metric {fits!r}." if fits else "declare pixel_levels (2 or 256) on the model class.")
        )
    return log_prob


class _MeanPerImage(Metric):
    """Accumulates a per-image quantity (in float64) and reports its mean."""

    inputs = ("model", "images")

    def reset(self) -> None:
        self.total = 0.0
        self.count = 0

    def _add(self, values: torch.Tensor) -> None:
        self.total += float(values.double().sum())
        self.count += values.numel()

    def _mean(self) -> float:
        if self.count == 0:
            raise ZooError(f"{self.name} has seen no images; call update(model=..., images=...) first.")
        return self.total / self.count


class ELBO(_MeanPerImage):
    """Mean ELBO per image in nats (one posterior sample each, seeded), from ``model.negative_elbo``.

    Example:
        >>> m = ELBO(seed=0)
        >>> m.update(model=vae, images=x)
        >>> m.compute()["elbo"]
        -113.9...
    """

    name = "elbo"
    higher_is_better = True
    unit = "nats"

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self.protocol = f"mean ELBO per image, one posterior sample (seed {seed})"
        super().__init__()

    def reset(self) -> None:
        super().reset()
        self.generator = torch.Generator().manual_seed(self.seed)

    def update(self, model: Any, images: torch.Tensor) -> None:
        negative_elbo = _needs(model, "negative_elbo", "The ELBO")
        self._add(-negative_elbo(images, self.generator))

    def compute(self) -> dict[str, float]:
        return {self.name: self._mean()}


class IWAENLL(_MeanPerImage):
    """Importance-weighted NLL estimate with ``k`` samples (Burda et al. 2015), in nats per image.

    Example:
        >>> m = IWAENLL(k=5000)
        >>> m.update(model=vae, images=x)
        >>> m.compute()
        {'iwae-nll': 101.2}
    """

    name = "iwae-nll"
    higher_is_better = False
    unit = "nats"

    def __init__(self, k: int = 5000, seed: int = 0) -> None:
        if k < 1:
            raise ZooError(f"The importance-weighted bound needs k >= 1 samples, not {k}.")
        self.k, self.seed = k, seed
        self.protocol = f"importance-weighted NLL, k={k} posterior samples per image (seed {seed})"
        super().__init__()

    def reset(self) -> None:
        super().reset()
        self.generator = torch.Generator().manual_seed(self.seed)

    def update(self, model: Any, images: torch.Tensor) -> None:
        weights = _needs(model, "log_importance_weights", "The IWAE NLL")
        log_w = weights(images, self.k, self.generator).double()
        self._add(-(torch.logsumexp(log_w, dim=1) - math.log(self.k)))

    def compute(self) -> dict[str, float]:
        return {self.name: self._mean()}


class BitsPerDim(_MeanPerImage):
    """Mean bits per dimension, ``-log_prob(x) / (D ln 2)``, of a density model (``log_prob`` in nats).

    Example:
        >>> m = BitsPerDim()
        >>> m.update(model=pixelcnn, images=x)
        >>> m.compute()
        {'bpd': 2.95}
    """

    name = "bpd"
    higher_is_better = False
    unit = "bits/dim"
    protocol = "-log p(x) / (C H W ln 2), averaged over images"

    def update(self, model: Any, images: torch.Tensor) -> None:
        log_prob = _density_log_prob(model, "Bits per dimension", 256)
        self._add(bits_per_dim(-log_prob(images), images[0].numel()))

    def compute(self) -> dict[str, float]:
        return {self.name: self._mean()}


class BinarizedNLL(_MeanPerImage):
    """Mean negative log-likelihood in nats of binary images, ``-log_prob(x)``, of a model of binary pixels.

    The images must be binary (``mnist5k`` with ``binarize="stochastic"``, the binarized MNIST
    of the NADE / PixelCNN / PixelRNN papers); grey images are refused in one sentence naming the
    dataset option.

    Example:
        >>> m = BinarizedNLL()
        >>> m.update(model=nade, images=load_dataset("mnist5k", split="test", binarize="stochastic").tensors())
        >>> m.compute()
        {'nll-binarized': 88.9}
    """

    name = "nll-binarized"
    higher_is_better = False
    unit = "nats"
    protocol = "-log p(x) in nats per binary image, averaged over images"

    def update(self, model: Any, images: torch.Tensor) -> None:
        log_prob = _density_log_prob(model, "nll-binarized", 2)
        grey = (images != 0) & (images != 1)
        if bool(grey.any()):
            value = float(images[grey][0])
            raise ZooError(
                f"The metric 'nll-binarized' scores binary images, but got grey values such as {value:.4g}; "
                "binarize them: --dataset mnist5k --dataset-option binarize=stochastic."
            )
        self._add(-log_prob(images))

    def compute(self) -> dict[str, float]:
        return {self.name: self._mean()}
