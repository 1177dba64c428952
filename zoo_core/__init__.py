"""zoo: a plugin-based model zoo and registry for the classic generative models.

Example:
    >>> import zoo_core as zoo
    >>> zoo.list_models("vae*")
    ['vae.mnist']
    >>> model = zoo.load("vae.mnist")
    >>> images = model.sample(64, seed=0)

Importing zoo_core is cheap: its names are imported on first use (torch only when a model is built).

The public API is ``__all__``: models (``load``, ``create``, ``list_models``, ``info``, ``evaluate``,
``train``, ``convert_checkpoint``), what plugins subclass or register (``ZooModel``, ``ModelConfig``,
``Architecture``, ``Task``, ``DatasetInfo``, ``MetricInfo``, ``Converter``, ``hookimpl`` ...), and ``ZooError``,
the one exception type users and plugins see, with its subclasses. Everything else (``zoo_core.hub``,
``zoo_core.checkpoints``, ``zoo_core.layers`` ...) is reached by its module path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._errors import (
    ChecksumMismatchError,
    HubUnavailableError,
    PluginError,
    RegistryError,
    UnknownNameError,
    ZooError,
)

if TYPE_CHECKING:
    from ._factory import convert_checkpoint, create, load
    from ._model_info import ModelInfo
    from .evaluation import evaluate
    from .hookspecs import hookimpl
    from .modeling import ModelConfig, ZooModel
    from .specs import Architecture, Converter, DatasetInfo, EvaluationProtocol, MetricInfo
    from .tasks import Task
    from .training import train

__version__ = "0.1.0"

__all__ = [
    "Architecture",
    "ChecksumMismatchError",
    "Converter",
    "DatasetInfo",
    "EvaluationProtocol",
    "HubUnavailableError",
    "MetricInfo",
    "ModelConfig",
    "ModelInfo",
    "PluginError",
    "RegistryError",
    "Task",
    "UnknownNameError",
    "ZooError",
    "ZooModel",
    "__version__",
    "convert_checkpoint",
    "create",
    "evaluate",
    "hookimpl",
    "info",
    "list_models",
    "load",
    "train",
]


def list_models(pattern: str | None = None, task: str | None = None) -> list[str]:
    """Names of the pretrained models, sorted; ``pattern`` is a glob or a substring.

    Example:
        >>> zoo.list_models(task="unconditional")
        ['vae.mnist']
    """
    from ._catalog import get_catalog

    return get_catalog().list_models(pattern, task)


def info(name: str) -> ModelInfo:
    """The registry entry of a model (no download, no torch).

    Example:
        >>> zoo.info("vae.mnist").metrics[0]["name"]
        'elbo'
    """
    from ._catalog import get_catalog

    return get_catalog().resolve_model(name)


_LAZY = {  # imported on first use: `zoo list` needs none of them (pluggy, the specs' dataclasses, torch)
    "hookimpl": (".hookspecs", "hookimpl"),
    "Architecture": (".specs", "Architecture"),
    "Converter": (".specs", "Converter"),
    "DatasetInfo": (".specs", "DatasetInfo"),
    "EvaluationProtocol": (".specs", "EvaluationProtocol"),
    "MetricInfo": (".specs", "MetricInfo"),
    "Task": (".tasks", "Task"),
    "load": ("._factory", "load"),
    "create": ("._factory", "create"),
    "convert_checkpoint": ("._factory", "convert_checkpoint"),
    "train": (".training", "train"),
    "evaluate": (".evaluation", "evaluate"),
    "ZooModel": (".modeling", "ZooModel"),
    "ModelConfig": (".modeling", "ModelConfig"),
    "ModelInfo": ("._model_info", "ModelInfo"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attribute = _LAZY[name]
        return getattr(importlib.import_module(module, __name__), attribute)
    raise AttributeError(f"module 'zoo_core' has no attribute {name!r}")
