"""Plugin discovery: entry points of the group ``zoo``, loaded one at a time.

A plugin cannot take zoo down. What goes wrong with one is reported in one line on stderr (once per
process) and in ``zoo plugins``, only the offending part is skipped, and every command's output stays
the same:

- an exception at import, ``SystemExit`` included (a ``KeyboardInterrupt`` still interrupts): the plugin
  is ``failed`` and not loaded;
- a hook implementation with a name that is no zoo hook (a misspelling): ``partly``, it is never called;
- output printed to stdout at import or in a hook: hidden (stdout carries ``zoo list --json``), ``partly``;
- a name (architecture, dataset, metric, converter, command, or a model another plugin registered) that is
  already taken: ``partly``, the first registrant keeps it (the built-ins come first; built-in commands are
  never replaced); a model name is layered user > plugin > shipped, see ``zoo_core._catalog``.

Environment switches:

- ``ZOO_DISABLE_PLUGIN_AUTOLOAD=1``: load no entry-point plugin (zoo_core's built-ins stay).
- ``ZOO_LOAD_PLUGINS=a,b``: load only these plugins (distribution or entry-point names);
  an empty value loads none; a name that matches no plugin is reported with the closest one.
- ``ZOO_RAISE_PLUGIN_ERRORS=1``: re-raise a plugin's import error instead of recording it.

The scan of the installed distributions for entry points (``importlib.metadata``, the slowest part of
starting ``zoo``) is cached in ``$ZOO_CACHE/index/entry-points.json``, keyed by the names of the distributions'
metadata folders in every ``sys.path`` folder and each plugin's ``entry_points.txt``: installing, upgrading
or removing a distribution changes them, so the next run scans again. The plugins themselves are imported on
every run (what they do wrong at import is still reported).
"""

from __future__ import annotations

import contextlib
import difflib
import importlib
import io
import json
import os
import sys
import traceback
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pluggy

from . import hookspecs

__all__ = [
    "ENTRY_POINT_GROUP",
    "PluginRecord",
    "captured_stdout",
    "describe_exception",
    "get_plugin_manager",
    "on_reset",
    "plugin_records",
    "report_problem",
    "reset_plugins",
    "warn_once",
]

ENTRY_POINT_GROUP = "zoo"
BUILTIN_PLUGINS = ("zoo_core.builtin.datasets", "zoo_core.builtin.classifiers", "zoo_core.builtin.metrics")


@dataclass
class PluginRecord:
    """What ``zoo plugins`` shows for one plugin."""

    name: str
    module: str
    version: str | None = None
    status: str = "loaded"  # loaded | partly (a part was skipped) | failed | skipped (ZOO_LOAD_PLUGINS)
    error: str | None = None  # every problem, "; "-separated
    builtin: bool = False
    hooks: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_manager: pluggy.PluginManager | None = None
_records: list[PluginRecord] = []
_reported: set[str] = set()  # stderr lines already written: each problem is said once per process
_reset_callbacks: list[Callable[[], None]] = []  # what else to forget with the plugins (the catalog)
_HOOK_NAMES = tuple(sorted(n for n in dir(hookspecs) if hasattr(getattr(hookspecs, n), f"{ENTRY_POINT_GROUP}_spec")))


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() not in ("", "0", "false", "no", "off")


def _allow_list() -> set[str] | None:
    value = os.environ.get("ZOO_LOAD_PLUGINS")
    if value is None:
        return None
    return {name.strip() for name in value.split(",") if name.strip()}


def _hook_names(pm: pluggy.PluginManager, plugin: object) -> list[str]:
    return sorted(caller.name for caller in pm.get_hookcallers(plugin) or [] if caller.has_spec())


def _warn(line: str) -> None:
    if line not in _reported:
        _reported.add(line)
        print(line, file=sys.stderr, flush=True)


def warn_once(line: str) -> None:
    """Write ``line`` to stderr unless this process already wrote it (a problem is said once, not per use)."""
    _warn(line)


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe_exception(exc: BaseException) -> str:
    """``Type: message (file.py:line)`` on one line, for a plugin's error in ``zoo plugins``."""
    try:
        message = _one_line(str(exc))
    except Exception:  # a __str__ that raises
        message = ""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" ({os.path.basename(frames[-1].filename)}:{frames[-1].lineno})" if frames else ""
    return f"{type(exc).__name__}{': ' + message if message else ''}{where}"


