"""Gaussian mixtures of digits: one mixture p(x | y) per class (EM or its Dirichlet-process variational form).

As lazyprogrammer/machine_learning_examples ``unsupervised_class3/bayes_classifier_gmm.py`` builds
it: for each class, a mixture of ``n_components`` Gaussians fitted to that class's images, and the
prior p(y) = n_y / n. Sampling picks a class, then a component by its weight, then draws from its
Gaussian (clipped to [0, 1]); classification is Bayes' rule with log p(x | y) = log sum_k w_yk N(x; mu_yk,
Sigma_yk). With ``num_classes=1`` it is one unsupervised mixture of all the images.

The fit (``zoo_gmm.em``) follows scikit-learn's ``GaussianMixture`` (``inference="em"``) or
``BayesianGaussianMixture`` with a Dirichlet-process prior (``inference="dirichlet-process"``, the
reference's choice), whose posterior drives the weights of components it does not need to about 0.
The model holds the plug-in mixture (for the variational form: the posterior means of the weights,
means and covariances, which is what scikit-learn samples from).

Deviation, also in the card: ``covariance_type="diag"`` by default (the reference uses full
covariances: 100 full 784 x 784 matrices would take 246 MB, fitted from 45 images each).

Example:
    >>> model = zoo.load("gmm.mnist")
    >>> model.sample(16, seed=0, labels=7)          # sevens
    >>> model.classify(digits).argmax(1)            # Bayes' rule over the class mixtures
    >>> model.weights[0]                             # the weights of the zeros' components
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import torch
from torch import nn

from zoo_core.layers.gaussians import gaussian_log_prob, sample_gaussians
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

from .em import fit_mixture

__all__ = ["GMM", "GMMConfig"]


@dataclass
class GMMConfig(ModelConfig):
    """Image shape, classes, components per class, covariance type and how the mixtures are fitted."""

    image_size: int = field(default=28, metadata={"range": (1, 64)})
    channels: int = field(default=1, metadata={"range": (1, 3)})
    num_classes: int = field(default=10, metadata={"range": (1, 1000)})
    n_components: int = field(default=10, metadata={"range": (1, 1000)})
    covariance_type: Literal["full", "diag"] = "diag"
    inference: Literal["em", "dirichlet-process"] = "em"


class GMM(UnconditionalGenerator, ImageClassifier, ZooModel):
    """``num_classes`` mixtures of ``n_components`` Gaussians and a class prior; set by ``fit``.

    ``means`` ``(C, K, D)``; ``scale`` the Cholesky factors ``(C, K, D, D)`` or variances ``(C, K, D)``;
    ``log_weights`` ``(C, K)``; ``log_prior`` ``(C,)``. Unfitted: standard Gaussians at 0, uniform weights.

    Example:
        >>> model = GMM.from_config(n_components=10, inference="dirichlet-process")
        >>> model.fit(images, labels, seed=0)
        >>> model.weights.round(decimals=2)
    """

    architecture = "gmm"
    config_class = GMMConfig

    def __init__(self, config: GMMConfig) -> None:
        super().__init__(config)
        c, k, d = config.num_classes, config.n_components, self.dims
        scale = torch.eye(d).expand(c, k, d, d).clone() if config.covariance_type == "full" else torch.ones(c, k, d)
        self.means = nn.Parameter(torch.zeros(c, k, d), requires_grad=False)
        self.scale = nn.Parameter(scale, requires_grad=False)
        self.log_weights = nn.Parameter(torch.full((c, k), -math.log(k)), requires_grad=False)
        self.log_prior = nn.Parameter(torch.full((c,), -math.log(c)), requires_grad=False)

    @property
    def dims(self) -> int:
        c = self.config
        return c.channels * c.image_size * c.image_size

    @property
    def weights(self) -> torch.Tensor:
        """The mixture weights of each class's components ``(C, K)`` (each row sums to 1)."""
        return self.log_weights.detach().exp()

    # -- fitting ------------------------------------------------------------------------------------
    def fit(
        self,
        images: torch.Tensor,
        labels: torch.Tensor | None = None,
        *,
        reg_covar: float = 1e-6,
        max_iter: int = 100,
        tol: float = 1e-3,
        seed: int = 0,
    ) -> dict[str, float]:
        """Fit every class's mixture to its images (EM or variational, as the config says); p(y) = n_y / n.

        Returns the mean over classes of the final bound (mean log-likelihood per image, nats), the
        iterations of the slowest class and how many classes converged. Class y's k-means++ draw is
        seeded with ``seed * 1000 + y``. A class without images keeps its mixture and gets p(y) = 0.
        """
        c = self.config
        self._check(images)
        y = (
            torch.zeros(len(images), dtype=torch.long)
            if labels is None
            else check_labels(labels, len(images), c.num_classes)
        )
        flat = images.flatten(1).double().cpu()
        bounds, iterations, converged = [], 0, 0
        counts = torch.bincount(y, minlength=c.num_classes).double()
        with torch.no_grad():
            for label in range(c.num_classes):
                x = flat[y == label]
                if len(x) == 0:
                    continue
                generator = torch.Generator().manual_seed(seed * 1000 + label)
                mixture, n_iter, done, bound = fit_mixture(
                    x, c.n_components, c.covariance_type, inference=c.inference, reg_covar=reg_covar,
                    max_iter=max_iter, tol=tol, generator=generator,
                )  # fmt: skip
                self.means[label] = mixture.means.to(self.means.dtype)
                self.scale[label] = mixture.scale.to(self.scale.dtype)
                self.log_weights[label] = (mixture.weights / mixture.weights.sum()).log().to(self.log_weights.dtype)
                bounds.append(bound)
                iterations = max(iterations, n_iter)
                converged += int(done)
            self.log_prior.copy_((counts / counts.sum()).log().to(self.log_prior.dtype))
        return {"bound": sum(bounds) / len(bounds), "iterations": iterations, "converged_classes": converged}

    # -- the task verbs -----------------------------------------------------------------------------
    def _check(self, x: torch.Tensor) -> None:
        c = self.config
        check_images(x, channels=c.channels, size=(c.image_size, c.image_size), what="Gaussian mixture")

    def _flat(self) -> tuple[torch.Tensor, torch.Tensor]:
        means = self.means.reshape(-1, self.dims)
        scale = self.scale.reshape(means.shape[0], *self.scale.shape[2:])
        return means, scale

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """log p(x | y) of each class's mixture, in nats: ``(N, C)``."""
        self._check(x)
        c = self.config
        means, scale = self._flat()
        log_gauss = gaussian_log_prob(x.flatten(1).double(), means.double(), scale.double(), c.covariance_type)
        weighted = log_gauss.view(len(x), c.num_classes, c.n_components) + self.log_weights.double()
        return torch.logsumexp(weighted, 2).float()

    def classify(self, x: torch.Tensor) -> torch.Tensor:
        """Class scores by Bayes' rule, log p(y) + log p(x | y): ``(N, C)``."""
        return (self.features(x).double() + self.log_prior.double()).float()

    def _draw(self, labels: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        c = self.config
        weights = self.log_weights.detach().double().exp().cpu()
        components = torch.stack([torch.multinomial(weights[y], 1, generator=generator)[0] for y in labels.tolist()])
        index = labels * c.n_components + components
        means, scale = self._flat()
        flat = sample_gaussians(means, scale, c.covariance_type, index.to(means.device), generator)
        return flat.clamp(0, 1).view(len(labels), c.channels, c.image_size, c.image_size)

    def sample_batch(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """A class y ~ p(y), a component k ~ w_y, then x ~ N(mu_yk, Sigma_yk), clipped to [0, 1]."""
        prior = self.log_prior.detach().double().exp().cpu()
        return self._draw(torch.multinomial(prior, n, replacement=True, generator=generator), generator)

    def sample(
        self,
        n: int,
        *,
        seed: int | None = None,
        progress: bool = False,
        labels: int | Sequence[int] | torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Draw ``n`` images in [0, 1]; ``labels`` (one class, or one per image) samples that class's mixture.

        Example:
            >>> model.sample(10, seed=0, labels=range(10))  # one of each digit
        """
        if labels is None:
            return UnconditionalGenerator.sample(self, n, seed=seed, progress=progress)
        check_count(n)
        y = check_labels(labels, n, self.config.num_classes)
        return self._draw(y, seeded_generator(seed))
