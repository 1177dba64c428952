"""DistributedDataParallel on the CPU: `torchrun --nproc_per_node 2 -m zoo_core train ...` (gloo).

Two processes with a global batch of 256 (128 each) must train the VAE as one process with a
batch of 256 does. The run crosses an epoch boundary, so it includes the uneven last batch
(148 digits, 74 per process).

The tolerance: the two runs add up the same per-image gradients in a different order (one
256-row matmul against two 128-row ones summed by all-reduce), which changes float32 results
by about 1e-7 relative; Adam's normalised steps of lr = 1e-3 keep those differences below
1e-6 over 24 steps (measured: 5e-8). Rarely, a rounding difference flips a ReLU whose input is
~0 for one digit; the few weights it feeds then get a step of up to ±lr in one run and not
in the other (measured once: one weight of 50,000 off by 1.9e-3 after 80 steps). So: every
weight but 0.01 % agrees within 1e-5, and none is further than 10 Adam steps (1e-2) apart.
A run that is *not* equivalent (one process, batch 128) breaks the first rule for most weights,
so the tolerance does tell equal runs from different ones.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from conftest import zoo_env

STEPS, BATCH = 24, 256  # 18 batches per epoch of 4,500 digits; the 18th has 148


def train_args(out: Path, batch: int) -> list[str]:
    return [
        "-m", "zoo_core", "train", "vae", "--dataset", "mnist5k", "--out", str(out), "--steps", str(STEPS),
        "--batch-size", str(batch), "--config", "hidden_dim=64", "--log-every", "4", "--checkpoint-every", "12",
        "--sample-every", "12", "--no-eval", "--seed", "5",
    ]  # fmt: skip


def differences(a: Path, b: Path) -> torch.Tensor:
    x, y = load_file(str(a / "model" / "model.safetensors")), load_file(str(b / "model" / "model.safetensors"))
    assert x.keys() == y.keys()
    return torch.cat([(x[k] - y[k]).abs().flatten() for k in sorted(x)])


def equivalent(diff: torch.Tensor) -> bool:
    return bool((diff > 1e-5).float().mean() <= 1e-4 and diff.max() <= 1e-2)


def log(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]


@pytest.mark.slow
def test_two_gloo_processes_equal_one_process_with_the_same_global_batch(tmp_path: Path) -> None:
    env = zoo_env(tmp_path / "hf-home", OMP_NUM_THREADS="1")
    ddp, single, half = tmp_path / "ddp", tmp_path / "single", tmp_path / "half"
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    done = subprocess.run([*launcher, *train_args(ddp, BATCH)], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    for out, batch in ((single, BATCH), (half, BATCH // 2)):
        one = subprocess.run(
            [sys.executable, *train_args(out, batch)], env=env, capture_output=True, text=True, timeout=300
        )
        assert one.returncode == 0, one.stderr

    diff = differences(ddp, single)
    assert equivalent(diff), f"max {diff.max():.3g}, {(diff > 1e-5).sum()} weights off by more than 1e-5"
    assert not equivalent(differences(half, single))  # the tolerance tells another batch size apart

    # every logged step: the mean loss over the global batch (averaged over the two processes) is the same
    a, b = log(ddp), log(single)
    assert [r["step"] for r in a] == [r["step"] for r in b] == list(range(4, STEPS + 1, 4))  # rank 0 logged once
    for x, y in zip(a, b, strict=True):
        assert x["loss"] == pytest.approx(y["loss"], rel=1e-5)

    # rank 0 alone wrote checkpoints, grids and the Hub folder; the checkpoint holds both processes' generators
    state = json.loads((ddp / "checkpoints" / f"step-{STEPS:07d}" / "state.json").read_text())
    assert state["world_size"] == 2 and state["rng_ranks"] == 2
    rng = load_file(str(ddp / "checkpoints" / f"step-{STEPS:07d}" / "rng.safetensors"))
    assert {k.split("/")[0] for k in rng} == {"rank0", "rank1"}
    assert sorted(p.name for p in (ddp / "samples").iterdir()) == ["step-0000012.png", "step-0000024.png"]
    assert done.stdout.count("Trained vae on mnist5k") == 1 and "2 process(es)" in done.stdout
    card = (ddp / "model" / "README.md").read_text()
    assert "torchrun --nproc_per_node 2 -m zoo_core train vae --dataset mnist5k" in card
