"""The catalog: the models of three layers of catalogs, and everything the plugins registered.

Models come in three layers, each validated by the same schema (``zoo_core/schema/registry.schema.json``):

1. **shipped**: ``registry.json`` inside zoo_core, the catalog of the models this project publishes;
2. **plugin**: what installed plugins contribute, through ``register_models`` or a ``registry.json`` file in the
   plugin's package (next to the module its entry point names);
3. **user**: the user's own catalog files, the paths of ``$ZOO_REGISTRY`` (``os.pathsep``-separated; a path that
   does not exist yet is an empty catalog, created by the first ``zoo registry add``).

Precedence is user > plugin > shipped (and, among the user's files, the first path first): a model name defined
in two places takes the higher one's entry; when the entries differ, one line on stderr (once per process, by
every command that reads the catalog, ``zoo plugins`` included) names every source and the one used. Each
``ModelInfo`` says where it comes from (``layer``, ``catalog``; ``zoo list --json``, ``zoo info``).

Within the plugin layer, and for architectures, datasets, metrics and converters, a name is kept by its first
registrant: zoo_core's built-in plugins, then the plugins the catalogs name as providers of their models
(``"plugin"``: zoo-vae provides ``vae``), then every other plugin in the order it was loaded (by entry-point
name). A plugin that registers a name already taken, or an entry that breaks the schema, loses only that name:
it is reported (stderr once, ``zoo plugins``) and every other name stays. A broken catalog file of a plugin is
skipped and reported the same way; a broken file of the user's (or the shipped one) fails the command in one
sentence that names it.

Speed: ``$ZOO_CACHE/index/catalog.json`` keeps each validated catalog file, keyed by its path, modification time and
size, and the verdict on each entry a plugin registers, keyed by its content; a warm ``zoo list`` neither parses
registry.json strictly nor imports jsonschema. Touching a file (or changing zoo_core's schema) invalidates it.
After each build, the merged models are kept for ``zoo list`` by ``zoo_core._catalog_snapshot``.
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ._catalog_snapshot import save_snapshot, watched_package_files
from ._entry_points import entry_point_files, stat_key
from ._errors import PluginError, RegistryError, UnknownNameError, ZooError
from ._model_info import ModelInfo, matching_names
from ._plugins import (
    BUILTIN_PLUGINS,
    autoloaded_plugins,
    captured_stdout,
    describe_exception,
    get_plugin_manager,
    mark_failed,
    on_reset,
    report_problem,
    said_lines,
    warn_once,
)
from ._registry import load_registry, shipped_registry_path, user_registry_paths, validate_entry
from .specs import Architecture, Converter, DatasetInfo, EvaluationProtocol, MetricInfo
from .tasks import CORE_TASKS, Task, add_plugin_task, check_plugin_task, forget_plugin_tasks

__all__ = ["Catalog", "ModelInfo", "get_catalog", "reset_catalog"]


_KINDS: dict[str, tuple[str, type]] = {
    # hook name -> (kind, registered type)
    "register_architectures": ("architecture", Architecture),
    "register_datasets": ("dataset", DatasetInfo),
    "register_metrics": ("metric", MetricInfo),
    "register_converters": ("converter", Converter),
    "register_evaluation_protocols": ("protocol", EvaluationProtocol),
}


@dataclass
class Catalog:
    models: dict[str, ModelInfo] = field(default_factory=dict)
    architectures: dict[str, Architecture] = field(default_factory=dict)
    datasets: dict[str, DatasetInfo] = field(default_factory=dict)
    metrics: dict[str, MetricInfo] = field(default_factory=dict)
    converters: dict[str, Converter] = field(default_factory=dict)
    protocols: dict[str, EvaluationProtocol] = field(default_factory=dict)
    #: the tasks the plugins registered (the core's are ``zoo_core.tasks.CORE_TASKS``)
    tasks: dict[str, Task] = field(default_factory=dict)
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
            raise self._unknown("architecture", name, list(self.architectures), "zoo architectures")
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
        return matching_names(self.models, pattern, task)


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


_CACHE_FORMAT = 1
_MAX_VERDICTS = 2000


class _CatalogCache:
    """``$ZOO_CACHE/index/catalog.json``: validated catalog files (by path + stat) and verdicts on entries (by content).

    Anything unreadable in it is ignored (the catalog is then built as if it were not there); it is written
    atomically, only when something was validated anew, and a write that fails is not an error.
    """

    def __init__(self) -> None:
        from . import __version__
        from ._index_files import index_path

        self.path = index_path("catalog.json")
        schema = Path(__file__).resolve().parent / "schema" / "registry.schema.json"
        self.salt = [_CACHE_FORMAT, __version__, stat_key(schema)]
        self.files: dict[str, Any] = {}
        self.verdicts: dict[str, str | None] = {}
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError, AttributeError):
            document = json.loads(self.path.read_text(encoding="utf-8"))
            if document["salt"] == self.salt:
                self.files, self.verdicts = dict(document["files"]), dict(document["verdicts"])
        self.dirty = False

    def models_of(self, path: Path, *, missing_ok: bool) -> dict[str, Any]:
        """The ``models`` of a catalog file, validated (raises its RegistryError)."""
        key, stat = str(path), stat_key(path)
        cached = self.files.get(key)
        if stat is not None and cached is not None and cached.get("stat") == stat:
            return cached["models"]
        models = load_registry(path, missing_ok=missing_ok)["models"]
        if stat is not None:
            self.files[key] = {"stat": stat, "models": models}
            self.dirty = True
        return models

    def validated_entry(self, name: str, entry: Any, source: str) -> dict[str, Any]:
        """``entry`` if it is valid (as ``validate_entry``), from a verdict cached for the same content."""
        try:
            digest = hashlib.sha256(json.dumps([name, entry], sort_keys=True).encode()).hexdigest()
        except (TypeError, ValueError):  # not JSON data: the schema says what is wrong
            return validate_entry(name, entry, source)
        if digest in self.verdicts:
            problem = self.verdicts[digest]
            if problem is None:
                return entry
            raise RegistryError(problem.replace("\0", source))
        try:
            validate_entry(name, entry, "\0")
        except RegistryError as exc:
            self.verdicts[digest] = str(exc)
            self.dirty = True
            raise RegistryError(str(exc).replace("\0", source)) from None
        self.verdicts[digest] = None
        self.dirty = True
        return entry

    def save(self) -> None:
        if not self.dirty:
            return
        files = {path: item for path, item in self.files.items() if stat_key(Path(path)) == item["stat"]}
        verdicts = dict(list(self.verdicts.items())[-_MAX_VERDICTS:])
        with contextlib.suppress(OSError):
            from ._atomic import atomic_write_text

            document = {"salt": self.salt, "files": files, "verdicts": verdicts}
            atomic_write_text(self.path, json.dumps(document, separators=(",", ":")) + "\n")


def _plugin_catalog_file(plugin: object) -> Path | None:
    """The ``registry.json`` in a plugin's package, beside the module its entry point names (if there is one)."""
    package = getattr(plugin, "__package__", None)
    module_file = getattr(plugin, "__file__", None)
    if not package or not module_file:  # a top-level module (site-packages is no package of the plugin's)
        return None
    path = Path(module_file).resolve().parent / "registry.json"
    return path if path.is_file() else None


