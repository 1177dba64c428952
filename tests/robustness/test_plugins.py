"""Issue 13, group 5: a plugin cannot take the CLI down.

Each bad plugin is installed the way pip would leave it (a module plus a ``*.dist-info`` folder with
an entry point in the group ``zoo``) in a folder put on PYTHONPATH of a ``zoo`` subprocess. Whatever
the plugin does wrong is said in one line on stderr (once), shown by ``zoo plugins``, only the
offending part is skipped, and every other command prints exactly what it prints without the plugin.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conftest import TRACEBACK_MARKERS, run_zoo, write_dist_info, zoo_env

PLUGIN = "bad-zoo-plugin"
MODULE = "bad_zoo_plugin"
# commands whose output must not change because of a bad plugin (none of them imports torch)
UNCHANGED = (("list", "--json"), ("info", "vae.mnist", "--json"), ("metrics", "--json"), ("datasets", "--json"))


def install_plugin(site: Path, source: str, dist: str = PLUGIN, module: str = MODULE, entry: str = "bad") -> Path:
    """Write ``module.py`` and its ``dist-info`` (entry point in the group ``zoo``) into ``site``."""
    site.mkdir(parents=True, exist_ok=True)
    (site / f"{module}.py").write_text(source)
    write_dist_info(site, dist, {entry: module})
    return site


def env_for(tmp_path: Path, source: str | None, **extra: str) -> dict[str, str]:
    env = zoo_env(tmp_path / "hf-home", **extra)
    if source is not None:
        env["PYTHONPATH"] = str(install_plugin(tmp_path / "site", source))
    return env


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, ...], str]:
    """The stdout of each UNCHANGED command with only the installed plugins."""
    env = zoo_env(tmp_path_factory.mktemp("baseline") / "hf-home")
    out = {}
    for args in UNCHANGED:
        result = run_zoo(*args, env=env)
        assert result.returncode == 0 and not result.stderr, result.stderr
        out[args] = result.stdout
    return out


def assert_no_traceback(stderr: str) -> None:
    for marker in TRACEBACK_MARKERS:
        assert marker not in stderr, stderr


def assert_unchanged(env: dict[str, str], baseline: dict[tuple[str, ...], str], *commands: tuple[str, ...]) -> str:
    """Each command exits 0 with the baseline's stdout, byte for byte; returns the stderr of the first."""
    stderrs = []
    for args in commands or UNCHANGED:
        result = run_zoo(*args, env=env)
        assert result.returncode == 0, result.stderr
        assert result.stdout == baseline[args], f"`zoo {' '.join(args)}` changed; stderr: {result.stderr}"
        assert_no_traceback(result.stderr)
        stderrs.append(result.stderr)
    return stderrs[0]


def plugin_record(env: dict[str, str], name: str = PLUGIN) -> dict[str, Any]:
    result = run_zoo("plugins", "--json", env=env)
    assert result.returncode == 0, result.stderr
    assert_no_traceback(result.stderr)
    records = {record["name"]: record for record in json.loads(result.stdout)}
    assert records["zoo-vae"]["status"] == "loaded"
    return records[name]


def one_warning(stderr: str, *words: str) -> str:
    """stderr holds exactly one line about the plugin, naming it and ``words``."""
    lines = [line for line in stderr.splitlines() if PLUGIN in line]
    assert len(lines) == 1, stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


