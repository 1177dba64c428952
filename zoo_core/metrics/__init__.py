"""The metric contract: what every registered metric implements.

A metric registered with ``register_metrics`` has a ``create(**options)`` that returns a
``Metric``: it accumulates batches with ``update`` and gives its value with ``compute``,
like torchmetrics, so that evaluation streams over data sets that do not fit in memory.
What a metric needs from a batch is named in ``inputs`` (e.g. ``("fake", "real")`` for
FID, ``("model", "images")`` for an ELBO).

Example:
    >>> metric = zoo_core.metrics.create_metric("elbo")
    >>> for batch in loader:
    ...     metric.update(model=model, images=batch["image"])
    >>> metric.compute()
    {'elbo': -98.1}

The built-in metrics live in submodules, imported only when a metric is built:
``frechet`` (Fréchet distance), ``features`` (feature extractors; FID, KID, Inception Score),
``inception`` (the FID Inception-v3), ``kid``, ``inception_score``, ``likelihood`` (ELBO,
IWAE NLL, bits/dim), ``image_quality`` (PSNR, SSIM), ``translation`` (cycle L1, pixel accuracy).
"""

from __future__ import annotations

import abc
from typing import Any, ClassVar

__all__ = ["Metric", "create_metric"]


class Metric(abc.ABC):
    """Streaming metric: ``reset()``, ``update(**inputs)`` per batch, ``compute()`` at the end."""

    name: ClassVar[str] = ""
    inputs: ClassVar[tuple[str, ...]] = ()
    higher_is_better: ClassVar[bool] = False
    unit: ClassVar[str] = ""
    #: how the value is computed, in words (stored in every metric record with the value)
    protocol: str = ""

    def __init__(self) -> None:
        self.reset()

    @abc.abstractmethod
    def reset(self) -> None:
        """Forget every batch seen so far."""

    @abc.abstractmethod
    def update(self, **inputs: Any) -> None:
        """Add one batch."""

    @abc.abstractmethod
    def compute(self) -> dict[str, float]:
        """The value(s) over every batch since the last reset, by name."""


def create_metric(name: str, **options: Any) -> Metric:
    """Build a registered metric by name (``zoo metrics`` lists them); ``options`` are its keyword options.

    Example:
        >>> create_metric("psnr-y", crop_border=2).crop_border
        2
    """
    import inspect

    from .._catalog import get_catalog
    from .._errors import ZooError
    from ..specs import resolve_target

    create = resolve_target(get_catalog().metric(name).create)
    if options:
        parameters = inspect.signature(create).parameters
        takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
        known = [p for p, v in parameters.items() if v.kind in (v.KEYWORD_ONLY, v.POSITIONAL_OR_KEYWORD)]
        unknown = [key for key in options if key not in known]
        if unknown and not takes_any:
            takes = f"it takes {', '.join(known)}" if known else "it takes none"
            raise ZooError(f"The metric {name!r} has no option {unknown[0]!r}; {takes}.")
        from .._config import check_call_options

        options = check_call_options(f"metric {name!r}", create, options)  # types: psnr-y:crop_border=abc
    return create(**options)