@dataclass
class _Definition:
    info: ModelInfo
    entry: dict[str, Any]
    where: str  # "in FILE (ZOO_REGISTRY)", "by plugin 'x'" ...


def _report_clashes(defined: dict[str, list[_Definition]]) -> None:
    """One stderr line for each name whose entries differ between layers: every source, and the one used."""
    for name, definitions in defined.items():
        if len(definitions) < 2:
            continue
        used = definitions[-1]
        if all(d.entry == used.entry for d in definitions):
            continue  # the same entry twice (a copy of registry.json): nothing to choose
        others = ", ".join(d.where for d in reversed(definitions[:-1]))
        warn_once(
            f"Warning: the model {name!r} is defined {used.where} and {others}; zoo uses the one {used.where} "
            "(precedence: your ZOO_REGISTRY catalogs, then plugins, then the shipped registry.json)."
        )


def _build() -> Catalog:
    pm = get_plugin_manager()
    catalog = Catalog()
    cache = _CatalogCache()
    shipped_path = shipped_registry_path()
    shipped = cache.models_of(shipped_path, missing_ok=False)
    users = [(path, cache.models_of(path, missing_ok=True)) for path in user_registry_paths()]
    providers = {entry["plugin"] for models in [shipped, *(m for _, m in users)] for entry in models.values()}
    loaded = [name for name, _ in pm.list_name_plugin()]  # registration order
    rank = {
        name: (0 if name in BUILTIN_PLUGINS else 1 if name in providers else 2, index)
        for index, name in enumerate(loaded)
    }
    plugin_layer = Catalog()  # the models the plugins contribute: the first registrant keeps a name
    for name in CORE_TASKS:
        catalog.owners[("task", name)] = "zoo_core"

    def stage(kind: str, name: str, obj: Any, plugin: str) -> None:
        target = plugin_layer if kind == "model" else catalog
        keeper = target.add(kind, name, obj, plugin)
        if keeper is not None and keeper != plugin:
            report_problem(plugin, f"its {kind} {name!r} is already registered by {keeper!r}, which keeps it; skipped")
        elif keeper is not None:
            report_problem(plugin, f"registers the {kind} {name!r} twice; the first one is kept")

    for plugin_name in sorted(loaded, key=lambda name: rank[name]):
        path = _plugin_catalog_file(pm.get_plugin(plugin_name))
        if path is None:
            continue
        try:
            models = cache.models_of(path, missing_ok=False)
        except RegistryError as exc:
            report_problem(plugin_name, f"its catalog is skipped: {exc}")
            continue
        for name, entry in models.items():
            info = ModelInfo.from_entry(name, entry, plugin_name, layer="plugin", catalog=str(path))
            stage("model", name, (info, entry, f"in {path} (plugin {plugin_name!r})"), plugin_name)

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
                stage(kind, name, obj, plugin)

    def make_model(plugin: str, name: str, entry: dict[str, Any]) -> tuple[str, str, Any]:
        entry = cache.validated_entry(name, entry, f"the entry {plugin!r} registered")
        info = ModelInfo.from_entry(name, entry, plugin, layer="plugin", catalog=f"{plugin} (register_models)")
        return "model", name, (info, entry, f"by plugin {plugin!r}")

    def make_task(plugin: str, task: Any) -> tuple[str, str, Any]:
        try:
            return "task", task.name, check_plugin_task(task, plugin)
        except ZooError as exc:
            raise PluginError(str(exc)) from None

    collect("register_models", make_model)
    collect("register_tasks", make_task)  # before the architectures, whose tasks they may be
    for task in catalog.tasks.values():
        add_plugin_task(task)
    _check_tasks_of_models(shipped_path, shipped, loaded)
    for path, models in users:
        _check_tasks_of_models(path, models, loaded)
    for hook_name, (kind, expected) in _KINDS.items():

        def make(plugin: str, obj: Any, kind: str = kind, expected: type = expected) -> tuple[str, str, Any]:
            if not isinstance(obj, expected):
                raise PluginError(f"{plugin} registered {obj!r}, which is not a zoo_core.{expected.__name__}")
            return kind, obj.name, replace(obj, plugin=plugin)

        collect(hook_name, make)

    # the layers, lowest precedence first: shipped, plugins, the user's files from the last path to the first
    defined: dict[str, list[_Definition]] = {}
    for name, entry in shipped.items():
        info = ModelInfo.from_entry(name, entry, "registry.json", layer="shipped", catalog=str(shipped_path))
        defined.setdefault(name, []).append(_Definition(info, entry, f"in the shipped {shipped_path}"))
    for name, (info, entry, where) in plugin_layer.models.items():  # type: ignore[misc]
        defined.setdefault(name, []).append(_Definition(info, entry, where))
    for path, models in reversed(users):
        for name, entry in models.items():
            info = ModelInfo.from_entry(name, entry, str(path), layer="user", catalog=str(path))
            defined.setdefault(name, []).append(_Definition(info, entry, f"in {path} (ZOO_REGISTRY)"))
    for name, definitions in defined.items():
        catalog.models[name] = definitions[-1].info
        catalog.owners[("model", name)] = definitions[-1].info.registered_by
    _report_clashes(defined)
    cache.save()
    if set(loaded) <= autoloaded_plugins():  # a plugin registered by hand is in no file the snapshot watches
        plugin_files = [
            getattr(pm.get_plugin(name), "__file__", None) for name in loaded if name not in BUILTIN_PLUGINS
        ]
        watched = [str(shipped_path), *map(str, user_registry_paths()), *entry_point_files()]
        watched += [path for file in plugin_files if file for path in watched_package_files(file)]
        save_snapshot(catalog.models, said_lines(), watched)
    return catalog


