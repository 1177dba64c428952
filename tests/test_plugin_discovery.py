"""Plugin discovery: broken plugins are contained, the switches work, clashes name both plugins.

Fake plugins are installed the way pip would leave them: a module plus a ``*.dist-info`` folder
(METADATA and entry_points.txt) in a folder put on PYTHONPATH of a `zoo` subprocess.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import zoo_core
from conftest import run_zoo, write_dist_info, zoo_env
from zoo_core import Architecture
from zoo_core._catalog import get_catalog, reset_catalog
from zoo_core._plugins import get_plugin_manager, plugin_records

BROKEN_AT_IMPORT = 'raise RuntimeError("boom")\n'
BROKEN_HOOK = """\
from zoo_core import hookimpl


@hookimpl
def register_architectures(register):
    raise RuntimeError("hook boom")
"""


# -- helpers ---------------------------------------------------------------------------------
def install_fake_plugin(site: Path, dist_name: str, module: str, source: str, entry_point: str) -> Path:
    """Write ``module.py`` and its ``dist-info`` (entry point in group ``zoo``) into ``site``."""
    site.mkdir(parents=True, exist_ok=True)
    (site / f"{module}.py").write_text(source)
    write_dist_info(site, dist_name, {entry_point: module})
    return site


def env_with(site: Path | None, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = zoo_env(tmp_path / "hf-home", **extra)
    if site is not None:
        env["PYTHONPATH"] = str(site)
    return env


def plugins_json(env: dict[str, str]) -> dict[str, dict[str, Any]]:
    """`zoo plugins --json`, by plugin name."""
    result = run_zoo("plugins", "--json", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    return {record["name"]: record for record in json.loads(result.stdout)}


def assert_lists_vae_mnist(env: dict[str, str]) -> None:
    result = run_zoo("list", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "vae.mnist" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


@pytest.fixture
def broken_site(tmp_path: Path) -> Path:
    """A site folder holding broken-zoo-plugin, whose module raises at import."""
    return install_fake_plugin(tmp_path / "site", "broken-zoo-plugin", "broken_zoo_plugin", BROKEN_AT_IMPORT, "broken")


# -- 11: a broken plugin does not break zoo --------------------------------------------------
def test_plugin_failing_at_import_is_reported_and_contained(broken_site: Path, tmp_path: Path) -> None:
    """A plugin that raises at import shows as failed with its error; zoo-vae and `zoo list` still work."""
    env = env_with(broken_site, tmp_path)
    assert_lists_vae_mnist(env)
    records = plugins_json(env)
    assert records["broken-zoo-plugin"]["status"] == "failed"
    assert "boom" in records["broken-zoo-plugin"]["error"]
    assert records["broken-zoo-plugin"]["version"] == "0.1"
    assert records["zoo-vae"]["status"] == "loaded"
    assert "register_architectures" in records["zoo-vae"]["hooks"]


def test_plugin_whose_hook_raises_is_marked_failed_once_the_catalog_is_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plugin that imports fine but whose hook raises is marked failed; the other plugins' names stay."""
    site = install_fake_plugin(tmp_path / "site", "hookfail-zoo-plugin", "hookfail_zoo_plugin", BROKEN_HOOK, "hf")
    assert_lists_vae_mnist(env_with(site, tmp_path))

    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delitem(sys.modules, "hookfail_zoo_plugin", raising=False)
    catalog = get_catalog()
    assert "vae" in catalog.architectures
    records = {r.name: r for r in plugin_records()}
    assert records["hookfail-zoo-plugin"].status == "failed"
    assert "register_architectures" in records["hookfail-zoo-plugin"].error
    assert "hook boom" in records["hookfail-zoo-plugin"].error
    assert records["zoo-vae"].status == "loaded"


def test_zoo_plugins_reports_a_plugin_whose_hook_raises(tmp_path: Path) -> None:
    """`zoo plugins --json` shows a plugin whose register hook raises as failed, with the error."""
    site = install_fake_plugin(tmp_path / "site", "hookfail-zoo-plugin", "hookfail_zoo_plugin", BROKEN_HOOK, "hf")
    records = plugins_json(env_with(site, tmp_path))
    assert records["zoo-vae"]["status"] == "loaded"
    assert records["hookfail-zoo-plugin"]["status"] == "failed"
    assert "hook boom" in records["hookfail-zoo-plugin"]["error"]


# -- 12: ZOO_LOAD_PLUGINS and ZOO_DISABLE_PLUGIN_AUTOLOAD ------------------------------------
def test_allow_list_skips_plugins_not_named(broken_site: Path, tmp_path: Path) -> None:
    """ZOO_LOAD_PLUGINS=zoo-vae loads zoo-vae only: the broken plugin is skipped, not even imported."""
    env = env_with(broken_site, tmp_path, ZOO_LOAD_PLUGINS="zoo-vae")
    records = plugins_json(env)
    assert records["broken-zoo-plugin"]["status"] == "skipped"
    assert records["broken-zoo-plugin"]["error"] is None
    assert records["zoo-vae"]["status"] == "loaded"
    assert_lists_vae_mnist(env)