def report_problem(plugin_name: str, problem: str, *, failed: bool = False) -> None:
    """Record what went wrong with a plugin (``zoo plugins`` shows it) and say it once on stderr.

    ``failed``: the plugin (or one of its hooks) broke; otherwise only a part of it was skipped (``partly``).
    """
    problem = _one_line(problem)
    record = next((r for r in _records if r.name == plugin_name), None)
    if record is None:  # registered by hand (pm.register), not found as an entry point
        record = PluginRecord(plugin_name, plugin_name)
        _records.append(record)
    if problem not in record.problems:
        record.problems.append(problem)
    if failed:
        record.status = "failed"
    elif record.status == "loaded":
        record.status = "partly"
    record.error = "; ".join(record.problems)
    _warn(f"Warning: plugin {plugin_name!r}: {problem} (see `zoo plugins`).")


def mark_failed(plugin_name: str, error: str) -> None:
    """Record that a loaded plugin broke while running a hook."""
    report_problem(plugin_name, error, failed=True)


@contextlib.contextmanager
def captured_stdout(plugin_name: str, when: str) -> Iterator[None]:
    """Run a plugin's code with stdout captured: what it prints is reported, never mixed into zoo's output."""
    buffer = io.StringIO()
    try:
        with contextlib.redirect_stdout(buffer):
            yield
    finally:
        printed = buffer.getvalue()
        if printed.strip():
            report_problem(
                plugin_name,
                f"printed {_one_line(printed, 60)!r} to stdout {when}; zoo hid it (stdout carries zoo's output)",
            )


def _check_hook_names(pm: pluggy.PluginManager, plugin: object, name: str) -> None:
    for caller in pm.get_hookcallers(plugin) or []:
        if not caller.has_spec():
            close = difflib.get_close_matches(caller.name, _HOOK_NAMES, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}?" if close else f"zoo's hooks are {', '.join(_HOOK_NAMES)}"
            report_problem(name, f"implements {caller.name!r}, which is no zoo hook, so zoo never calls it; {hint}")


def _check_allow_list(allowed: set[str], known: set[str]) -> None:
    for wanted in sorted(allowed - known):
        close = difflib.get_close_matches(wanted, sorted(known), n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}?" if close else "`zoo plugins` lists the installed ones."
        _warn(f"Warning: ZOO_LOAD_PLUGINS names {wanted!r}, which is no installed plugin; {hint}")


@dataclass(frozen=True)
class _EntryPoint:
    """What the scan keeps of one entry point of the group ``zoo`` (loaded without importlib.metadata)."""

    name: str  # the entry point's name
    value: str  # "module" or "module:attribute"
    dist: str | None  # the distribution's name
    version: str | None

    def load(self) -> Any:
        module_name, _, attribute = self.value.partition(":")
        obj: Any = importlib.import_module(module_name.strip())
        for part in attribute.split("[", 1)[0].strip().split(".") if attribute.strip() else []:
            obj = getattr(obj, part)
        return obj


_SCAN_FORMAT = 1


def _stat_key(path: str | os.PathLike[str]) -> list[int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_mtime_ns, st.st_ctime_ns, st.st_size]


def _distributions_in(folder: str) -> str | None:
    """A digest of the distributions' metadata folders in one ``sys.path`` folder (``None``: no such folder).

    Installing, upgrading (a new version's folder name) or removing a distribution changes it; other files
    written in the folder (the current directory is on sys.path) do not.
    """
    import hashlib

    try:
        with os.scandir(folder or ".") as entries:
            names = sorted(e.name for e in entries if e.name.endswith((".dist-info", ".egg-info", ".egg-link")))
    except OSError:
        return None
    return hashlib.sha1("\0".join(names).encode()).hexdigest()


def _scan_key() -> list[Any]:
    """What the installed entry points depend on: the distributions in every ``sys.path`` folder."""
    return [_SCAN_FORMAT, sys.version, [[entry, _distributions_in(entry)] for entry in sys.path]]


def _scan_cache_path() -> Path:
    from .hub.cache import zoo_cache_dir

    return zoo_cache_dir() / "index" / "entry-points.json"


