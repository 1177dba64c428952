"""The Gaussian Parzen-window log-likelihood of Goodfellow et al. (2014), after Breuleux et al. (2011).

A generative model that has no likelihood of its own is scored by the density of an isotropic
Gaussian kernel estimate fitted to its samples ``mu_1 .. mu_N``:

    log p(x) = logsumexp_j( -||x - mu_j||^2 / (2 sigma^2) ) - log N - D log(sigma sqrt(2 pi))

The bandwidth ``sigma`` is chosen on validation images by the mean log-likelihood over a
grid (``goodfeli/adversarial`` ``parzen_ll.py``: 10,000 samples, ``numpy.logspace(-1, 0, 10)``,
1,000 validation digits; the paper reports the test mean and its standard error,
``std / sqrt(n)``). The metric ``parzen-ll`` (higher is better, nats) does exactly this on the
``fake`` samples and ``real`` test images the ``samples`` protocol feeds it, with validation
images it loads itself: by default the last 500 digits of ``mnist5k``'s train split (mnist5k
has no validation split; the reference took MNIST's digits 50,000-60,000, which its GAN did not
train on, while these 500 are among the 4,500 a model trained on mnist5k saw). It reports
``parzen-ll`` (the mean over the test images) and ``parzen-ll-se`` (its standard error), and its
recorded protocol names the chosen sigma.

The estimate is known to be poor in high dimensions (Theis et al. 2016); it is here to compare
with the number the paper quotes (225 +- 2 nats on MNIST), not as a likelihood.

Example:
    >>> metric = ParzenLogLikelihood()
    >>> metric.update(fake=model.sample(10_000, seed=0))
    >>> metric.update(real=test_digits)
    >>> metric.compute()
    {'parzen-ll': 225.3, 'parzen-ll-se': 2.1}
"""

from __future__ import annotations

import math

import torch

from .._errors import ZooError
from . import Metric

__all__ = ["ParzenLogLikelihood", "choose_sigma", "parzen_log_likelihood", "sigma_grid"]

#: rows of x scored at once (each row needs N distances)
_CHUNK = 100


def sigma_grid(log10_min: float = -1.0, log10_max: float = 0.0, steps: int = 10) -> list[float]:
    """The candidate bandwidths, ``numpy.logspace(log10_min, log10_max, steps)`` (the reference's grid by default).

    Example:
        >>> [round(s, 3) for s in sigma_grid(steps=3)]
        [0.1, 0.316, 1.0]
    """
    if steps < 1 or not log10_min <= log10_max:
        raise ZooError(
            f"A sigma grid needs steps >= 1 and log10_min <= log10_max, not {steps}, {log10_min}, {log10_max}."
        )
    if steps == 1:
        return [10.0**log10_min]
    return [10.0 ** (log10_min + (log10_max - log10_min) * i / (steps - 1)) for i in range(steps)]


def _squared_distances(x: torch.Tensor, samples: torch.Tensor) -> torch.Tensor:
    """``||x_i - mu_j||^2`` in float64, ``(len(x), len(samples))``."""
    d = (x * x).sum(1, keepdim=True) - 2 * x @ samples.T + (samples * samples).sum(1)
    return d.clamp_min_(0)


def parzen_log_likelihood(x: torch.Tensor, samples: torch.Tensor, sigmas: float | list[float]) -> torch.Tensor:
    """``log p(x)`` in nats under the Parzen window of ``samples`` ``(N, D)``, one row per sigma (one sigma: a vector).

    Example:
        >>> parzen_log_likelihood(torch.zeros(1, 1), torch.zeros(1, 1), 1.0)  # N(0, 1) at 0
        tensor([-0.9189], dtype=torch.float64)
    """
    single = isinstance(sigmas, (int, float))
    grid = [float(sigmas)] if single else [float(s) for s in sigmas]
    if not grid or not all(s > 0 and math.isfinite(s) for s in grid):
        raise ZooError(f"Parzen-window bandwidths must be positive and finite, not {sigmas!r}.")
    x, samples = x.flatten(1).double(), samples.flatten(1).double()
    if samples.shape[0] == 0 or x.shape[1] != samples.shape[1]:
        raise ZooError(
            f"A Parzen window needs samples of the images' size: got {tuple(samples.shape)} samples "
            f"for images of {x.shape[1]} values."
        )
    n, dims = samples.shape
    out = torch.empty(len(grid), x.shape[0], dtype=torch.float64)
    for start in range(0, x.shape[0], _CHUNK):
        d2 = _squared_distances(x[start : start + _CHUNK], samples)
        for k, sigma in enumerate(grid):
            log_kernel = torch.logsumexp(-d2 / (2 * sigma * sigma), dim=1) - math.log(n)
            out[k, start : start + _CHUNK] = log_kernel - dims * math.log(sigma * math.sqrt(2 * math.pi))
    return out[0] if single else out


