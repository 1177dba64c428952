"""Pluggable feature extractors and the distribution metrics built on them: FID, KID, Inception Score.

A feature extractor is any ``nn.Module`` with ``features(images) -> (N, d)`` for images in
[0, 1] shaped ``(N, C, H, W)``, optionally ``logits(images) -> (N, classes)`` (the Inception
Score needs them; a zoo ``ImageClassifier``'s ``classify`` is accepted in its place), and a
``protocol`` string naming its preprocessing and weights, which every result reports (as
clean-fid does): FID values computed under different protocols are not comparable.

``FID``, ``KID`` and ``InceptionScore`` take the extractor as their first argument (default:
the standard FID Inception, which needs converted weights, see ``zoo_core.metrics.inception``)
and report ``{name: value}`` (plus ``{name}-std`` for KID and IS); ``name=`` renames the
results, e.g. ``FID(mnist_classifier, name="fid-mnist")``.

Example:
    >>> from zoo_core.metrics.inception import load_fid_inception
    >>> fid = FID(load_fid_inception())          # the standard Inception-v3 FID network
    >>> fid.update(real=real_images)             # floats in [0, 1] (or uint8), any number of calls
    >>> fid.update(fake=model.sample(10_000, seed=0))
    >>> fid.compute(), fid.protocol
    ({'fid': 12.3}, 'legacy_pytorch')
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch
from torch import nn

from .._errors import ZooError
from . import Metric
from .frechet import RunningStatistics, frechet_distance
from .inception_score import inception_score
from .kid import kernel_inception_distance

__all__ = [
    "FID",
    "KID",
    "FeatureExtractor",
    "InceptionScore",
    "default_extractor",
    "extract_features",
    "extractor_protocol",
]

Images = torch.Tensor | Iterable[Any]


@runtime_checkable
class FeatureExtractor(Protocol):
    """What FID, KID and the Inception Score need from a network.

    ``features(images)``: ``(N, C, H, W)`` floats in [0, 1] to ``(N, d)`` features; the
    extractor does its own resizing and normalisation. ``protocol``: a short name of that
    preprocessing and of the weights (``"legacy_pytorch"`` for pytorch-fid's Inception).
    Optionally ``logits(images) -> (N, classes)`` for the Inception Score.

    Example:
        >>> class Pixels(nn.Module):
        ...     protocol = "raw-pixels"
        ...     def features(self, x):
        ...         return x.flatten(1)
        >>> isinstance(Pixels(), FeatureExtractor)
        True
    """

    protocol: str

    def features(self, images: torch.Tensor) -> torch.Tensor: ...


def extractor_protocol(extractor: Any) -> str:
    """The extractor's ``protocol``, or its class name when it declares none.

    Example:
        >>> extractor_protocol(load_fid_inception())
        'legacy_pytorch'
    """
    return str(getattr(extractor, "protocol", "") or type(extractor).__name__)


def _method(extractor: Any, output: str) -> Callable[[torch.Tensor], torch.Tensor]:
    if output == "features":
        names = ("features",)
    elif output == "logits":
        names = ("logits", "classify")
    else:
        raise ValueError(f"output must be 'features' or 'logits', not {output!r}")
    for name in names:
        method = getattr(extractor, name, None)
        if callable(method):
            return method
    raise ZooError(
        f"The feature extractor {type(extractor).__name__} has no {' or '.join(names)}() method; "
        f"give it one that maps images in [0, 1] to ({'N, d' if output == 'features' else 'N, classes'})."
    )


def _as_images(batch: Any) -> torch.Tensor:
    """One batch as floats in [0, 1]: a tensor, a dataset item dict ``{"image": ...}`` or ``(image, label)``."""
    if isinstance(batch, dict):
        if "image" not in batch:
            raise ZooError(f"A batch dict needs an 'image' entry; it has {', '.join(map(str, batch))}.")
        batch = batch["image"]
    elif isinstance(batch, (tuple, list)) and batch and isinstance(batch[0], torch.Tensor):
        batch = batch[0]
    if isinstance(batch, np.ndarray):
        batch = torch.from_numpy(batch)
    if not isinstance(batch, torch.Tensor) or batch.dim() not in (3, 4):
        shape = tuple(batch.shape) if isinstance(batch, torch.Tensor) else type(batch).__name__
        raise ZooError(f"Feature extraction takes images shaped (N, C, H, W), not {shape}.")
    if batch.dim() == 3:
        batch = batch.unsqueeze(0)
    if batch.dtype == torch.uint8:
        return batch.float().div_(255.0)
    if not batch.is_floating_point():
        raise ZooError(f"Images must be floats in [0, 1] or uint8, not {batch.dtype}.")
    return batch


def _batches(images: Images, batch_size: int) -> Iterator[torch.Tensor]:
    if isinstance(images, (torch.Tensor, np.ndarray, dict)):
        images = [images]
    for item in images:
        x = _as_images(item)
        yield from x.split(batch_size)


def extract_features(
    extractor: Any,
    images: Images,
    *,
    batch_size: int = 64,
    progress: bool = False,
    output: str = "features",
) -> torch.Tensor:
    """Run ``extractor`` over ``images`` in batches, under ``torch.inference_mode``, in eval mode.

    ``images``: a tensor ``(N, C, H, W)`` (floats in [0, 1] or uint8), or an iterable of such
    batches, of dataset batches (``{"image": ...}``) or of ``(images, labels)`` pairs.
    ``output="logits"`` asks for ``logits`` (or ``classify``) instead of ``features``.
    Returns a float32 ``(N, d)`` tensor on the CPU. A module in training mode is switched to
    eval mode for the extraction and back afterwards.

    Example:
        >>> extract_features(load_fid_inception(), images, batch_size=50).shape
        torch.Size([1000, 2048])
    """
    if batch_size < 1:
        raise ZooError(f"batch_size must be at least 1, not {batch_size}.")
    method = _method(extractor, output)
    parameter = next(extractor.parameters(), None) if isinstance(extractor, nn.Module) else None
    device = parameter.device if parameter is not None else torch.device("cpu")
    dtype = parameter.dtype if parameter is not None and parameter.is_floating_point() else torch.float32
    was_training = isinstance(extractor, nn.Module) and extractor.training
    if was_training:
        extractor.eval()
    chunks: list[torch.Tensor] = []
    try:
        from tqdm.auto import tqdm

        with torch.inference_mode():
            for x in tqdm(_batches(images, batch_size), desc=output, unit="batch", disable=not progress):
                out = method(x.to(device=device, dtype=dtype))
                if out.dim() != 2 or out.shape[0] != x.shape[0]:
                    raise ZooError(
                        f"{type(extractor).__name__}.{method.__name__} returned shape {tuple(out.shape)} "
                        f"for {x.shape[0]} images; it must return (N, d)."
                    )
                chunks.append(out.float().cpu())
    finally:
        if was_training:
            extractor.train()
    if not chunks:
        raise ZooError("No images were given to extract features from.")
    return torch.cat(chunks)


def default_extractor() -> Any:
    """The standard FID Inception-v3 (weights from ``ZOO_FID_INCEPTION``), shared by FID, KID and IS."""
    from .inception import load_fid_inception

    return load_fid_inception()


class _DistributionMetric(Metric):
    """A metric over features of generated (``fake``) and real images."""

    inputs = ("fake", "real")

    def __init__(
        self, extractor: Any = None, *, batch_size: int = 64, progress: bool = False, name: str | None = None
    ) -> None:
        if name:
            self.name = name  # the key of the results, e.g. "fid-mnist"
        self.extractor = extractor if extractor is not None else default_extractor()
        self.protocol = extractor_protocol(self.extractor)
        self.batch_size = batch_size
        self.progress = progress
        super().__init__()

    def _extract(self, images: Images, output: str = "features") -> torch.Tensor:
        return extract_features(
            self.extractor, images, batch_size=self.batch_size, progress=self.progress, output=output
        )


def _load_statistics(source: Any) -> tuple[torch.Tensor, torch.Tensor]:
    if isinstance(source, (str, os.PathLike)):
        try:
            with np.load(os.fspath(source)) as data:
                return torch.from_numpy(data["mu"]).double(), torch.from_numpy(data["sigma"]).double()
        except (OSError, KeyError, ValueError) as exc:
            raise ZooError(
                f"{source} is not a statistics file with 'mu' and 'sigma' arrays ({exc}); "
                "write one with FID.save_statistics or pytorch-fid --save-stats."
            ) from exc
    mu, sigma = source
    return torch.as_tensor(np.asarray(mu), dtype=torch.float64), torch.as_tensor(np.asarray(sigma), dtype=torch.float64)


class FID(_DistributionMetric):
    """Fréchet Inception Distance (Heusel et al. 2017) over any feature extractor.

    Statistics are accumulated in float64 as the batches stream in (memory O(d²), not O(N d)).
    ``real_statistics``: precomputed ``(mu, sigma)`` or an ``.npz`` with ``mu`` and ``sigma``
    (pytorch-fid's ``--save-stats`` format); then only ``fake`` images are needed.

    Example:
        >>> fid = FID(extractor)
        >>> fid.update(real=real_images, fake=fake_images)
        >>> fid.compute()
        {'fid': 23.4}
    """

    name = "fid"
    higher_is_better = False

    def __init__(
        self,
        extractor: Any = None,
        *,
        real_statistics: Any = None,
        batch_size: int = 64,
        progress: bool = False,
        name: str | None = None,
    ) -> None:
        self._fixed_real = _load_statistics(real_statistics) if real_statistics is not None else None
        super().__init__(extractor, batch_size=batch_size, progress=progress, name=name)

    def reset(self) -> None:
        self.fake_statistics = RunningStatistics()
        self.real_statistics = RunningStatistics()

    def update(self, fake: Images | None = None, real: Images | None = None) -> None:
        if fake is not None:
            self.fake_statistics.update(self._extract(fake))
        if real is not None:
            self.real_statistics.update(self._extract(real))

    def _real(self) -> tuple[torch.Tensor, torch.Tensor]:
        if self._fixed_real is not None and self.real_statistics.count == 0:
            return self._fixed_real
        return self.real_statistics.compute()

    def compute(self) -> dict[str, float]:
        mu1, sigma1 = self.fake_statistics.compute()
        mu2, sigma2 = self._real()
        return {self.name: frechet_distance(mu1, sigma1, mu2, sigma2)}

    def save_statistics(self, path: str | os.PathLike[str], which: str = "real") -> None:
        """Write ``mu`` and ``sigma`` of the real (or fake) images to an ``.npz`` (pytorch-fid's format)."""
        stats = self.real_statistics if which == "real" else self.fake_statistics
        mu, sigma = stats.compute()
        np.savez(os.fspath(path), mu=mu.numpy(), sigma=sigma.numpy())


class KID(_DistributionMetric):
    """Kernel Inception Distance (Bińkowski et al. 2018): unbiased MMD² with a cubic polynomial kernel.

    ``k(x, y) = (gamma x·y + coef0) ** degree`` with ``gamma = 1 / d`` by default, averaged over
    ``subsets`` random subsets of ``subset_size`` features of each side, drawn exactly as
    torch-fidelity draws them (``numpy.random.RandomState(seed)``, default seed 2020), so that
    the values equal ``torch_fidelity.metric_kid.kid_features_to_metric``. Computed in float64.

    Example:
        >>> kid = KID(extractor, subset_size=100)
        >>> kid.update(real=real_images, fake=fake_images)
        >>> kid.compute()
        {'kid': 0.0123, 'kid-std': 0.0011}
    """

    name = "kid"
    higher_is_better = False

    def __init__(
        self,
        extractor: Any = None,
        *,
        subsets: int = 100,
        subset_size: int = 1000,
        degree: int = 3,
        gamma: float | None = None,
        coef0: float = 1.0,
        seed: int = 2020,
        batch_size: int = 64,
        progress: bool = False,
        name: str | None = None,
    ) -> None:
        self.options = {
            "subsets": subsets,
            "subset_size": subset_size,
            "degree": degree,
            "gamma": gamma,
            "coef0": coef0,
            "seed": seed,
        }
        super().__init__(extractor, batch_size=batch_size, progress=progress, name=name)

    def reset(self) -> None:
        self.fake_features: list[torch.Tensor] = []
        self.real_features: list[torch.Tensor] = []

    def update(self, fake: Images | None = None, real: Images | None = None) -> None:
        if fake is not None:
            self.fake_features.append(self._extract(fake))
        if real is not None:
            self.real_features.append(self._extract(real))

    def compute(self) -> dict[str, float]:
        if not self.fake_features or not self.real_features:
            raise ZooError("KID needs both fake and real images; call update(fake=..., real=...) first.")
        mean, std = kernel_inception_distance(
            torch.cat(self.fake_features), torch.cat(self.real_features), **self.options
        )
        return {self.name: mean, f"{self.name}-std": std}


class InceptionScore(_DistributionMetric):
    """Inception Score (Salimans et al. 2016) from the extractor's class logits.

    ``exp(E_x KL(p(y|x) || p(y)))`` on each of ``splits`` chunks of the (seeded, shuffled)
    images; reports the mean and the (unbiased) standard deviation over the chunks, as
    ``torchmetrics.image.inception.InceptionScore`` does. The FID Inception's ``logits`` are
    the bias-free ones of the reference code (torch-fidelity's ``logits_unbiased``).

    Example:
        >>> score = InceptionScore(extractor)
        >>> score.update(fake=model.sample(5000, seed=0))
        >>> score.compute()
        {'is': 6.2, 'is-std': 0.1}
    """

    name = "is"
    inputs = ("fake",)
    higher_is_better = True

    def __init__(
        self,
        extractor: Any = None,
        *,
        splits: int = 10,
        seed: int | None = 0,
        batch_size: int = 64,
        progress: bool = False,
        name: str | None = None,
    ) -> None:
        self.splits = splits
        self.seed = seed
        super().__init__(extractor, batch_size=batch_size, progress=progress, name=name)

    def reset(self) -> None:
        self.logits: list[torch.Tensor] = []

    def update(self, fake: Images | None = None) -> None:
        if fake is not None:
            self.logits.append(self._extract(fake, output="logits"))

    def compute(self) -> dict[str, float]:
        if not self.logits:
            raise ZooError("The Inception Score needs images; call update(fake=...) first.")
        mean, std = inception_score(torch.cat(self.logits), splits=self.splits, seed=self.seed)
        return {self.name: mean, f"{self.name}-std": std}
