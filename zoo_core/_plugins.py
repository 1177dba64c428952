"""Plugin discovery: entry points of the group ``zoo``, loaded one at a time.

A plugin that fails to import is recorded (``zoo plugins`` shows it) and every other plugin
keeps working. Environment switches:

- ``ZOO_DISABLE_PLUGIN_AUTOLOAD=1``: load no entry-point plugin (zoo_core's built-ins stay).
- ``ZOO_LOAD_PLUGINS=a,b``: load only these plugins (distribution or entry-point names);
  an empty value loads none.
- ``ZOO_RAISE_PLUGIN_ERRORS=1``: re-raise a plugin's import error instead of recording it.
"""

from __future__ import annotations

import os
import traceback
from dataclasses import asdict, dataclass, field
from importlib.metadata import entry_points
from typing import Any

import pluggy

from . import hookspecs

__all__ = ["ENTRY_POINT_GROUP", "PluginRecord", "get_plugin_manager", "plugin_records", "reset_plugins"]

ENTRY_POINT_GROUP = "zoo"
BUILTIN_PLUGINS = ("zoo_core.builtin.datasets", "zoo_core.builtin.classifiers", "zoo_core.builtin.metrics")


@dataclass
class PluginRecord:
    """What ``zoo plugins`` shows for one plugin."""

    name: str
    module: str
    version: str | None = None
    status: str = "loaded"  # loaded | failed | skipped
    error: str | None = None
    builtin: bool = False
    hooks: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_manager: pluggy.PluginManager | None = None
_records: list[PluginRecord] = []


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() not in ("", "0", "false", "no", "off")


def _allow_list() -> set[str] | None:
    value = os.environ.get("ZOO_LOAD_PLUGINS")
    if value is None:
        return None
    return {name.strip() for name in value.split(",") if name.strip()}


def _hook_names(pm: pluggy.PluginManager, plugin: object) -> list[str]:
    return sorted(caller.name for caller in pm.get_hookcallers(plugin) or [])


def _load(pm: pluggy.PluginManager) -> list[PluginRecord]:
    records: list[PluginRecord] = []
    for module_name in BUILTIN_PLUGINS:
        module = __import__(module_name, fromlist=["_"])
        pm.register(module, name=module_name)
        records.append(PluginRecord(module_name, module_name, builtin=True, hooks=_hook_names(pm, module)))

    if _truthy(os.environ.get("ZOO_DISABLE_PLUGIN_AUTOLOAD")):
        return records
    allowed = _allow_list()
    raise_errors = _truthy(os.environ.get("ZOO_RAISE_PLUGIN_ERRORS"))
    seen: set[str] = set()
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name):
        dist = getattr(ep, "dist", None)
        name = dist.metadata["Name"] if dist is not None else ep.name
        if name in seen:  # the same distribution found twice on sys.path
            continue
        seen.add(name)
        record = PluginRecord(name, ep.value, version=dist.version if dist is not None else None)
        records.append(record)
        if allowed is not None and name not in allowed and ep.name not in allowed:
            record.status = "skipped"
            continue
        try:
            plugin = ep.load()
            pm.register(plugin, name=name)
        except Exception as exc:
            if raise_errors:
                raise
            record.status = "failed"
            last = traceback.extract_tb(exc.__traceback__)[-1]
            record.error = f"{type(exc).__name__}: {exc} ({os.path.basename(last.filename)}:{last.lineno})"
            continue
        record.hooks = _hook_names(pm, plugin)
    return records


def get_plugin_manager() -> pluggy.PluginManager:
    """The process-wide plugin manager, with every plugin loaded (once)."""
    global _manager, _records
    if _manager is None:
        pm = pluggy.PluginManager(ENTRY_POINT_GROUP)
        pm.add_hookspecs(hookspecs)
        _records = _load(pm)
        _manager = pm
    return _manager


def plugin_records() -> list[PluginRecord]:
    """Every plugin found, with its status; see ``zoo plugins``."""
    get_plugin_manager()
    return _records


def mark_failed(plugin_name: str, error: str) -> None:
    """Record that a loaded plugin broke while running a hook."""
    for record in _records:
        if record.name == plugin_name:
            record.status = "failed"
            record.error = error


def reset_plugins() -> None:
    """Forget loaded plugins (tests, or after changing the environment switches)."""
    global _manager, _records
    _manager = None
    _records = []
    from . import _catalog

    _catalog.reset_catalog()
