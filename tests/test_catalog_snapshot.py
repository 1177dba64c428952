"""``zoo list`` from the catalog snapshot: no plugin loaded while nothing changed, a full build when anything did.

Each test runs ``zoo`` in fresh processes, with its own ``$ZOO_CACHE``; a process prints which of the modules
that only a full build needs it imported, so a test sees whether the snapshot was used.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from conftest import write_dist_info, zoo_env

REPO_ROOT = Path(__file__).resolve().parents[1]
VAE = json.loads((REPO_ROOT / "registry.json").read_text())["models"]["vae.mnist"]
PROBE = (
    "import sys\nfrom zoo_core.cli import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
    "built = sorted(m for m in ('pluggy', 'zoo_vae.plugin', 'snap_plugin.plugin', 'torch') if m in sys.modules)\n"
    "print('BUILT' if built else 'SNAPSHOT', built, file=sys.stderr)\n"
)

PLUGIN = """\
import zoo_core

from .names import NAMES


@zoo_core.hookimpl
def register_models(register):
    for name in NAMES:
        register(name, ENTRY)


ENTRY = {entry!r}
"""


def zoo(env: dict[str, str], *args: str) -> tuple[str, str]:
    """``zoo ARGS`` in a fresh process: (stdout, how the listing was made: BUILT or SNAPSHOT)."""
    run = subprocess.run([sys.executable, "-c", PROBE, *args], env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    *warnings, how = run.stderr.strip().splitlines()
    return run.stdout, how.split()[0] + "".join("\n" + line for line in warnings)


def install_snap_plugin(site: Path, names: list[str]) -> Path:
    """A package plugin whose hook registers the names its helper module ``names.py`` holds."""
    package = site / "snap_plugin"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    entry = {**copy.deepcopy(VAE), "plugin": "zoo-vae"}
    (package / "plugin.py").write_text(PLUGIN.format(entry=entry))
    (package / "names.py").write_text(f"NAMES = {names!r}\n")
    write_dist_info(site, "snap-plugin", {"snap": "snap_plugin.plugin"})
    return package


def later(path: Path) -> None:
    """Give ``path`` a new mtime even on a file system with coarse timestamps."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))


def test_a_warm_listing_loads_no_plugin_and_prints_the_same(tmp_path: Path) -> None:
    env = zoo_env(tmp_path / "home")
    cold, how = zoo(env, "list", "--json")
    assert how.startswith("BUILT")
    warm, how = zoo(env, "list", "--json")
    assert how == "SNAPSHOT" and warm == cold
    assert [m["name"] for m in json.loads(warm)] == sorted(m["name"] for m in json.loads(cold))
    table, how = zoo(env, "list", "vae", "--task", "latent")
    assert how == "SNAPSHOT" and table.splitlines()[1].startswith("vae.mnist ")


def test_a_change_in_a_plugins_package_is_seen_at_once(tmp_path: Path) -> None:
    """Not only the entry point's module: a helper module of the plugin's package changes what it registers."""
    site = tmp_path / "site"
    package = install_snap_plugin(site, ["vae.snap-one"])
    env = zoo_env(tmp_path / "home", PYTHONPATH=str(site))
    assert "vae.snap-one" in zoo(env, "list")[0]
    out, how = zoo(env, "list")
    assert how == "SNAPSHOT" and "vae.snap-one" in out
    (package / "names.py").write_text('NAMES = ["vae.snap-two"]\n')
    later(package / "names.py")
    out, how = zoo(env, "list")
    assert how.startswith("BUILT") and "vae.snap-two" in out and "vae.snap-one" not in out
    assert zoo(env, "list")[1] == "SNAPSHOT"


def test_installing_a_plugin_or_creating_a_user_catalog_is_seen_at_once(tmp_path: Path) -> None:
    site, mine = tmp_path / "site", tmp_path / "mine.json"
    env = zoo_env(tmp_path / "home", PYTHONPATH=str(site), ZOO_REGISTRY=str(mine))
    site.mkdir()
    zoo(env, "list")
    assert zoo(env, "list")[1] == "SNAPSHOT"
    install_snap_plugin(site, ["vae.snap-installed"])  # a new dist-info folder on sys.path
    out, how = zoo(env, "list")
    assert how.startswith("BUILT") and "vae.snap-installed" in out
    mine.write_text(json.dumps({"version": 1, "models": {"vae.mine": VAE}}))  # a catalog that did not exist
    out, how = zoo(env, "list")
    assert how.startswith("BUILT") and "vae.mine" in out
    env["ZOO_LOAD_PLUGINS"] = "zoo-vae"  # a switch
    out, how = zoo(env, "list")
    assert how.startswith("BUILT") and "vae.snap-installed" not in out


def test_a_broken_plugin_is_reported_by_the_snapshot_too(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "snap_broken.py").write_text('raise RuntimeError("boom at import")\n')
    write_dist_info(site, "snap-broken", {"broken": "snap_broken"})
    env = zoo_env(tmp_path / "home", PYTHONPATH=str(site))
    cold, how_cold = zoo(env, "list")
    warm, how_warm = zoo(env, "list")
    assert how_cold.startswith("BUILT") and how_warm.startswith("SNAPSHOT") and warm == cold
    for how in (how_cold, how_warm):
        lines = how.splitlines()[1:]
        assert len(lines) == 1 and "'snap-broken'" in lines[0] and "RuntimeError: boom at import" in lines[0]


def test_no_snapshot_while_plugins_are_registered_by_hand(tmp_path: Path) -> None:
    """A plugin object registered in a process is in no file: that process's catalog is not kept."""
    script = (
        "import zoo_core\nfrom zoo_core._plugins import get_plugin_manager\nfrom zoo_core._catalog import get_catalog\n"
        "class Mine:\n    @zoo_core.hookimpl\n    def register_models(self, register):\n"
        f"        register('vae.by-hand', {VAE!r})\n"
        "get_plugin_manager().register(Mine(), name='mine')\nassert 'vae.by-hand' in get_catalog().models\n"
    )
    env = zoo_env(tmp_path / "home")
    subprocess.run([sys.executable, "-c", script], env=env, check=True, capture_output=True, timeout=120)
    out, how = zoo(env, "list")
    assert "vae.by-hand" not in out and how.startswith("BUILT")


def test_the_snapshot_is_rewritten_only_when_it_changes(tmp_path: Path) -> None:
    env = zoo_env(tmp_path / "home")
    zoo(env, "info", "vae.mnist")  # any full build writes it
    snapshot = Path(env["ZOO_CACHE"]) / "index" / "listing.json"
    first = snapshot.stat().st_mtime_ns
    time.sleep(0.05)
    zoo(env, "info", "vae.mnist")
    assert snapshot.stat().st_mtime_ns == first
    snapshot.write_text("{not json")  # damaged: ignored, built again, rewritten
    out, how = zoo(env, "list")
    assert how.startswith("BUILT") and "vae.mnist" in out and json.loads(snapshot.read_text())[-1]["models"]