def _scan_entry_points() -> list[_EntryPoint]:
    """The entry points of the group ``zoo``, sorted by name: from the cache when nothing on sys.path changed."""
    key = _scan_key()
    cache = _scan_cache_path()
    try:
        cached = json.loads(cache.read_text(encoding="utf-8"))
        if cached["key"] == key and all(_stat_key(f) == stat for f, stat in cached["files"]):
            return [_EntryPoint(**ep) for ep in cached["entry_points"]]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    from importlib.metadata import entry_points

    found, files = [], []
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name):
        dist = getattr(ep, "dist", None)
        found.append(
            _EntryPoint(
                ep.name, ep.value, dist.metadata["Name"] if dist is not None else None, getattr(dist, "version", None)
            )
        )
        where = getattr(dist, "_path", None)  # a dist-info folder: its entry_points.txt can change in place
        if where is not None:
            files.append([str(Path(where) / "entry_points.txt"), _stat_key(Path(where) / "entry_points.txt")])
    with contextlib.suppress(OSError, TypeError):
        from ._atomic import atomic_write_text

        document = {"key": key, "files": files, "entry_points": [asdict(ep) for ep in found]}
        atomic_write_text(cache, json.dumps(document) + "\n")
    return found


def _load(pm: pluggy.PluginManager, records: list[PluginRecord]) -> None:
    for module_name in BUILTIN_PLUGINS:
        module = __import__(module_name, fromlist=["_"])
        pm.register(module, name=module_name)
        records.append(PluginRecord(module_name, module_name, builtin=True, hooks=_hook_names(pm, module)))

    if _truthy(os.environ.get("ZOO_DISABLE_PLUGIN_AUTOLOAD")):
        return
    allowed = _allow_list()
    raise_errors = _truthy(os.environ.get("ZOO_RAISE_PLUGIN_ERRORS"))
    seen: set[str] = set()
    known = set(BUILTIN_PLUGINS)
    for ep in _scan_entry_points():
        name = ep.dist or ep.name
        known.update((name, ep.name))
        if name in seen:  # the same distribution found twice on sys.path
            continue
        seen.add(name)
        record = PluginRecord(name, ep.value, version=ep.version)
        records.append(record)
        if allowed is not None and name not in allowed and ep.name not in allowed:
            record.status = "skipped"
            continue
        try:
            with captured_stdout(name, "at import"):
                plugin = ep.load()
        except KeyboardInterrupt:  # the user's Ctrl-C still stops zoo
            raise
        except BaseException as exc:  # SystemExit and every other error of the plugin: contained
            if raise_errors:
                raise
            report_problem(name, f"failed at import and is not loaded: {describe_exception(exc)}", failed=True)
            continue
        try:
            pm.register(plugin, name=name)
        except Exception as exc:  # a hook whose arguments differ from zoo's (PluginValidationError), ...
            if raise_errors:
                raise
            report_problem(name, f"cannot be registered and is not loaded: {describe_exception(exc)}", failed=True)
            continue
        record.hooks = _hook_names(pm, plugin)
        _check_hook_names(pm, plugin, name)
    if allowed is not None:
        _check_allow_list(allowed, known)


def get_plugin_manager() -> pluggy.PluginManager:
    """The process-wide plugin manager, with every plugin loaded (once)."""
    global _manager, _records
    if _manager is None:
        pm = pluggy.PluginManager(ENTRY_POINT_GROUP)
        pm.add_hookspecs(hookspecs)
        _records = []
        _load(pm, _records)
        _manager = pm
    return _manager


def plugin_records() -> list[PluginRecord]:
    """Every plugin found, with its status; see ``zoo plugins``."""
    get_plugin_manager()
    return _records


def on_reset(callback: Callable[[], None]) -> None:
    """Call ``callback`` whenever the plugins are forgotten (the catalog registers its own reset here, so that
    this module never imports the catalog: no import cycle)."""
    if callback not in _reset_callbacks:
        _reset_callbacks.append(callback)


def reset_plugins() -> None:
    """Forget loaded plugins, and what was built from them (tests, or after changing the environment switches)."""
    global _manager, _records
    _manager = None
    _records = []
    for callback in _reset_callbacks:
        callback()
