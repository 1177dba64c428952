"""The Bayes-classifier sampler: one Gaussian p(x | y) per class and the class prior p(y).

As lazyprogrammer/machine_learning_examples ``unsupervised_class3/bayes_classifier_gaussian.py``
fits it: for each class k, the mean of its images and their covariance (``np.cov``: divided by
n_k - 1), and p(y = k) = n_k / n. Sampling draws y ~ p(y), then x ~ N(mu_y, Sigma_y), clipped to
[0, 1]; the same model classifies by Bayes' rule, argmax_k log p(y = k) + log N(x; mu_k, Sigma_k).

One addition, also in the card: ``reg_covar`` (default 1e-2) is added to the diagonal of every
covariance, as the same author's Gaussian Bayes classifier (``supervised_class/bayes.py``,
``smoothing = 1e-2``) and scikit-learn's ``reg_covar`` do. The reference samples from the raw
covariance, which is singular on MNIST (the border pixels never vary; 450 images per class for
784 pixels), so it has no density and cannot classify; with the ridge it has both.

Example:
    >>> model = zoo.load("gaussian-bayes.mnist")
    >>> model.sample(16, seed=0).shape                  # y ~ p(y), x ~ N(mu_y, Sigma_y), in [0, 1]
    torch.Size([16, 1, 28, 28])
    >>> model.sample(8, seed=0, labels=3)               # eight threes
    >>> model.classify(digits).argmax(1)                # Bayes' rule
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import torch
from torch import nn

from zoo_core.layers.gaussians import covariance_scale, gaussian_log_prob, sample_gaussians
from zoo_core.modeling import (
    ImageClassifier,
    ModelConfig,
    UnconditionalGenerator,
    ZooModel,
    check_count,
    check_images,
    check_labels,
    seeded_generator,
)

__all__ = ["GaussianBayes", "GaussianBayesConfig"]


@dataclass
class GaussianBayesConfig(ModelConfig):
    """Image shape, number of classes, covariance type and the ridge added to every covariance."""

    image_size: int = field(default=28, metadata={"range": (1, 64)})
    channels: int = field(default=1, metadata={"range": (1, 3)})
    num_classes: int = field(default=10, metadata={"range": (2, 1000)})
    covariance_type: Literal["full", "diag"] = "full"
    reg_covar: float = field(default=1e-2, metadata={"range": (1e-9, 10.0)})


class GaussianBayes(UnconditionalGenerator, ImageClassifier, ZooModel):
    """Gaussian class-conditionals and a class prior; the tensors are set by the closed-form fit (``fit``).

    ``means`` ``(K, D)``; ``scale`` the Cholesky factors of the covariances ``(K, D, D)`` (``"full"``)
    or the variances ``(K, D)`` (``"diag"``); ``log_prior`` ``(K,)``. An unfitted model is K standard
    Gaussians at 0 with a uniform prior.

    Example:
        >>> model = GaussianBayes.from_config(image_size=28)
        >>> model.fit(images, labels)   # what `zoo train gaussian-bayes` does in one step
        >>> (model.classify(test_images).argmax(1) == test_labels).float().mean()
    """

    architecture = "gaussian-bayes"
    config_class = GaussianBayesConfig

    def __init__(self, config: GaussianBayesConfig) -> None:
        super().__init__(config)
        k, d = config.num_classes, self.dims
        scale = torch.eye(d).expand(k, d, d).clone() if config.covariance_type == "full" else torch.ones(k, d)
        self.means = nn.Parameter(torch.zeros(k, d), requires_grad=False)
        self.scale = nn.Parameter(scale, requires_grad=False)
        self.log_prior = nn.Parameter(torch.full((k,), -math.log(k)), requires_grad=False)

    @property
    def dims(self) -> int:
        c = self.config
        return c.channels * c.image_size * c.image_size

    # -- the closed-form fit --------------------------------------------------------------
    @torch.no_grad()
    def fit_statistics(self, count: torch.Tensor, total: torch.Tensor, scatter: torch.Tensor) -> None:
        """Set the tensors from per-class sufficient statistics (float64): ``count`` ``(K,)``, the sum of the
        images ``(K, D)`` and the sum of their outer products ``(K, D, D)`` (``"full"``) or squares ``(K, D)``.

        mu_k = sum / n_k; Sigma_k = (scatter - n_k mu_k mu_k^T) / (n_k - 1) + reg_covar I (``np.cov``);
        p(y = k) = n_k / n. A class without images keeps its Gaussian and gets p(y) = 0.
        """
        c = self.config
        seen = count > 0
        n = count.clamp_min(1)[:, None]
        mean = total / n
        if c.covariance_type == "full":
            centred = scatter - n[:, :, None] * mean[:, :, None] * mean[:, None, :]
            covariance = centred / (count - 1).clamp_min(1)[:, None, None]
            covariance = covariance + c.reg_covar * torch.eye(self.dims, dtype=covariance.dtype)
        else:
            covariance = (scatter - n * mean**2) / (count - 1).clamp_min(1)[:, None] + c.reg_covar
        scale = covariance_scale(covariance[seen], c.covariance_type)
        self.means[seen] = mean[seen].to(self.means.dtype)
        self.scale[seen] = scale.to(self.scale.dtype)
        self.log_prior.copy_((count / count.sum()).log().to(self.log_prior.dtype))

    @staticmethod
    def statistics(x: torch.Tensor, y: torch.Tensor, num_classes: int, covariance_type: str):
        """The sufficient statistics of flat images ``x`` ``(N, D)`` with labels ``y``, in float64."""
        x = x.double()
        one_hot = torch.nn.functional.one_hot(y, num_classes).double()  # (N, K)
        count = one_hot.sum(0)
        total = one_hot.T @ x
        if covariance_type == "full":
            scatter = torch.stack([x[y == k].T @ x[y == k] for k in range(num_classes)])
        else:
            scatter = one_hot.T @ x**2
        return count, total, scatter

    def fit(self, images: torch.Tensor, labels: torch.Tensor) -> GaussianBayes:
        """Fit to ``images`` ``(N, C, H, W)`` in [0, 1] and their ``labels`` in one go; returns the model."""
        self._check(images)
        y = check_labels(labels, len(images), self.config.num_classes)
        self.fit_statistics(
            *self.statistics(images.flatten(1), y, self.config.num_classes, self.config.covariance_type)
        )
        return self

    # -- the task verbs ---------------------------------------------------------------------
    def _check(self, x: torch.Tensor) -> None:
        c = self.config
        check_images(x, channels=c.channels, size=(c.image_size, c.image_size), what="Gaussian Bayes classifier")

    def _log_likelihoods(self, x: torch.Tensor) -> torch.Tensor:
        self._check(x)
        flat = x.flatten(1).double()
        return gaussian_log_prob(flat, self.means.double(), self.scale.double(), self.config.covariance_type)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The class-conditional log-likelihoods log N(x; mu_k, Sigma_k) in nats: ``(N, K)``."""
        return self._log_likelihoods(x).float()

    def classify(self, x: torch.Tensor) -> torch.Tensor:
        """Class scores by Bayes' rule, log p(y = k) + log p(x | y = k): ``(N, K)``; softmax gives p(y | x)."""
        return (self._log_likelihoods(x) + self.log_prior.double()).float()

    def _draw(self, labels: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        c = self.config
        flat = sample_gaussians(self.means, self.scale, c.covariance_type, labels.to(self.means.device), generator)
        return flat.clamp(0, 1).view(len(labels), c.channels, c.image_size, c.image_size)

    def sample_batch(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """y ~ p(y), then x ~ N(mu_y, Sigma_y), clipped to [0, 1] (as the reference's ``clamp_sample``)."""
        labels = torch.multinomial(
            self.log_prior.detach().double().exp().cpu(), n, replacement=True, generator=generator
        )
        return self._draw(labels, generator)

    def sample(
        self,
        n: int,
        *,
        seed: int | None = None,
        progress: bool = False,
        labels: int | Sequence[int] | torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Draw ``n`` images in [0, 1]; ``labels`` (one class, or one per image) samples p(x | y) instead.

        Example:
            >>> model.sample(10, seed=0, labels=range(10))  # one of each digit
        """
        if labels is None:
            return UnconditionalGenerator.sample(self, n, seed=seed, progress=progress)
        check_count(n)
        y = check_labels(labels, n, self.config.num_classes)
        return self._draw(y, seeded_generator(seed))
