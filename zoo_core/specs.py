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
from .tasks import TASKS, check_contract, check_tasks

__all__ = ["Architecture", "Converter", "DatasetInfo", "EvaluationProtocol", "MetricInfo", "resolve_target"]


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

    ``test_config`` is a tiny model config (JSON values) the conformance kit (``zoo_core.testing``,
    ``zoo plugin check``) builds so that it runs in seconds; ``test_data`` says where the kit's
    training batch comes from: ``{"dataset": NAME, "options": {...}, "train_config": {...},
    "batch_size": 4}`` (no ``dataset``: random data of the shape the training step asks for), and
    ``"input_shape": [C, H, W]`` the images its verbs are given when neither the task's contract
    (``input_channels``) nor the config (``channels``, ``image_size``) says.

    Example:
        >>> Architecture(
        ...     "vae",
        ...     model="zoo_vae.model:VAE",
        ...     tasks=("unconditional", "latent"),
        ...     training_step="zoo_vae.training:VAETrainingStep",
        ...     test_config={"latent_dim": 2, "hidden_dim": 16},
        ... )
    """

    name: str
    model: str | Callable[..., Any]
    tasks: tuple[str, ...]
    description: str = ""
    paper: str = ""
    plugin: str = ""
    training_step: str | Callable[..., Any] | None = None
    test_config: dict[str, Any] = field(default_factory=dict, compare=False)
    test_data: dict[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "tasks", check_tasks(self.tasks, f"Architecture {self.name!r}"))

    def model_class(self) -> Any:
        """The model class (imported now), checked against the contracts of ``tasks``, or one sentence.

        Every declared task must be one the class serves (it mixes in the task's base class from
        ``zoo_core.modeling``) with each verb and attribute of the task's contract (``zoo_core.tasks``).
        """
        cls = resolve_target(self.model)
        if isinstance(cls, type):
            owner = f"The architecture {self.name!r}" + (f" (plugin {self.plugin})" if self.plugin else "")
            served = getattr(cls, "task_names", None)
            missing = [t for t in self.tasks if callable(served) and t not in served()]
            if missing:
                raise ZooError(
                    f"{owner} declares the task {missing[0]!r} but its model class {cls.__qualname__} does not serve "
                    f"it; mix in {TASKS[missing[0]].base_path}."
                )
            check_contract(cls, self.tasks, owner)
        return cls

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
class EvaluationProtocol:
    """How models of one task feed metrics: what ``zoo eval`` and the end of ``zoo train`` run.

    ``feed(model, data, metrics, run) -> int`` streams the model's outputs and the dataset's
    items into ``metrics`` (a dict name -> ``zoo_core.metrics.Metric``) and returns how many
    items or samples it evaluated; ``run`` is a ``zoo_core.evaluation.EvaluationRun`` (``n``,
    ``seed``, ``batch_size``, ``progress``, ``metric_options``). A metric is fed by a protocol
    of one of the model's tasks (``tasks``) whose ``provides`` holds every one of the metric's
    ``inputs`` and that serves the metric: the names in ``metrics`` when it lists them, else
    any metric declared for one of its tasks. ``datasets`` restricts a protocol to those data sets
    (preferred over a general one there); ``seeded``: its result depends on the seed.

    Example:
        >>> EvaluationProtocol("round-trip", tasks=("image-to-image",), provides=("image", "reconstruction"),
        ...                    feed="zoo_cyclegan.evaluation:feed_round_trips", metrics=("cycle-l1",))
    """

    name: str
    tasks: tuple[str, ...]
    provides: tuple[str, ...]
    feed: str | Callable[..., Any]
    description: str = ""
    metrics: tuple[str, ...] = ()
    datasets: tuple[str, ...] = ()
    seeded: bool = False
    plugin: str = ""


@dataclass(frozen=True)
class Converter:
    """Maps a foreign checkpoint's state dict onto an architecture's own keys.

    ``convert(state_dict, config) -> state_dict``; ``source`` says whose layout it reads. ``options``:
    ``"config"``, the default config of the converted model; ``"read"``, a ``"module:function"`` that reads
    the file instead of ``torch.load(weights_only=True)`` (it must run no code from the file).
    """

    name: str
    architecture: str
    convert: str | Callable[..., Any]
    source: str = ""
    description: str = ""
    plugin: str = ""
    options: dict[str, Any] = field(default_factory=dict)