# -- a plugin that raises at import ----------------------------------------------------------
@pytest.mark.parametrize(
    ("source", "kind"),
    [
        ('raise RuntimeError("boom at import")\n', "RuntimeError"),
        ("import sys\nsys.exit(3)\n", "SystemExit"),
        ("raise SystemExit(0)\n", "SystemExit"),
        ("class Doom(BaseException):\n    pass\n\n\nraise Doom('the end')\n", "Doom"),
        ("import zoo_core_no_such_module\n", "ModuleNotFoundError"),
    ],
    ids=["exception", "sys.exit(3)", "SystemExit(0)", "BaseException", "missing-import"],
)
def test_a_plugin_raising_at_import_is_reported_and_skipped(
    tmp_path: Path, baseline: dict[tuple[str, ...], str], source: str, kind: str
) -> None:
    """Any exception at import (SystemExit and BaseException subclasses too): failed, one line, zoo works."""
    env = env_for(tmp_path, source)
    stderr = assert_unchanged(env, baseline, ("list", "--json"))
    one_warning(stderr, "failed at import", kind)
    record = plugin_record(env)
    assert record["status"] == "failed" and kind in record["error"], record


WRONG_ARGUMENTS = """\
import zoo_core


@zoo_core.hookimpl
def register_architectures(reg):
    pass
"""


def test_a_hook_with_the_wrong_arguments_is_refused(tmp_path: Path, baseline: dict[tuple[str, ...], str]) -> None:
    """pluggy refuses a hook implementation whose arguments are not the spec's: the plugin is failed, zoo works."""
    env = env_for(tmp_path, WRONG_ARGUMENTS)
    stderr = assert_unchanged(env, baseline, ("list", "--json"))
    one_warning(stderr, "cannot be registered", "PluginValidationError", "reg")
    assert plugin_record(env)["status"] == "failed"


def test_a_keyboard_interrupt_at_import_still_interrupts(tmp_path: Path) -> None:
    """A KeyboardInterrupt while plugins load stops zoo (exit 130), without a traceback."""
    result = run_zoo("list", env=env_for(tmp_path, "raise KeyboardInterrupt\n"))
    assert result.returncode == 130, result.stderr
    assert result.stdout == ""
    assert result.stderr.strip() == "Interrupted."


# -- a plugin that prints to stdout -------------------------------------------------------------
PRINTS = """\
import zoo_core

print("hello from the plugin at import")


@zoo_core.hookimpl
def register_datasets(register):
    print("and again in a hook")
"""


def test_a_plugin_printing_to_stdout_does_not_break_json_output(
    tmp_path: Path, baseline: dict[tuple[str, ...], str]
) -> None:
    """What a plugin prints at import or in a hook is hidden from stdout (JSON stays JSON) and reported once."""
    env = env_for(tmp_path, PRINTS)
    assert_unchanged(env, baseline)
    result = run_zoo("list", "--json", env=env)
    json.loads(result.stdout)
    lines = [line for line in result.stderr.splitlines() if PLUGIN in line]
    assert len(lines) == 2, result.stderr  # one for the import, one for the hook: each said once
    assert "at import" in lines[0] and "in register_datasets" in lines[1]
    record = plugin_record(env)
    assert record["status"] == "partly"
    assert "hello from the plugin" in record["error"] and "and again" in record["error"]


# -- commands -----------------------------------------------------------------------------------
COMMANDS = """\
import click
import zoo_core


@zoo_core.hookimpl
def register_commands(cli):
    @cli.command("list")
    def hijacked():
        click.echo("not zoo's list")

    @cli.command("bad-hello")
    def hello():
        click.echo("hello from the plugin")
"""

REPLACES_AT_IMPORT = """\
import click
from zoo_core.cli import cli


@click.command()
def hijacked():
    click.echo("not zoo's list")


cli.commands["list"] = hijacked
"""


def test_a_plugin_command_named_like_a_built_in_is_skipped(
    tmp_path: Path, baseline: dict[tuple[str, ...], str]
) -> None:
    """`list` stays zoo's; the plugin's other command works; the clash is reported where the plugins' commands
    are gathered (a command that is no built-in one, `zoo --help`)."""
    env = env_for(tmp_path, COMMANDS)
    assert_unchanged(env, baseline, ("list", "--json"))
    hello = run_zoo("bad-hello", env=env)
    assert hello.returncode == 0 and hello.stdout == "hello from the plugin\n", hello.stderr
    one_warning(hello.stderr, "'list'", "built-in")
    help_ = run_zoo("--help", env=env)
    assert help_.returncode == 0 and "bad-hello" in help_.stdout, help_.stderr
    one_warning(help_.stderr, "'list'", "built-in")
    record = plugin_record(env)
    assert record["status"] == "partly" and "'list'" in record["error"]


