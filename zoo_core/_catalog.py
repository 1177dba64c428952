"""The catalog: registry.json plus everything the plugins registered, checked for clashes.

A name is kept by its first registrant: registry.json's models first, then zoo_core's built-in plugins,
then the plugins registry.json names as providers of its models (``"plugin"``: zoo-vae provides ``vae``),
then every other plugin in the order it was loaded (by entry-point name). A plugin
that registers a name already taken, or an entry that breaks the schema, loses only that name: it is
reported (stderr once, ``zoo plugins``) and every other name stays.
"""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from ._errors import PluginError, RegistryError, UnknownNameError
from ._plugins import (
    BUILTIN_PLUGINS,
    captured_stdout,
    describe_exception,
    get_plugin_manager,
    mark_failed,
    report_problem,
)
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

    def add(self, kind: str, name: str, obj: Any, owner: str) -> str | None:
        """Add ``name`` unless it is taken; return the owner that keeps it when it is (``None`` when added)."""
        first = self.owners.get((kind, name))
        if first is not None:
            return first
        self.owners[(kind, name)] = owner
        table = self.models if kind == "model" else getattr(self, kind + "s")
        table[name] = obj
        return None

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


def _stage_into(staged: list, make: Callable[..., tuple[str, str, Any]], plugin: str, hook: str) -> Callable[..., None]:
    """The ``register`` callable a plugin's hook receives: it stages what the plugin registers.

    A registration that is not valid (an entry against the schema, an object of the wrong type) is
    reported and skipped on its own; the plugin's other registrations stay.
    """

    def register(*args: Any, **kwargs: Any) -> None:
        try:
            staged.append(make(plugin, *args, **kwargs))
        except Exception as exc:
            what = str(exc) if isinstance(exc, PluginError | RegistryError) else describe_exception(exc)
            report_problem(plugin, f"{hook}: {what}; that registration is skipped")

    return register


def _build() -> Catalog:
    pm = get_plugin_manager()
    catalog = Catalog()
    models = load_registry()["models"]
    for name, entry in models.items():
        catalog.add("model", name, ModelInfo.from_entry(name, entry, "registry.json"), "registry.json")
    providers = {entry["plugin"] for entry in models.values()}
    loaded = [name for name, _ in pm.list_name_plugin()]  # registration order
    rank = {
        name: (0 if name in BUILTIN_PLUGINS else 1 if name in providers else 2, index)
        for index, name in enumerate(loaded)
    }

    def collect(hook_name: str, make: Callable[..., tuple[str, str, Any]]) -> None:
        impls = getattr(pm.hook, hook_name).get_hookimpls()  # sorted: tryfirst / trylast do not change who wins
        for impl in sorted(impls, key=lambda impl: rank.get(impl.plugin_name, (3, 0))):
            plugin = impl.plugin_name
            staged: list[tuple[str, str, Any]] = []
            register = _stage_into(staged, make, plugin, hook_name)
            try:
                with captured_stdout(plugin, f"in {hook_name}"):
                    impl.function(**{arg: register for arg in impl.argnames})
            except KeyboardInterrupt:
                raise
            except BaseException as exc:  # SystemExit too: a plugin's hook never ends zoo
                mark_failed(plugin, f"{hook_name} failed, nothing it registered is used: {describe_exception(exc)}")
                continue
            for kind, name, obj in staged:
                keeper = catalog.add(kind, name, obj, plugin)
                if keeper is not None and keeper != plugin:
                    report_problem(
                        plugin, f"its {kind} {name!r} is already registered by {keeper!r}, which keeps it; skipped"
                    )
                elif keeper is not None:
                    report_problem(plugin, f"registers the {kind} {name!r} twice; the first one is kept")

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
