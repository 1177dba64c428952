"""Exact resume with a real process and a real SIGKILL.

`python -m zoo_core train vae ...` is started, killed with SIGKILL once its log shows a step
past the first checkpoint (so mid-epoch, after a checkpoint, with an unknown amount of work
lost), then continued with `--resume`. Its final weights, optimiser state and log must equal
those of an uninterrupted run of the same steps, bit for bit: on the CPU in float32, nothing
in the engine depends on when a process started (data order comes from (seed, epoch), the
random generators are restored from the checkpoint).

Both runs use one thread (OMP_NUM_THREADS=1): the result of a matmul may depend on the thread
count, and the machines that run the tests are shared.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from conftest import zoo_env

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
    return [(r["step"], r["loss"]) for r in map(json.loads, (out / "log.jsonl").read_text().splitlines())]


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

    resumed = subprocess.run([*train_args(cut), "--resume"], env=env, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert f"Resuming vae from step {latest['step']}" in resumed.stderr

    a, b = load_file(str(whole / "model" / "model.safetensors")), load_file(str(cut / "model" / "model.safetensors"))
    assert a.keys() == b.keys()
    for key in a:
        assert torch.allclose(a[key], b[key], rtol=0, atol=0), key  # allclose with no tolerance: bit-equal
    final = f"checkpoints/step-{STEPS:07d}"
    for name in ("optimizers.safetensors", "rng.safetensors"):
        x, y = load_file(str(whole / final / name)), load_file(str(cut / final / name))
        assert all(torch.equal(x[k], y[k]) for k in x), name
    assert losses(cut) == losses(whole)  # every logged step, the lost ones included, has the same loss
    assert [s for s, _ in losses(cut)] == list(range(1, STEPS + 1))
