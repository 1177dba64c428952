"""Exact resume with a real process and a real SIGKILL.

`python -m zoo_core train vae ...` is started, killed with SIGKILL once its log shows a step
past the first checkpoint (so mid-epoch, after a checkpoint, with an unknown amount of work
lost), then continued with `--resume`. Its final weights, optimiser state and log must equal
those of an uninterrupted run of the same steps, bit for bit: on the CPU in float32, nothing
in the engine depends on when a process started (data order comes from (seed, epoch), the
random generators are restored from the checkpoint). A copy of the killed run that also lost
its `latest.json` resumes from its newest checkpoint that verifies, to the same end. The log
is appended to: every line written before the kill is still there, in front.

Both runs use one thread (OMP_NUM_THREADS=1): the result of a matmul may depend on the thread
count, and the machines that run the tests are shared.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from conftest import zoo_env
from zoo_core.training.logging import read_log

STEPS, EVERY = 150, 30  # 36 batches per epoch: the checkpoint of step 30 is in the middle of epoch 0


def train_args(out: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "zoo_core", "train", "vae", "--dataset", "mnist5k", "--out", str(out),
        "--steps", str(STEPS), "--checkpoint-every", str(EVERY), "--log-every", "1", "--sample-every", "1000",
        "--no-eval", "--seed", "7", *extra,
    ]  # fmt: skip


def logged_steps(out: Path) -> list[int]:
    path = out / "log.jsonl"
    if not path.is_file():
        return []
    steps = []
    for line in path.read_text().splitlines():
        with contextlib.suppress(json.JSONDecodeError, KeyError):  # a line being written
            steps.append(json.loads(line)["step"])
    return steps


def losses(out: Path) -> list[tuple[int, float]]:
    return [(r["step"], r["loss"]) for r in read_log(out / "log.jsonl")]


@pytest.mark.slow
def test_sigkill_then_resume_equals_an_uninterrupted_run(tmp_path: Path) -> None:
    env = zoo_env(tmp_path / "hf-home", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    whole, cut = tmp_path / "whole", tmp_path / "cut"
    done = subprocess.run(train_args(whole), env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr

    process = subprocess.Popen(train_args(cut), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 240
    try:
        while time.monotonic() < deadline and process.poll() is None:
            if any(step > EVERY for step in logged_steps(cut)):
                break
            time.sleep(0.002)
        assert process.poll() is None, "the run ended before it could be killed; raise STEPS"
        os.kill(process.pid, signal.SIGKILL)
    finally:
        returncode = process.wait(timeout=60)
        process.stdout.close(), process.stderr.close()
    assert returncode == -signal.SIGKILL
    latest = json.loads((cut / "checkpoints" / "latest.json").read_text())
    assert EVERY <= latest["step"] < STEPS, latest
    assert not (cut / "model").exists()  # killed before the end
    logged_before = (cut / "log.jsonl").read_bytes()
    lost_index = tmp_path / "lost-index"  # the same kill, and latest.json lost too
    shutil.copytree(cut, lost_index)
    (lost_index / "checkpoints" / "latest.json").unlink()
    # its newest whole checkpoint (state.json is written last); a kill mid-write may have left a later, partial one
    newest = max(int(p.parent.name.removeprefix("step-")) for p in (cut / "checkpoints").glob("step-*/state.json"))

    for out, resumed_from in ((cut, latest["step"]), (lost_index, newest)):
        resumed = subprocess.run([*train_args(out), "--resume"], env=env, capture_output=True, text=True, timeout=300)
        assert resumed.returncode == 0, resumed.stderr
        assert f"Resuming vae from step {resumed_from}" in resumed.stderr

        a = load_file(str(whole / "model" / "model.safetensors"))
        b = load_file(str(out / "model" / "model.safetensors"))
        assert a.keys() == b.keys()
        for key in a:
            assert torch.allclose(a[key], b[key], rtol=0, atol=0), key  # allclose with no tolerance: bit-equal
        final = f"checkpoints/step-{STEPS:07d}"
        for name in ("optimizers.safetensors", "rng.safetensors"):
            x, y = load_file(str(whole / final / name)), load_file(str(out / final / name))
            assert all(torch.equal(x[k], y[k]) for k in x), name
        assert (out / "log.jsonl").read_bytes().startswith(logged_before)  # appended, never rewritten
        assert losses(out) == losses(whole)  # every logged step, the lost ones included, has the same loss
        assert [s for s, _ in losses(out)] == list(range(1, STEPS + 1))


def tiny_args(out: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "zoo_core", "train", "vae", "--dataset", "mnist5k", "--out", str(out),
        "--config", "hidden_dim=16", "--batch-size", "16", "--steps", "60", "--checkpoint-every", "1", "--keep", "2",
        "--log-every", "1", "--sample-every", "1000", "--no-eval", "--seed", "5", *extra,
    ]  # fmt: skip


def writing(out: Path) -> bool:
    """Whether a checkpoint file (or latest.json) of ``out`` is being written: its temporary file exists."""
    return any(out.glob("checkpoints/.*.tmp")) or any(out.glob("checkpoints/step-*/.*.tmp"))


@pytest.mark.slow
def test_sigkill_while_checkpoints_are_written_then_resume_without_latest_json(tmp_path: Path) -> None:
    """A tiny run that checkpoints every step is killed with SIGKILL three times, each time as soon as a checkpoint
    file is seen half-written (most of its time goes to writing them), and loses latest.json after the second kill.
    Each --resume continues from the newest checkpoint that verifies; the end equals an uninterrupted run's, bit
    for bit, and no line logged before a kill is lost. (Whether a kill lands inside a write depends on the disk's
    speed; what a kill mid-write leaves is also built by hand in tests/robustness/test_training.py.)"""
    env = zoo_env(tmp_path / "hf-home", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    whole, cut = tmp_path / "whole", tmp_path / "cut"
    done = subprocess.run(tiny_args(whole), env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr

    logged_before = b""
    for attempt in range(3):
        process = subprocess.Popen(
            tiny_args(cut, *(["--resume"] if attempt else [])), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 240
        try:
            start = max(logged_steps(cut), default=0)
            while time.monotonic() < deadline and process.poll() is None:
                # past the first checkpoint of this attempt, and a checkpoint file half-written
                if max(logged_steps(cut), default=0) > start + 2 and writing(cut):
                    break
            assert process.poll() is None, "the run ended before it could be killed; raise --steps"
            os.kill(process.pid, signal.SIGKILL)
        finally:
            process.wait(timeout=60)
            process.stdout.close(), process.stderr.close()
        assert (cut / "log.jsonl").read_bytes().startswith(logged_before)
        logged_before = (cut / "log.jsonl").read_bytes()
        if attempt == 1:
            (cut / "checkpoints" / "latest.json").unlink(missing_ok=True)
    assert not (cut / "model").exists()  # killed before the end every time

    resumed = subprocess.run(tiny_args(cut, "--resume"), env=env, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert "Resuming vae from step" in resumed.stderr
    a = load_file(str(whole / "model" / "model.safetensors"))
    b = load_file(str(cut / "model" / "model.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert (cut / "log.jsonl").read_bytes().startswith(logged_before)
    assert losses(cut) == losses(whole)
