"""The catalog: registry.json plus everything the plugins registered, checked for clashes."""

from __future__ import annotations

import difflib
import fnmatch
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from ._errors import PluginError, UnknownNameError, ZooError
from ._plugins import get_plugin_manager, mark_failed
from ._registry import load_registry, validate_entry
from .specs import Architecture, Converter, DatasetInfo, MetricInfo

__all__ = ["Catalog", "ModelInfo", "get_catalog", "reset_catalog"]


@dataclass(frozen=True)
class ModelInfo:
    """One pretrained model of the catalog (a registry entry with its name).

    Example:
        >>> import zoo_core as zoo
        >>> zoo.info("vae.mnist").weights["repo_id"]
        'zoo/vae-mnist'
    """

    name: str
    architecture: str
    plugin: str
    tasks: tuple[str, ...]
    source: str
    config: dict[str, Any]
    weights: dict[str, Any]
    dataset: dict[str, Any]
    metrics: list[dict[str, Any]]
    paper: dict[str, Any]
    license: str
    made_by: dict[str, Any]
    description: str = ""
    num_params: int | None = None
    tags: tuple[str, ...] = ()
    registered_by: str = "registry.json"

    @classmethod
    def from_entry(cls, name: str, entry: dict[str, Any], registered_by: str) -> ModelInfo:
        fields = dict(entry)
        fields["tasks"] = tuple(fields["tasks"])
        fields["tags"] = tuple(fields.get("tags", ()))
        return cls(name=name, registered_by=registered_by, **fields)

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out["tasks"], out["tags"] = list(self.tasks), list(self.tags)
        return out


_KINDS: dict[str, tuple[str, type]] = {
    # hook name -> (kind, registered type)
    "register_architectures": ("architecture", Architecture),
    "register_datasets": ("dataset", DatasetInfo),
    "register_metrics": ("metric", MetricInfo),
    "register_converters": ("converter", Converter),
}


@dataclass
class Catalog:
    models: dict[str, ModelInfo] = field(default_factory=dict)
    architectures: dict[str, Architecture] = field(default_factory=dict)
    datasets: dict[str, DatasetInfo] = field(default_factory=dict)
    metrics: dict[str, MetricInfo] = field(default_factory=dict)
    converters: dict[str, Converter] = field(default_factory=dict)
    owners: dict[tuple[str, str], str] = field(default_factory=dict)

    def add(self, kind: str, name: str, obj: Any, owner: str) -> None:
        first = self.owners.get((kind, name))
        if first is not None:
            raise PluginError(
                f"The {kind} name {name!r} is registered twice, by {first!r} and by {owner!r}; "
                "uninstall one of them or pick plugins with ZOO_LOAD_PLUGINS."
            )
        self.owners[(kind, name)] = owner
        table = self.models if kind == "model" else getattr(self, kind + "s")
        table[name] = obj

    # -- names ---------------------------------------------------------------------------
    def _unknown(self, kind: str, name: str, known: list[str], hint: str) -> UnknownNameError:
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
        suggestion = f"did you mean {', '.join(close)}? " if close else ""
        return UnknownNameError(f"Unknown {kind} {name!r}: {suggestion}Run `{hint}` to see them all.")

    def resolve_model(self, name: str) -> ModelInfo:
        """Exact ``arch.tag`` names, or an architecture alone for its default tag.

        The default is the first name in sorted order among the models zoo trained, else among
        the upstream ones: ``zoo.load("cyclegan")`` should not start a download from the authors'
        server when a model of ours exists.
        """
        if name in self.models:
            return self.models[name]
        candidates = sorted(
            (model for model in self.models.values() if model.architecture == name),
            key=lambda model: (model.source != "zoo", model.name),
        )
        if candidates:
            return candidates[0]
        raise self._unknown("model", name, list(self.models), "zoo list")

    def architecture(self, name: str) -> Architecture:
        if name not in self.architectures:
            raise self._unknown("architecture", name, list(self.architectures), "zoo list --architectures")
        return self.architectures[name]

    def dataset(self, name: str) -> DatasetInfo:
        if name not in self.datasets:
            raise self._unknown("dataset", name, list(self.datasets), "zoo datasets")
        return self.datasets[name]

    def metric(self, name: str) -> MetricInfo:
        if name not in self.metrics:
            raise self._unknown("metric", name, list(self.metrics), "zoo metrics")
        return self.metrics[name]

    def list_models(self, pattern: str | None = None, task: str | None = None) -> list[str]:
        names = sorted(self.models)
        if pattern:
            names = [
                n
                for n in names
                if fnmatch.fnmatchcase(n, pattern if any(c in pattern for c in "*?[") else f"*{pattern}*")
            ]
        if task:
            names = [n for n in names if task in self.models[n].tasks]
        return names


def _stage_into(staged: list, make: Callable[..., tuple[str, str, Any]], plugin: str) -> Callable[..., None]:
    """The ``register`` callable a plugin's hook receives: it stages what the plugin registers."""

    def register(*args: Any, **kwargs: Any) -> None:
        staged.append(make(plugin, *args, **kwargs))

    return register


def _build() -> Catalog:
    pm = get_plugin_manager()
    catalog = Catalog()
    for name, entry in load_registry()["models"].items():
        catalog.add("model", name, ModelInfo.from_entry(name, entry, "registry.json"), "registry.json")

    def collect(hook_name: str, make: Callable[..., tuple[str, str, Any]]) -> None:
        for impl in getattr(pm.hook, hook_name).get_hookimpls():
            plugin = impl.plugin_name
            staged: list[tuple[str, str, Any]] = []
            register = _stage_into(staged, make, plugin)
            try:
                impl.function(**{arg: register for arg in impl.argnames})
            except ZooError as exc:
                mark_failed(plugin, f"{hook_name}: {exc}")
                continue
            except Exception as exc:
                last = traceback.extract_tb(exc.__traceback__)[-1]
                mark_failed(plugin, f"{hook_name}: {type(exc).__name__}: {exc} (line {last.lineno})")
                continue
            for kind, name, obj in staged:
                catalog.add(kind, name, obj, plugin)

    def make_model(plugin: str, name: str, entry: dict[str, Any]) -> tuple[str, str, Any]:
        entry = validate_entry(name, entry, f"the entry {plugin!r} registered")
        return "model", name, ModelInfo.from_entry(name, entry, plugin)

    collect("register_models", make_model)
    for hook_name, (kind, expected) in _KINDS.items():

        def make(plugin: str, obj: Any, kind: str = kind, expected: type = expected) -> tuple[str, str, Any]:
            if not isinstance(obj, expected):
                raise PluginError(f"{plugin} registered {obj!r}, which is not a zoo_core.{expected.__name__}")
            return kind, obj.name, replace(obj, plugin=plugin)

        collect(hook_name, make)
    return catalog


_catalog: Catalog | None = None


def get_catalog() -> Catalog:
    """The process-wide catalog, built on first use."""
    global _catalog
    if _catalog is None:
        _catalog = _build()
    return _catalog


def reset_catalog() -> None:
    global _catalog
    _catalog = None