def test_a_plugin_replacing_a_built_in_at_import_is_undone(
    tmp_path: Path, baseline: dict[tuple[str, ...], str]
) -> None:
    """A plugin that overwrites `zoo list` in the click group at import: zoo uses its own, and says so when it
    gathers the plugins' commands (`zoo --help`)."""
    env = env_for(tmp_path, REPLACES_AT_IMPORT)
    assert_unchanged(env, baseline, ("list", "--json"))
    help_ = run_zoo("--help", env=env)
    assert help_.returncode == 0, help_.stderr
    assert "'list'" in help_.stderr and "built-in" in help_.stderr, help_.stderr


# -- a misspelt hook ----------------------------------------------------------------------------
MISSPELT = """\
import zoo_core


@zoo_core.hookimpl
def register_architecture(register):
    raise AssertionError("never called")
"""


def test_a_misspelt_hook_is_named_with_the_closest_hook(tmp_path: Path, baseline: dict[tuple[str, ...], str]) -> None:
    env = env_for(tmp_path, MISSPELT)
    stderr = assert_unchanged(env, baseline, ("list", "--json"))
    one_warning(stderr, "'register_architecture'", "did you mean 'register_architectures'")
    record = plugin_record(env)
    assert record["status"] == "partly" and "register_architectures" in record["error"]


# -- names that are taken -----------------------------------------------------------------------
DUPLICATES = """\
import json
from pathlib import Path

import zoo_core
from zoo_core import Architecture, Converter, DatasetInfo, MetricInfo

ENTRY = json.loads(Path(zoo_core.__file__).with_name("registry.json").read_text())["models"]["vae.mnist"]


@zoo_core.hookimpl
def register_models(register):
    register("vae.mnist", {**ENTRY, "description": "an impostor"})


@zoo_core.hookimpl
def register_architectures(register):
    register(Architecture(name="vae", model="bad_zoo_plugin:Impostor", tasks=("unconditional",)))


@zoo_core.hookimpl
def register_datasets(register):
    register(DatasetInfo(name="mnist5k", load="bad_zoo_plugin:load", description="an impostor"))
    register(DatasetInfo(name="bad-fresh", load="bad_zoo_plugin:load", description="a new name: kept"))


@zoo_core.hookimpl
def register_metrics(register):
    register(MetricInfo(name="fid-mnist", create="bad_zoo_plugin:metric", description="an impostor"))


@zoo_core.hookimpl
def register_converters(register):
    register(Converter(name="cyclegan-junyanz", architecture="cyclegan", convert="bad_zoo_plugin:convert"))
"""

TAKEN = {
    "architecture": ("vae", "zoo-vae"),
    "dataset": ("mnist5k", "zoo_core.builtin.datasets"),
    "metric": ("fid-mnist", "zoo_core.builtin.classifiers"),
    "converter": ("cyclegan-junyanz", "zoo-cyclegan"),
}


