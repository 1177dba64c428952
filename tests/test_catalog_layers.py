"""Issue 14, item 4: layered catalogs (shipped + plugins + the user's ZOO_REGISTRY path list), the one catalog
writer, model-name checks up front, and the catalog cache.

A plugin with a ``registry.json`` in its package is installed the way pip leaves it (a package plus a
``*.dist-info`` folder with an entry point in the group ``zoo``) in a folder put on sys.path.
"""

from __future__ import annotations

import copy
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import zoo_core as zoo
from conftest import CACHE_INDEX, run_zoo, write_dist_info, zoo_env
from zoo_core._catalog import get_catalog, reset_catalog
from zoo_core._plugins import reset_plugins
from zoo_core._registry import (
    MODEL_NAME,
    check_model_name,
    load_registry,
    registry_path,
    update_registry,
    validate_registry,
    write_registry,
)
from zoo_core.cli import cli

REPO_ROOT = Path(__file__).resolve().parents[1]
SHIPPED = REPO_ROOT / "registry.json"
VAE = json.loads(SHIPPED.read_text())["models"]["vae.mnist"]


def entry(**changes: Any) -> dict[str, Any]:
    return {**copy.deepcopy(VAE), **changes}


def catalog_file(path: Path, models: dict[str, Any], **dumps: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"version": 1, "models": models}, **dumps))
    return path