def _check_tasks_of_models(path: Path, models: dict[str, Any], loaded: list[str]) -> None:
    """Fail naming the first task of a catalog's model that neither zoo_core nor the loaded plugins declare.

    The schema takes any well-formed task name (plugins declare tasks of their own); a model whose providing
    plugin is not loaded is not checked, since it cannot be used anyway.
    """
    from .tasks import TASKS

    for name, entry in models.items():
        if entry.get("plugin") not in loaded and entry.get("plugin") != "zoo-core":
            continue
        for index, task in enumerate(entry.get("tasks", ())):
            if not dict.__contains__(TASKS, task):
                raise RegistryError(
                    f'{path} is invalid at $.models["{name}"].tasks[{index}]: {task!r} is a task of neither zoo_core '
                    "nor an installed plugin (`zoo tasks` lists them). Fix that field and try again."
                )


_catalog: Catalog | None = None


def get_catalog() -> Catalog:
    """The process-wide catalog, built on first use."""
    global _catalog
    if _catalog is None:
        from .tasks import _TaskTable

        _TaskTable.building = True
        try:
            _catalog = _build()
        finally:
            _TaskTable.building = False
    return _catalog


def reset_catalog() -> None:
    """Forget the catalog (it is built again on next use); also done by ``zoo_core._plugins.reset_plugins``."""
    global _catalog
    _catalog = None
    forget_plugin_tasks()


on_reset(reset_catalog)
