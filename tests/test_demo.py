"""scripts/demo.py end to end: our Hub on loopback, every zoo model loaded and sampled, no process left."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from conftest import REPO_ROOT, zoo_env

pytestmark = [pytest.mark.hub, pytest.mark.slow]

UPSTREAM = "vae.authors"  # an upstream model added to a copy of the registry: listed, never fetched


def _registry(path: Path, upstream: bool = False, bad_sha256: bool = False, only: str | None = None) -> Path:
    registry = json.loads((REPO_ROOT / "registry.json").read_text())
    if only:  # one model: the demo's whole run is paid once, by the `demo` fixture
        registry["models"] = {only: registry["models"][only]}
    ours = registry["models"]["vae.mnist"]
    if upstream:
        registry["models"][UPSTREAM] = {**ours, "source": "upstream", "weights": {**ours["weights"], "repo_id": "a/b"}}
    if bad_sha256:
        ours["weights"]["sha256"] = "0" * 64
    path.write_text(json.dumps(registry))
    return path


def _live_members(pgid: int) -> list[int]:
    """Processes of a process group that still run (zombies, dead but not yet reaped, do not count:
    olah's git children are reaped by whatever adopts them, which in a container may be slow or never)."""
    live = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            live.append(int(stat.parent.name))
    return live


def run_demo(tmp: Path, registry: Path, hub: Path | None = None) -> dict[str, Any]:
    """Run the demo in its own process group, so that whatever it leaves behind can be found."""
    out = tmp / "out"
    env = zoo_env(tmp / "unused-hf-home", ZOO_REGISTRY=str(registry))
    process = subprocess.Popen(
        [sys.executable, str(REPO_ROOT / "scripts" / "demo.py"), "--out", str(out)]
        + (["--hub", str(hub)] if hub is not None else []),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=900)  # a guard against a hang: every model of ours, on 2 busy cores
    except subprocess.TimeoutExpired:
        output = ""
    finally:
        process.wait()
        # The group holds the hub server and olah: once the demo has exited, none may still run.
        leftover = bool(_live_members(process.pid))
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    return {"rc": process.returncode, "output": output, "out": out, "leftover": leftover}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("demo")
    return run_demo(tmp, _registry(tmp / "registry.json", upstream=True))


def test_demo_exits_zero(demo) -> None:
    assert demo["rc"] == 0, demo["output"]


def test_demo_writes_a_grid_of_64_samples(demo) -> None:
    grid = demo["out"] / "vae.mnist.png"
    assert grid.is_file(), demo["output"]
    with Image.open(grid) as image:
        assert image.format == "PNG"
        assert image.size == (8 * (28 + 2) + 2, 8 * (28 + 2) + 2)  # 8x8 tiles of 28 px, 2 px padding
        pixels = np.asarray(image)
    assert image.mode == "L" and pixels.min() < pixels.max()  # grey, and not a constant image
    assert (demo["out"] / "hf-home" / "hub" / "models--zoo--vae-mnist").is_dir()  # downloaded from our Hub


def test_demo_scores_and_edits_held_out_digits(demo) -> None:
    digits = sorted((demo["out"] / "inputs" / "digits-32").glob("digit-*.png"))
    assert [d.name for d in digits] == [f"digit-{k}.png" for k in range(10)]
    with Image.open(digits[0]) as image:
        assert image.size == (32, 32)
    scores = json.loads((demo["out"] / "anogan.mnist-no0-scores.json").read_text())
    assert [Path(s["path"]).name for s in scores] == [d.name for d in digits]
    assert all(np.isfinite(s["score"]) for s in scores) and len({s["score"] for s in scores}) > 1
    with Image.open(demo["out"] / "icgan.mnist-edits.png") as image:  # a row per digit: it, then its 10 edits
        assert image.size == (11 * (32 + 2) + 2, 10 * (32 + 2) + 2)


def test_demo_lists_upstream_models_without_fetching_them(demo) -> None:
    assert f"{UPSTREAM}" in demo["output"] and "needs the internet, not fetched" in demo["output"]
    assert f"$ zoo load {UPSTREAM}" not in demo["output"]
    assert not (demo["out"] / f"{UPSTREAM}.png").exists()


def test_demo_stops_the_hub_server(demo) -> None:
    assert not demo["leftover"], "the demo left processes behind (hub server or olah)"


def test_demo_exits_non_zero_when_a_model_fails(tmp_path: Path) -> None:
    hub = tmp_path / "hub"  # only the one model's folder: the server need not publish every model of ours
    shutil.copytree(REPO_ROOT / "hub" / "zoo" / "vae-mnist", hub / "zoo" / "vae-mnist")
    result = run_demo(tmp_path, _registry(tmp_path / "registry.json", bad_sha256=True, only="vae.mnist"), hub)
    assert result["rc"] == 1, result["output"]
    assert "failed their sha256 check" in result["output"]
    assert "FAILED" in result["output"] and not (result["out"] / "vae.mnist.png").exists()
    assert not result["leftover"]