def choose_sigma(samples: torch.Tensor, validation: torch.Tensor, sigmas: list[float]) -> tuple[float, list[float]]:
    """The bandwidth of ``sigmas`` with the highest mean log-likelihood of ``validation``, and each one's mean.

    Example:
        >>> choose_sigma(torch.randn(2000, 2), torch.randn(200, 2), [0.01, 0.3, 10.0])[0]
        0.3
    """
    means = parzen_log_likelihood(validation, samples, list(sigmas)).mean(1).tolist()
    best = max(range(len(means)), key=lambda k: means[k])  # the first of equal maxima
    return float(sigmas[best]), means


class ParzenLogLikelihood(Metric):
    """``parzen-ll``: mean Parzen-window log-likelihood (nats) of the ``real`` images under the ``fake`` samples.

    Options: ``validation_dataset`` / ``validation_split`` / ``validation_size`` (the last
    ``validation_size`` images of that split choose sigma; default the last 500 of ``mnist5k``
    train) and the grid ``log10_sigma_min`` / ``log10_sigma_max`` / ``sigma_steps`` (default
    ``logspace(-1, 0, 10)``, the reference's), or a fixed ``sigma``.

    Example:
        >>> m = ParzenLogLikelihood(sigma=0.2)
        >>> m.update(fake=samples, real=test_digits)
        >>> m.compute()["parzen-ll"]
        212.7...
    """

    name = "parzen-ll"
    inputs = ("fake", "real")
    higher_is_better = True
    unit = "nats"

    def __init__(
        self,
        validation_dataset: str = "mnist5k",
        validation_split: str = "train",
        validation_size: int = 500,
        log10_sigma_min: float = -1.0,
        log10_sigma_max: float = 0.0,
        sigma_steps: int = 10,
        sigma: float | None = None,
    ) -> None:
        if validation_size < 1:
            raise ZooError(f"The Parzen window's validation_size must be at least 1, not {validation_size}.")
        if sigma is not None and not (sigma > 0 and math.isfinite(sigma)):
            raise ZooError(f"The Parzen window's sigma must be positive, not {sigma}.")
        self.validation_dataset, self.validation_split = validation_dataset, validation_split
        self.validation_size = validation_size
        self.sigmas = sigma_grid(log10_sigma_min, log10_sigma_max, sigma_steps)
        self.fixed_sigma = sigma
        self.validation: torch.Tensor | None = None  # set it to skip loading the validation dataset
        self.chosen_sigma: float | None = None
        self.validation_means: list[float] = []
        grid = f"logspace({log10_sigma_min:g}, {log10_sigma_max:g}, {sigma_steps})"
        self.base_protocol = self.protocol = (
            f"Gaussian Parzen window on the samples, sigma {sigma:g}"
            if sigma is not None
            else f"Gaussian Parzen window on the samples, sigma from {grid} by the mean log-likelihood of the last "
            f"{validation_size} images of {validation_dataset} {validation_split}"
        ) + "; mean log-likelihood of the split's images in nats (-se: its standard error)"
        super().__init__()

    def reset(self) -> None:
        self.fake: list[torch.Tensor] = []
        self.real: list[torch.Tensor] = []

    def update(self, fake: torch.Tensor | None = None, real: torch.Tensor | None = None) -> None:
        if fake is not None:
            self.fake.append(fake.detach().flatten(1).double().cpu())
        if real is not None:
            self.real.append(real.detach().flatten(1).double().cpu())

    def _validation(self) -> torch.Tensor:
        if self.validation is not None:
            return self.validation.flatten(1).double()
        from ..data import load_dataset

        data = load_dataset(self.validation_dataset, split=self.validation_split)
        if len(data) < self.validation_size:
            raise ZooError(
                f"{self.validation_dataset} {self.validation_split} has {len(data)} images, fewer than the "
                f"{self.validation_size} the Parzen window's validation_size asks for; pass a smaller validation_size."
            )
        indices = range(len(data) - self.validation_size, len(data))
        return torch.stack([data[i]["image"] for i in indices]).flatten(1).double()

    def compute(self) -> dict[str, float]:
        if not self.fake or not self.real:
            raise ZooError("The Parzen window needs samples and images; call update(fake=..., real=...) first.")
        samples, x = torch.cat(self.fake), torch.cat(self.real)
        if self.fixed_sigma is not None:
            self.chosen_sigma = self.fixed_sigma
        else:
            self.chosen_sigma, self.validation_means = choose_sigma(samples, self._validation(), self.sigmas)
            self.protocol = f"{self.base_protocol}; chosen sigma {self.chosen_sigma:.4g}"
        ll = parzen_log_likelihood(x, samples, self.chosen_sigma)
        se = ll.std(unbiased=False) / math.sqrt(len(ll))  # the reference's numpy std (ddof 0) / sqrt(n)
        return {self.name: float(ll.mean()), f"{self.name}-se": float(se)}