def test_empty_allow_list_loads_no_entry_point_plugin(broken_site: Path, tmp_path: Path) -> None:
    """ZOO_LOAD_PLUGINS="" skips every entry-point plugin; the built-ins stay loaded."""
    records = plugins_json(env_with(broken_site, tmp_path, ZOO_LOAD_PLUGINS=""))
    entry_point_plugins = {name: r["status"] for name, r in records.items() if not r["builtin"]}
    assert {"zoo-vae", "broken-zoo-plugin"} <= set(entry_point_plugins)
    assert set(entry_point_plugins.values()) == {"skipped"}
    assert all(r["status"] == "loaded" for r in records.values() if r["builtin"])


@pytest.mark.slow
def test_autoload_off_keeps_builtins_and_load_explains_the_missing_plugin(broken_site: Path, tmp_path: Path) -> None:
    """ZOO_DISABLE_PLUGIN_AUTOLOAD=1: only built-ins; `zoo load vae.mnist` says which plugin to install."""
    env = env_with(broken_site, tmp_path, ZOO_DISABLE_PLUGIN_AUTOLOAD="1")
    records = plugins_json(env)
    assert records and all(r["builtin"] for r in records.values())
    assert "zoo_core.builtin.datasets" in records

    result = run_zoo("load", "vae.mnist", env=env)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), output
    assert "'vae'" in lines[0]
    assert "pip install zoo-vae" in lines[0]


# -- 13: two plugins registering one name: the first keeps it ----------------------------------------------------
class _DuplicateArchitecture:
    @zoo_core.hookimpl
    def register_architectures(self, register: Any) -> None:
        register(Architecture(name="vae", model="zoo_vae.model:VAE", tasks=("unconditional", "latent")))


class _ExtraModel:
    @zoo_core.hookimpl
    def register_models(self, register: Any) -> None:
        entry = json.loads(Path(zoo_core.__file__).with_name("registry.json").read_text())["models"]["vae.mnist"]
        register("vae.extra", entry)


def test_a_second_plugin_registering_an_architecture_name_loses_only_that_name() -> None:
    """An architecture name registered by zoo-vae and by another plugin: zoo-vae keeps it, the other is told."""
    pm = get_plugin_manager()
    pm.register(_DuplicateArchitecture(), name="dup-plugin")
    try:
        reset_catalog()
        catalog = get_catalog()
        assert catalog.architectures["vae"].plugin == "zoo-vae"
        record = {r.name: r for r in plugin_records()}["dup-plugin"]
        assert record.status == "partly"
        assert "'vae'" in record.error and "'zoo-vae'" in record.error
    finally:
        pm.unregister(name="dup-plugin")
        reset_catalog()
    assert get_catalog().architectures["vae"].plugin == "zoo-vae"


def test_two_plugins_registering_one_model_name_the_first_keeps_it() -> None:
    """A model name registered by two plugins: the first one loaded keeps it; the second is named, not fatal."""
    pm = get_plugin_manager()
    pm.register(_ExtraModel(), name="extra-a")
    pm.register(_ExtraModel(), name="extra-b")
    try:
        reset_catalog()
        assert get_catalog().models["vae.extra"].registered_by == "extra-a"
        records = {r.name: r for r in plugin_records()}
        assert records["extra-b"].status == "partly"
        assert "'vae.extra'" in records["extra-b"].error and "'extra-a'" in records["extra-b"].error
        assert "extra-a" not in {r.name for r in plugin_records() if r.status != "loaded"}
    finally:
        pm.unregister(name="extra-a")
        pm.unregister(name="extra-b")
        reset_catalog()


# -- 14: commands that must not import torch -------------------------------------------------
_NO_TORCH = """\
import json, sys
from zoo_core.cli import main

try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
print(json.dumps({"exit": code, "torch": "torch" in sys.modules}))
"""


@pytest.mark.parametrize("args", [["list"], ["info", "vae.mnist"], ["plugins"]], ids=" ".join)
def test_light_commands_do_not_import_torch(tmp_path: Path, args: list[str]) -> None:
    """`zoo list`, `zoo info` and `zoo plugins` succeed without importing torch (they stay fast)."""
    result = subprocess.run(
        [sys.executable, "-c", _NO_TORCH, *args],
        env=zoo_env(tmp_path / "hf-home"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report == {"exit": 0, "torch": False}, result.stdout
    assert "vae" in result.stdout
