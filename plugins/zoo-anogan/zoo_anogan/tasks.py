"""The task ``anomaly-detection``: ``score(x, *, method="encoder", seed=0)``, one anomaly score per image.

No torch at module level (``plugin.py`` imports this module to register the task, and ``zoo list``
must not pay for torch).

The contract (``AnomalyDetection``): ``score(x, *, method="encoder", seed=0) -> Tensor (N,)`` takes
images ``(N, C, H, W)`` in [0, 1] of the model's channels and size and returns one float per image;
**higher means more anomalous**. ``method`` names how the model finds the latent code of ``x``:

- ``"encoder"``: one pass through a trained encoder (f-AnoGAN's izif mapping, Schlegl et al. 2019):
  deterministic, cheap;
- ``"latent-search"``: gradient descent on the latent code from a random start (AnoGAN, Schlegl et al.
  2017): ``seed`` fixes the start, so the same seed gives the same scores.

A model may take more keywords (with defaults), e.g. the anogan model's ``steps`` for the search.
The core runs the verb as every task verb: in eval mode under ``torch.inference_mode()`` (a
latent search turns gradients back on inside, for its own latent codes only).

The mix-in ``AnomalyDetector`` gives a model class the task (``task = "anomaly-detection"``), the
``score`` placeholder (a class that forgets ``score`` is refused when it is defined) and the input
checks ``check_anomaly_input``.

Example:
    >>> import torch, zoo_core as zoo
    >>> from zoo_core.tasks import TASKS
    >>> TASKS["anomaly-detection"].verbs
    ('score',)
    >>> model = zoo.create("anogan", image_size=32, ngf=16, ndf=16, nef=16)
    >>> x = torch.rand(8, 1, 32, 32)
    >>> model.score(x).shape, model.score(x, method="latent-search", seed=0, steps=20).shape
    (torch.Size([8]), torch.Size([8]))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

from zoo_core import ZooError
from zoo_core.tasks import abstract_verb

if TYPE_CHECKING:
    import torch

__all__ = ["SCORE_METHODS", "TASK", "AnomalyDetection", "AnomalyDetector", "conformance_calls"]

#: the task's name
TASK = "anomaly-detection"
#: the ``method`` values of ``score``: f-AnoGAN's encoder (one pass) and AnoGAN's latent search
SCORE_METHODS = ("encoder", "latent-search")


@runtime_checkable
class AnomalyDetection(Protocol):
    """The contract of task ``anomaly-detection``: ``score(x, *, method, seed)``, higher = more anomalous."""

    def score(self, x: torch.Tensor, *, method: str = "encoder", seed: int = 0) -> torch.Tensor:
        """One anomaly score per image of ``x`` ``(N, C, H, W)`` in [0, 1]: a float tensor ``(N,)``."""
        ...


class AnomalyDetector:
    """The mix-in of task ``anomaly-detection``: a ``ZooModel`` implements ``score``.

    ``score_methods`` lists the ``method`` values the model serves (default: both of ``SCORE_METHODS``);
    ``check_anomaly_input(x, method)`` refuses, in one sentence, what ``score`` cannot take. The
    channels and size come from the model's config (``channels``, ``image_size``).

    Example:
        >>> class Brightness(AnomalyDetector, ZooModel):
        ...     architecture, config_class = "brightness", BrightnessConfig
        ...     score_methods = ("encoder",)
        ...     def score(self, x, *, method="encoder", seed=0):
        ...         self.check_anomaly_input(x, method)
        ...         return x.mean(dim=(1, 2, 3))
    """

    task = TASK
    score_methods: ClassVar[tuple[str, ...]] = SCORE_METHODS

    @abstract_verb
    def score(self, x: torch.Tensor, *, method: str = "encoder", seed: int = 0) -> torch.Tensor:
        """One anomaly score per image (higher = more anomalous), ``(N,)``."""
        raise NotImplementedError

    def check_anomaly_input(self, x: Any, method: str) -> None:
        """Fail in one sentence unless ``x`` is ``(N, C, S, S)`` float images in [0, 1] of the model and
        ``method`` one it serves.

        Example:
            >>> model.check_anomaly_input(torch.rand(2, 1, 28, 28), "encoder")
            Traceback (most recent call last):
            zoo_core._errors.ZooError: The anogan model scores 32x32 images, got 28x28; resize them first ...
        """
        import torch

        what = f"The {getattr(self, 'architecture', '') or type(self).__name__} model"
        if method not in self.score_methods:
            raise ZooError(f"{what} scores with method {' or '.join(map(repr, self.score_methods))}, not {method!r}.")
        config = getattr(self, "config", None)
        channels = getattr(config, "channels", 1)
        size = getattr(config, "image_size", None)
        if not isinstance(x, torch.Tensor) or x.dim() != 4 or x.shape[0] == 0:
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ZooError(f"{what} scores a non-empty batch of images shaped (N, C, H, W), not {shape}.")
        if x.shape[1] != channels:
            raise ZooError(f"{what} scores {channels}-channel images, got {x.shape[1]} channel(s); convert them first.")
        if size is not None and tuple(x.shape[-2:]) != (size, size):
            raise ZooError(
                f"{what} scores {size}x{size} images, got {x.shape[-2]}x{x.shape[-1]}; resize them first "
                f"(mnist5k-anomaly: --dataset-option size={size})."
            )
        if not x.is_floating_point():
            raise ZooError(f"{what} scores float images in [0, 1], not {x.dtype}; divide 8-bit images by 255.")
        if not bool(torch.isfinite(x).all()) or float(x.min()) < 0 or float(x.max()) > 1:
            raise ZooError(
                f"{what} scores images in [0, 1], got values from {float(x.min()):.4g} to {float(x.max()):.4g}; "
                "map them to [0, 1] first."
            )


def conformance_calls(model: Any, images: torch.Tensor) -> dict[str, Callable[[], Any]]:
    """What ``zoo plugin check`` calls for the task: both methods on the kit's fixed images (a short search).

    Example:
        >>> sorted(conformance_calls(model, torch.rand(2, 1, 32, 32)))
        ['score(encoder)', 'score(latent-search)']
    """
    calls: dict[str, Callable[[], Any]] = {}
    methods = getattr(model, "score_methods", SCORE_METHODS)
    if "encoder" in methods:
        calls["score(encoder)"] = lambda: model.score(images, method="encoder")
    if "latent-search" in methods:
        # a few steps: the kit checks shapes, finiteness, seeding and save/load, not the search's length
        kwargs: dict[str, Any] = {"steps": 3} if _takes(model.score, "steps") else {}
        calls["score(latent-search)"] = lambda: model.score(images, method="latent-search", seed=0, **kwargs)
    return calls


def _takes(function: Callable[..., Any], keyword: str) -> bool:
    import inspect

    try:
        return keyword in inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False
