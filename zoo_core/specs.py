"""What plugins register: small descriptions that point lazily at the code (no torch here).

A ``target`` is either a callable or a ``"module:attribute"`` string that is imported only when
the thing is built, so that ``zoo list`` never pays for importing a plugin's networks.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ._errors import ZooError
from .tasks import check_tasks

__all__ = ["Architecture", "Converter", "DatasetInfo", "MetricInfo", "resolve_target"]


def resolve_target(target: str | Callable[..., Any]) -> Any:
    """Import ``"package.module:attribute"`` (or return a callable as it is)."""
    if not isinstance(target, str):
        return target
    module_name, _, attribute = target.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
        for part in attribute.split(".") if attribute else []:
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise ZooError(f"Cannot import {target!r} ({exc}); reinstall the plugin that registered it.") from exc
    return obj


@dataclass(frozen=True)
class Architecture:
    """An architecture: its name, its model class and the tasks it serves.

    ``training_step`` (optional) points lazily at the ``zoo_core.training.TrainingStep``
    subclass that makes the architecture trainable with ``zoo train``; ``None``: not trainable.

    Example:
        >>> Architecture(
        ...     "vae",
        ...     model="zoo_vae.model:VAE",
        ...     tasks=("unconditional", "latent"),
        ...     training_step="zoo_vae.training:VAETrainingStep",
        ... )
    """

    name: str
    model: str | Callable[..., Any]
    tasks: tuple[str, ...]
    description: str = ""
    paper: str = ""
    plugin: str = ""
    training_step: str | Callable[..., Any] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "tasks", check_tasks(self.tasks, f"Architecture {self.name!r}"))

    def model_class(self) -> Any:
        return resolve_target(self.model)

    def training_step_class(self) -> Any:
        """The ``TrainingStep`` subclass of this architecture (imported now), or fail in one sentence."""
        if self.training_step is None:
            raise ZooError(
                f"The architecture {self.name!r} cannot be trained with `zoo train`: its plugin "
                f"({self.plugin or 'unknown'}) registers no training step."
            )
        return resolve_target(self.training_step)


@dataclass(frozen=True)
class DatasetInfo:
    """A dataset: ``load(split=..., **options)`` returns a ``zoo_core.data.ImageDataset``."""

    name: str
    load: str | Callable[..., Any]
    description: str = ""
    splits: tuple[str, ...] = ("train", "test")
    image_size: tuple[int, int] | None = None
    channels: int | None = None
    license: str = ""
    plugin: str = ""


@dataclass(frozen=True)
class MetricInfo:
    """A metric: ``create(**options)`` returns a ``zoo_core.metrics.Metric``."""

    name: str
    create: str | Callable[..., Any]
    description: str = ""
    tasks: tuple[str, ...] = ()
    higher_is_better: bool = False
    unit: str = ""
    plugin: str = ""


@dataclass(frozen=True)
class Converter:
    """Maps a foreign checkpoint's state dict onto an architecture's own keys.

    ``convert(state_dict, config) -> state_dict``; ``source`` says whose layout it reads.
    """

    name: str
    architecture: str
    convert: str | Callable[..., Any]
    source: str = ""
    description: str = ""
    plugin: str = ""
    options: dict[str, Any] = field(default_factory=dict)