def test_names_already_taken_are_skipped_one_by_one(tmp_path: Path, baseline: dict[tuple[str, ...], str]) -> None:
    """Architecture, dataset, metric and converter names that exist stay with their first owner.

    Only the duplicates are skipped: the plugin's new data set name is registered. A model name is different
    since issue 14's layered catalogs (user > plugin > shipped): the plugin's vae.mnist is used, and the clash is
    said once, naming both sources; every other model stays as it was.
    """
    env = env_for(tmp_path, DUPLICATES)
    stderr = assert_unchanged(env, baseline, ("metrics", "--json"))
    lines = [line for line in stderr.splitlines() if PLUGIN in line]
    assert len(lines) == len(TAKEN) + 1, stderr
    for kind, (name, keeper) in TAKEN.items():
        assert sum(f"{kind} {name!r}" in line and repr(keeper) in line for line in lines) == 1, (kind, stderr)
    (clash,) = [line for line in lines if "model 'vae.mnist'" in line]
    assert "registry.json" in clash and f"zoo uses the one by plugin {PLUGIN!r}" in clash, clash

    listed = run_zoo("list", "--json", env=env)
    assert listed.returncode == 0 and listed.stderr.count("model 'vae.mnist'") == 1, listed.stderr
    models = {m["name"]: m for m in json.loads(listed.stdout)}
    expected = {m["name"]: m for m in json.loads(baseline[("list", "--json")])}
    impostor = models.pop("vae.mnist")
    assert impostor["description"] == "an impostor" and impostor["layer"] == "plugin", impostor
    assert impostor["catalog"] == f"{PLUGIN} (register_models)"
    expected.pop("vae.mnist")
    assert models == expected
    info = run_zoo("info", "vae.mnist", "--json", env=env)
    assert info.returncode == 0 and json.loads(info.stdout)["registered_by"] == PLUGIN, info.stderr

    result = run_zoo("datasets", "--json", env=env)
    assert result.returncode == 0, result.stderr
    datasets = {d["name"]: d for d in json.loads(result.stdout)}
    expected = {d["name"]: d for d in json.loads(baseline[("datasets", "--json")])}
    assert datasets.pop("bad-fresh")["plugin"] == PLUGIN
    assert datasets == expected

    record = plugin_record(env)
    assert record["status"] == "partly"
    for name, keeper in TAKEN.values():
        assert repr(name) in record["error"] and repr(keeper) in record["error"]
    assert "vae.mnist" not in record["error"]  # nothing of the plugin was skipped for it


INVALID_ENTRY = """\
import zoo_core
from zoo_core import DatasetInfo


@zoo_core.hookimpl
def register_models(register):
    register("bad.model", {"architecture": "bad"})


@zoo_core.hookimpl
def register_datasets(register):
    register("not a DatasetInfo")
    register(DatasetInfo(name="bad-fresh", load="bad_zoo_plugin:load"))
"""


def test_an_invalid_registration_is_skipped_alone(tmp_path: Path, baseline: dict[tuple[str, ...], str]) -> None:
    """An entry against the schema and an object of the wrong type are skipped; the valid one stays."""
    env = env_for(tmp_path, INVALID_ENTRY)
    stderr = assert_unchanged(env, baseline, ("list", "--json"))
    lines = [line for line in stderr.splitlines() if PLUGIN in line]
    assert len(lines) == 2 and "bad.model" in lines[0] and "DatasetInfo" in lines[1], stderr
    result = run_zoo("datasets", "--json", env=env)
    assert "bad-fresh" in {d["name"] for d in json.loads(result.stdout)}


# -- ZOO_LOAD_PLUGINS ---------------------------------------------------------------------------
def test_a_misspelt_name_in_zoo_load_plugins_gets_the_closest_match(tmp_path: Path) -> None:
    env = env_for(tmp_path, None, ZOO_LOAD_PLUGINS="zoo-vea")
    result = run_zoo("plugins", "--json", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip().splitlines() == [
        "Warning: ZOO_LOAD_PLUGINS names 'zoo-vea', which is no installed plugin; did you mean 'zoo-vae'?"
    ]
    assert {r["name"]: r["status"] for r in json.loads(result.stdout)}["zoo-vae"] == "skipped"


def test_zoo_plugins_table_shows_the_problem(tmp_path: Path) -> None:
    """The text table of `zoo plugins` shows each bad plugin's status and its error on one row."""
    result = run_zoo("plugins", env=env_for(tmp_path, MISSPELT))
    assert result.returncode == 0, result.stderr
    row = next(line for line in result.stdout.splitlines() if line.startswith(PLUGIN))
    assert "partly" in row and "register_architecture" in row