@pytest.fixture(autouse=True)
def fresh_plugin_modules(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test imports its own ``layered_plugin`` (another test's stays out of sys.modules)."""
    for name in [m for m in sys.modules if m.startswith("layered_plugin")]:
        monkeypatch.delitem(sys.modules, name)
    yield
    for name in [m for m in sys.modules if m.startswith("layered_plugin")]:
        del sys.modules[name]


def install_plugin_with_catalog(site: Path, models: dict[str, Any]) -> Path:
    """A package ``layered_plugin`` (entry point ``layered_plugin.plugin``) with a registry.json beside it."""
    package = site / "layered_plugin"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "plugin.py").write_text("")
    catalog_file(package / "registry.json", models)
    write_dist_info(site, "layered-zoo-plugin", {"layered": "layered_plugin.plugin"})
    return site


@pytest.fixture
def layered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """Shipped + a plugin's fragment + two user catalogs, all defining vae.mnist differently, and names of their own."""
    site = install_plugin_with_catalog(
        tmp_path / "site",
        {"vae.plugin": entry(description="plugin's own"), "vae.mnist": entry(description="plugin's vae.mnist")},
    )
    first = catalog_file(
        tmp_path / "first.json",
        {"vae.first": entry(description="first's own"), "vae.mnist": entry(description="first's vae.mnist")},
    )
    second = catalog_file(
        tmp_path / "second.json",
        {
            "vae.second": entry(description="second's own"),
            "vae.mnist": entry(description="second's vae.mnist"),
            "vae.first": entry(description="second's vae.first"),
        },
    )
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("ZOO_REGISTRY", os.pathsep.join([str(first), str(second)]))
    reset_plugins()
    return {"site": site, "first": first, "second": second}


def test_every_layer_is_listed_and_the_precedence_is_user_plugin_shipped(
    layered: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    models = get_catalog().models
    assert {"vae.plugin", "vae.first", "vae.second", "dcgan.mnist"} <= set(models)
    assert models["dcgan.mnist"].layer == "shipped" and models["dcgan.mnist"].catalog.endswith("registry.json")
    plugin = models["vae.plugin"]
    assert plugin.layer == "plugin" and plugin.registered_by == "layered-zoo-plugin"
    assert plugin.catalog == str(layered["site"].resolve() / "layered_plugin" / "registry.json")
    assert models["vae.second"].catalog == str(layered["second"]) and models["vae.second"].layer == "user"
    # user > plugin > shipped; among the user's paths, the first one first
    assert models["vae.mnist"].description == "first's vae.mnist" and models["vae.mnist"].layer == "user"
    assert models["vae.first"].description == "first's own"
    err = capsys.readouterr().err
    (clash,) = [line for line in err.splitlines() if "'vae.mnist'" in line]
    for source in (layered["first"], layered["second"], "layered-zoo-plugin", "registry.json"):
        assert str(source) in clash, clash
    assert f"zoo uses the one in {layered['first']}" in clash
    assert sum("'vae.first'" in line for line in err.splitlines()) == 1
    reset_catalog()
    get_catalog()
    assert "'vae.mnist'" not in capsys.readouterr().err  # said once per process


def test_the_same_entry_twice_is_no_clash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    """A copy of registry.json as a user catalog (the old way to extend it) adds nothing and says nothing."""
    copy_of = tmp_path / "copy.json"
    copy_of.write_bytes(SHIPPED.read_bytes())
    monkeypatch.setenv("ZOO_REGISTRY", str(copy_of))
    assert zoo.info("vae.mnist").layer == "user"
    assert "defined" not in capsys.readouterr().err


def test_list_json_and_info_say_where_each_entry_comes_from(layered: dict[str, Path], tmp_path: Path) -> None:
    env = zoo_env(tmp_path / "home", ZOO_REGISTRY=os.environ["ZOO_REGISTRY"], PYTHONPATH=str(layered["site"]))
    result = run_zoo("list", "--json", env=env)
    assert result.returncode == 0, result.stderr
    listed = {m["name"]: m for m in json.loads(result.stdout)}
    assert listed["vae.second"]["catalog"] == str(layered["second"]) and listed["vae.second"]["layer"] == "user"
    assert listed["vae.plugin"]["layer"] == "plugin" and listed["dcgan.mnist"]["layer"] == "shipped"
    assert result.stderr.count("'vae.mnist'") == 1  # the clash, reported, never breaking the command
    info = run_zoo("info", "vae.mnist", env=env)
    assert info.returncode == 0, info.stderr
    assert "catalog:" in info.stdout and f"{layered['first']} (user)" in info.stdout


def test_a_broken_plugin_catalog_is_skipped_and_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = install_plugin_with_catalog(tmp_path / "site", {"vae.plugin": entry()})
    (site / "layered_plugin" / "registry.json").write_text('{"version": 1, "models": {"Bad Name": {}}}')
    monkeypatch.syspath_prepend(str(site))
    reset_plugins()
    assert "vae.mnist" in zoo.list_models() and "vae.plugin" not in zoo.list_models()
    from zoo_core._plugins import plugin_records

    record = {r.name: r for r in plugin_records()}["layered-zoo-plugin"]
    assert record.status == "partly" and "'Bad Name' is not a model name" in record.error


# -- zoo registry add into a new user catalog -------------------------------------------------------------
@pytest.fixture
def run_folder(tmp_path: Path) -> Path:
    """A finished `zoo train` run as `zoo registry add` reads it (zoo-entry.json + model/), without training."""
    from zoo_core.training.finish import ENTRY_NAME, MODEL_DIR

    run = tmp_path / "run"
    (run / MODEL_DIR).mkdir(parents=True)
    (run / MODEL_DIR / "model.safetensors").write_bytes(b"not really weights, but hashed all the same")
    (run / MODEL_DIR / "config.json").write_text("{}\n")
    saved_entry = {k: v for k, v in VAE.items() if k != "weights"}
    saved = {"name": "vae.tiny", "repo_id": "me/vae-tiny", "model_dir": MODEL_DIR, "entry": saved_entry}
    (run / ENTRY_NAME).write_text(json.dumps(saved))
    return run


def test_registry_add_creates_a_new_user_catalog_and_leaves_the_shipped_one(
    run_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shipped_bytes = SHIPPED.read_bytes()
    mine = tmp_path / "catalogs" / "mine.json"  # neither the file nor its folder exists yet
    monkeypatch.setenv("ZOO_REGISTRY", os.pathsep.join([str(mine), str(tmp_path / "other.json")]))
    assert registry_path() == mine
    result = CliRunner().invoke(cli, ["registry", "add", "vae.tiny", str(run_folder)])
    assert result.exit_code == 0, result.output
    assert f"Registered vae.tiny in {mine} (a new catalog)" in result.output
    document = json.loads(mine.read_text())
    assert list(document) == ["version", "models"] and list(document["models"]) == ["vae.tiny"]
    assert mine.read_text().endswith("}\n") and '\n  "models"' in mine.read_text()
    assert SHIPPED.read_bytes() == shipped_bytes
    reset_catalog()
    assert zoo.info("vae.tiny").layer == "user" and "vae.mnist" in zoo.list_models()


def test_registry_add_refuses_a_bad_name_before_any_work(run_folder: Path, tmp_path: Path, monkeypatch) -> None:
    mine = tmp_path / "mine.json"
    monkeypatch.setenv("ZOO_REGISTRY", str(mine))
    for name, words in (("Vae Tiny", "is not a model name"), ("dcgan.tiny", "name it vae.<tag>")):
        result = CliRunner().invoke(cli, ["registry", "add", name, str(run_folder)])
        assert result.exit_code == 1 and words in result.output, result.output
        assert len(result.output.strip().splitlines()) == 1
    assert not mine.exists()


# -- the one writer ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "dumps",
    [{"indent": 2}, {"indent": 4}, {"indent": "\t"}, {}, {"indent": 2, "ensure_ascii": False}],
    ids=["2", "4", "tab", "compact", "utf8"],
)
@pytest.mark.parametrize("final_newline", [True, False])
def test_the_writer_keeps_order_and_formatting(tmp_path: Path, dumps: dict[str, Any], final_newline: bool) -> None:
    """Adding and replacing entries rewrites the file as json.dumps would with the file's own formatting."""
    models = {"vae.zeta": entry(), "vae.alpha": entry(description="Schrödinger's VAE")}  # not sorted: kept so
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps({"version": 1, "models": models}, **dumps) + ("\n" if final_newline else ""))
    update_registry(path, {"vae.alpha": entry(description="replaced"), "vae.middle": entry()})
    expected = {"version": 1, "models": {**models, "vae.alpha": entry(description="replaced"), "vae.middle": entry()}}
    assert list(expected["models"]) == ["vae.zeta", "vae.alpha", "vae.middle"]
    dumps.setdefault("ensure_ascii", "ö" not in path.read_text() or False)
    assert path.read_text() == json.dumps(expected, **dumps) + ("\n" if final_newline else "")


def test_the_writer_keeps_a_sorted_file_sorted_and_the_shipped_file_byte_for_byte(tmp_path: Path) -> None:
    path = tmp_path / "registry.json"
    path.write_bytes(SHIPPED.read_bytes())
    document = load_registry(path)
    update_registry(path, {"vae.mnist": document["models"]["vae.mnist"]})  # the same entry again
    assert path.read_bytes() == SHIPPED.read_bytes()
    update_registry(path, {"vae.aaa": entry()})
    names = list(json.loads(path.read_text())["models"])
    assert names == sorted(names) and "vae.aaa" in names


def test_the_writer_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A write that fails half-way (here: the disk fills up) leaves the file as it was, and no temporary file."""
    path = catalog_file(tmp_path / "catalog.json", {"vae.one": entry()}, indent=2)
    before = path.read_bytes()

    def full_disk(*args: Any, **kwargs: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError):
        update_registry(path, {"vae.two": entry()})
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["catalog.json"]


def test_the_writer_refuses_an_invalid_document(tmp_path: Path) -> None:
    path = catalog_file(tmp_path / "catalog.json", {"vae.one": entry()}, indent=2)
    before = path.read_bytes()
    with pytest.raises(zoo.RegistryError, match="license"):
        write_registry(path, {"version": 1, "models": {"vae.two": {k: v for k, v in VAE.items() if k != "license"}}})
    assert path.read_bytes() == before


# -- names -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["vae.mnist", "wgan-gp.mnist", "pix2pix.facades_label2photo", "a.b.c", "x_1.v2"])
def test_good_names(name: str) -> None:
    assert check_model_name(name) == name and check_model_name(name, name.split(".")[0]) == name


@pytest.mark.parametrize("name", ["vae", "VAE.mnist", "vae.", ".mnist", "vae mnist.x", "vae/mnist", "", "vae.Mnist"])
def test_bad_names_are_one_sentence(name: str) -> None:
    with pytest.raises(zoo.ZooError, match="is not a model name") as info:
        check_model_name(name)
    assert "\n" not in str(info.value) and "vae.mnist" in str(info.value)


def test_a_name_of_another_architecture_names_the_expected_form() -> None:
    with pytest.raises(zoo.ZooError, match=r"architecture 'wgan-gp': name it wgan-gp\.<tag>"):
        check_model_name("wgangp.mnist", "wgan-gp")


def test_the_code_and_the_schema_share_one_name_pattern() -> None:
    schema = json.loads((REPO_ROOT / "zoo_core" / "schema" / "registry.schema.json").read_text())
    assert schema["properties"]["models"]["propertyNames"]["pattern"] == MODEL_NAME.pattern


def test_a_catalog_and_register_models_refuse_bad_names_in_one_sentence() -> None:
    with pytest.raises(zoo.RegistryError, match=r"'vae_mnist' is not a model name"):
        validate_registry({"version": 1, "models": {"vae_mnist": entry()}})
    from zoo_core._registry import validate_entry

    with pytest.raises(zoo.RegistryError, match="must have architecture 'dcgan'"):
        validate_entry("dcgan.x", entry(), "the entry 'p' registered")


def test_train_refuses_a_bad_name_at_once(tmp_path: Path) -> None:
    """`zoo train wgan-gp ... --name wgangp.mnist`: refused before the architecture is even looked up."""
    result = CliRunner().invoke(
        cli, ["train", "wgan-gp", "--dataset", "mnist5k", "--out", str(tmp_path / "run"), "--name", "wgangp.mnist"]
    )
    assert result.exit_code == 1 and "--name: 'wgangp.mnist'" in result.output and "wgan-gp.<tag>" in result.output
    assert not (tmp_path / "run").exists()


def test_zoo_error_is_public() -> None:
    assert "ZooError" in zoo.__all__ and issubclass(zoo.RegistryError, zoo.ZooError)


# -- the cache ---------------------------------------------------------------------------------------------
def test_a_changed_catalog_file_shows_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The validated catalog is cached by file stat: a rewritten file (a new mtime) is read again."""
    mine = catalog_file(tmp_path / "mine.json", {"vae.one": entry(description="first")}, indent=2)
    monkeypatch.setenv("ZOO_REGISTRY", str(mine))
    assert zoo.info("vae.one").description == "first"
    assert (Path(os.environ["ZOO_CACHE"]) / CACHE_INDEX / "catalog.json").is_file()
    catalog_file(mine, {"vae.one": entry(description="second!")}, indent=2)  # another size, another mtime
    reset_catalog()
    assert zoo.info("vae.one").description == "second!"
    text = mine.read_text().replace("second!", "third!!")  # same size
    mine.write_text(text)
    os.utime(mine, ns=(1_000_000_000, 1_000_000_000))  # an old mtime: the ctime still changed
    reset_catalog()
    assert zoo.info("vae.one").description == "third!!"


def test_a_warm_catalog_skips_validation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Second build: no file is parsed strictly and no entry validated (jsonschema is not needed)."""
    import zoo_core._catalog as catalog_module

    get_catalog()  # warm
    calls: list[str] = []
    monkeypatch.setattr(catalog_module, "load_registry", lambda *a, **k: calls.append("load") or {})
    monkeypatch.setattr(catalog_module, "validate_entry", lambda *a, **k: calls.append("validate"))
    reset_catalog()
    assert "vae.mnist" in get_catalog().models and calls == []


def test_a_warm_zoo_list_imports_neither_torch_nor_jsonschema_nor_metadata(tmp_path: Path) -> None:
    script = (
        "import sys\nfrom zoo_core.cli import main\ntry:\n    main(['list'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('torch', 'jsonschema', 'importlib.metadata') if m in sys.modules))\n"
    )
    env = zoo_env(tmp_path / "home")
    import subprocess

    runs = [
        subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
        for _ in range(2)
    ]
    assert all(run.returncode == 0 for run in runs), runs[0].stderr
    assert runs[0].stdout.splitlines()[-1] == "['importlib.metadata', 'jsonschema']"  # cold: scan and validate
    assert runs[1].stdout.splitlines()[-1] == "[]", runs[1].stderr  # warm
    assert "vae.mnist" in runs[1].stdout
