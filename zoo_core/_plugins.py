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

The entry points come from ``zoo_core._entry_points`` (a cached scan). The plugins themselves are imported
whenever a command needs them (what they do wrong at import is reported then); ``zoo list`` reads the snapshot
of the merged catalog (``zoo_core._catalog_snapshot``), which replays these reports, while nothing it was built
from has changed.
"""

from __future__ import annotations

import contextlib
import difflib
import io
import os
import sys
import traceback
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import pluggy

from . import hookspecs
from ._entry_points import ENTRY_POINT_GROUP, scan_entry_points

__all__ = [
    "ENTRY_POINT_GROUP",
    "PluginRecord",
    "autoloaded_plugins",
    "captured_stdout",
    "describe_exception",
    "get_plugin_manager",
    "on_reset",
    "plugin_records",
    "report_problem",
    "reset_plugins",
    "said_lines",
    "warn_once",
]

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
_said: list[str] = []  # the same lines, in order
_autoloaded: set[str] = set()  # plugins registered by _load (built-ins and entry points), not by hand
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
        _said.append(line)
        print(line, file=sys.stderr, flush=True)


def said_lines() -> list[str]:
    """Every warning this process wrote about plugins and catalogs, in order (kept with the catalog snapshot)."""
    return list(_said)


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


def _load(pm: pluggy.PluginManager, records: list[PluginRecord]) -> None:
    for module_name in BUILTIN_PLUGINS:
        module = __import__(module_name, fromlist=["_"])
        pm.register(module, name=module_name)
        _autoloaded.add(module_name)
        records.append(PluginRecord(module_name, module_name, builtin=True, hooks=_hook_names(pm, module)))

    if _truthy(os.environ.get("ZOO_DISABLE_PLUGIN_AUTOLOAD")):
        return
    allowed = _allow_list()
    raise_errors = _truthy(os.environ.get("ZOO_RAISE_PLUGIN_ERRORS"))
    seen: set[str] = set()
    known = set(BUILTIN_PLUGINS)
    for ep in scan_entry_points():
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
        _autoloaded.add(name)
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


def autoloaded_plugins() -> set[str]:
    """The names of the plugins zoo loaded itself (built-ins and entry points), not registered by hand."""
    return set(_autoloaded)


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
    _autoloaded.clear()
    for callback in _reset_callbacks:
        callback()
