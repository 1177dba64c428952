"""Group 1 of issue 13, training: `zoo train` never loses a run.

Every case runs `python -m zoo_core train` as a subprocess on a copy of one finished tiny run
(a VAE with 16 hidden units, batches of 16, 6 steps, checkpoints at steps 2, 4 and 6, all kept)
and checks the exit code, the message, and that no checkpoint or log line was lost:

- ``latest.json`` missing or damaged: resume from the newest checkpoint that verifies;
- the newest checkpoint damaged, or cut short by a kill mid-write: fall back to the previous one,
  saying so, and end bit for bit where the uninterrupted run ended (same machine, same process
  count: exact resume);
- no checkpoint verifies: refuse in one sentence, changing nothing;
- checkpoints present without ``--resume`` / ``--restart``: refuse in one sentence, changing nothing;
- ``--restart``: the old run's files are moved, intact, into ``previous-<time>/``;
- ``log.jsonl`` is only ever appended to (even after a line cut short by a kill).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from conftest import assert_clean_failure, run_zoo, snapshot_tree, zoo_env
from zoo_core._errors import ZooError
from zoo_core.training import checkpoint as ckpt
from zoo_core.training.logging import read_log

TINY = [
    "--config", "hidden_dim=16", "--batch-size", "16", "--seed", "3",
    "--log-every", "1", "--sample-every", "1000", "--checkpoint-every", "2", "--keep", "10", "--no-eval",
]  # fmt: skip
STEP = {n: f"checkpoints/step-{n:07d}" for n in (2, 4, 6, 8)}

Zoo = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="module")
def zoo(tmp_path_factory: pytest.TempPathFactory) -> Zoo:
    env = zoo_env(tmp_path_factory.mktemp("home"), OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")

    def run(out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
        return run_zoo("train", "vae", "--dataset", "mnist5k", "--out", str(out), *TINY, *extra, env=env)

    return run


@pytest.fixture(scope="module")
def finished(zoo: Zoo, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("finished") / "run"
    done = zoo(out, "--steps", "6")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == [
        "latest.json", "step-0000002", "step-0000004", "step-0000006"
    ]  # fmt: skip
    return out


@pytest.fixture
def run(finished: Path, tmp_path: Path) -> Path:
    """A copy of the finished run to break."""
    shutil.copytree(finished, tmp_path / "run")
    return tmp_path / "run"


def flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def snapshot(run: Path, *names: str) -> dict[str, tuple[int, str]]:
    return {name: snapshot_tree(run / name) for name in names}


def losses(run: Path) -> list[tuple[int, float]]:
    return [(r["step"], r["loss"]) for r in read_log(run / "log.jsonl")]


def same_weights(a: Path, b: Path) -> bool:
    x, y = load_file(str(a)), load_file(str(b))
    return x.keys() == y.keys() and all(torch.equal(x[k], y[k]) for k in x)  # same machine: bit for bit


# -- --resume -------------------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_resume_without_latest_json_continues_from_the_newest_checkpoint(zoo: Zoo, run: Path) -> None:
    (run / "checkpoints" / "latest.json").unlink()
    kept, log_before = snapshot(run, STEP[2], STEP[4], STEP[6]), (run / "log.jsonl").read_text()

    done = zoo(run, "--steps", "8", "--resume")
    assert done.returncode == 0, done.stderr
    assert "latest.json is missing; resuming from the newest checkpoint that verifies" in done.stderr
    assert f"Resuming vae from step 6 ({run / STEP[6]})" in done.stderr
    assert snapshot(run, STEP[2], STEP[4], STEP[6]) == kept  # nothing pruned, nothing rewritten
    ckpt.verify_checkpoint(run / STEP[8])
    assert json.loads((run / "checkpoints" / "latest.json").read_text())["checkpoint"] == "step-0000008"
    assert (run / "log.jsonl").read_text().startswith(log_before)  # appended, not rewritten
    assert [step for step, _ in losses(run)] == list(range(1, 9))


@pytest.mark.slow
def test_resume_with_a_damaged_latest_json_after_a_kill_mid_log_line(zoo: Zoo, run: Path) -> None:
    """Killed while logging step 6 (before its checkpoint), then latest.json damaged: back to step 4, log kept."""
    shutil.rmtree(run / STEP[6]), shutil.rmtree(run / "model")
    (run / "checkpoints" / "latest.json").write_bytes(b'{"step": 4, "checkpo')
    log = run / "log.jsonl"
    log.write_text(log.read_text()[:-40])  # step 6's line cut short
    kept, log_before = snapshot(run, STEP[2], STEP[4]), log.read_text()

    done = zoo(run, "--steps", "8", "--resume")
    assert done.returncode == 0, done.stderr
    assert "latest.json is damaged or names an incomplete checkpoint; resuming from the newest" in done.stderr
    assert "Resuming vae from step 4" in done.stderr
    assert snapshot(run, STEP[2], STEP[4]) == kept
    text = log.read_text()
    assert text.startswith(log_before + "\n")  # the cut line is kept and ended; the new lines start on their own
    assert [step for step, _ in losses(run)] == list(range(1, 9))


@pytest.mark.slow
def test_a_damaged_newest_checkpoint_falls_back_to_the_previous_one(zoo: Zoo, run: Path, finished: Path) -> None:
    flip_a_byte(run / STEP[6] / "model.safetensors")  # latest.json still names it
    kept, log_before = snapshot(run, STEP[2], STEP[4]), (run / "log.jsonl").read_text()

    done = zoo(run, "--steps", "6", "--resume")
    assert done.returncode == 0, done.stderr
    assert "Skipping step-0000006, which does not verify" in done.stderr
    assert "model.safetensors does not match the sha256" in done.stderr
    assert "Resuming vae from step 4" in done.stderr
    assert snapshot(run, STEP[2], STEP[4]) == kept
    ckpt.verify_checkpoint(run / STEP[6])  # written again, whole
    # steps 5 and 6 done again from step 4's checkpoint end where the uninterrupted run ended
    assert same_weights(run / "model" / "model.safetensors", finished / "model" / "model.safetensors")
    assert (run / "log.jsonl").read_text().startswith(log_before)
    assert losses(run) == losses(finished)


@pytest.mark.slow
def test_a_checkpoint_cut_short_by_a_kill_is_skipped_when_latest_json_is_lost(zoo: Zoo, run: Path) -> None:
    """What SIGKILL during the write of step 8 leaves (atomic writes: whole files, a temporary one, no state.json)."""
    partial = run / STEP[8]
    partial.mkdir()
    shutil.copy(run / STEP[6] / "model.safetensors", partial / "model.safetensors")
    (partial / ".optimizers.safetensors.k1ll3d.tmp").write_bytes(
        (run / STEP[6] / "optimizers.safetensors").read_bytes()[:100]
    )
    (run / "checkpoints" / "latest.json").unlink()
    kept = snapshot(run, STEP[2], STEP[4], STEP[6])

    done = zoo(run, "--steps", "8", "--resume")
    assert done.returncode == 0, done.stderr
    assert "Skipping step-0000008, which does not verify" in done.stderr and "state.json" in done.stderr
    assert "Resuming vae from step 6" in done.stderr
    assert snapshot(run, STEP[2], STEP[4], STEP[6]) == kept
    ckpt.verify_checkpoint(partial)
    assert not list(partial.glob(".*.tmp"))


@pytest.mark.slow
def test_no_checkpoint_that_verifies_is_refused_and_nothing_changes(zoo: Zoo, run: Path) -> None:
    for n in (2, 4, 6):
        flip_a_byte(run / STEP[n] / "optimizers.safetensors")
    before = snapshot_tree(run)
    done = zoo(run, "--steps", "8", "--resume")
    message = assert_clean_failure(done, 1, mentions="--restart")
    assert message.startswith(f"None of the 3 checkpoint(s) in {run / 'checkpoints'} verifies")
    assert snapshot_tree(run) == before


@pytest.mark.slow
def test_resume_in_a_folder_without_checkpoints_starts_at_step_0_and_keeps_the_log(
    zoo: Zoo, run: Path, finished: Path
) -> None:
    """A run killed before its first checkpoint left only log lines: --resume starts over, after them."""
    shutil.rmtree(run / "checkpoints"), shutil.rmtree(run / "model")
    log_before = (run / "log.jsonl").read_text()
    done = zoo(run, "--steps", "6", "--resume")
    assert done.returncode == 0, done.stderr
    assert f"No checkpoint in {run}; starting from step 0." in done.stderr
    assert (run / "log.jsonl").read_text().startswith(log_before)
    assert '{"event": "resume", "from_step": 0' in (run / "log.jsonl").read_text()
    assert losses(run) == losses(finished)


# -- neither flag, --restart ----------------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("index", ["intact", "missing"])
def test_checkpoints_without_resume_or_restart_are_refused(zoo: Zoo, run: Path, index: str) -> None:
    if index == "missing":
        (run / "checkpoints" / "latest.json").unlink()
    before = snapshot_tree(run)
    done = zoo(run, "--steps", "8")
    message = assert_clean_failure(done, 1, mentions="--resume")
    assert message.startswith(f"{run} already holds a 'vae' run (step 6); pass --resume to continue it or --restart")
    assert snapshot_tree(run) == before


@pytest.mark.slow
def test_restart_moves_the_old_run_aside_intact(zoo: Zoo, run: Path) -> None:
    before = snapshot_tree(run)
    typo = zoo(run, "--steps", "2", "--restart", "--config", "hiden_dim=3")  # refused before anything moves
    assert typo.returncode in (1, 2) and "hiden_dim" in typo.stderr and "Traceback" not in typo.stderr
    assert snapshot_tree(run) == before and not list(run.glob("previous-*"))
    done = zoo(run, "--steps", "2", "--restart")
    assert done.returncode == 0, done.stderr
    (aside,) = run.glob("previous-*")
    assert "Restarting: moved the earlier run's checkpoints, log.jsonl" in done.stderr and str(aside) in done.stderr
    assert snapshot_tree(aside) == before  # every file of the old run, unchanged
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["latest.json", "step-0000002"]
    assert [json.loads(line)["step"] for line in (run / "log.jsonl").read_text().splitlines()] == [1, 2]


@pytest.mark.slow
def test_resume_and_restart_together_are_a_usage_error(zoo: Zoo, run: Path) -> None:
    before = snapshot_tree(run)
    assert_clean_failure(zoo(run, "--resume", "--restart"), 2, mentions="--resume and --restart exclude each other")
    assert snapshot_tree(run) == before


# -- writing: prune only after the new checkpoint verifies ------------------------------------------------------------
def test_a_checkpoint_that_does_not_verify_after_its_write_prunes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = torch.nn.Linear(3, 2)
    adam = torch.optim.Adam(model.parameters())

    def save(step: int) -> Path:
        return ckpt.save_checkpoint(
            tmp_path, step, model=model, optimizers={"adam": adam}, schedulers={}, extra={},
            rng=[ckpt.get_rng_state()], state={"architecture": "linear"}, keep=1,
        )  # fmt: skip

    save(1)
    kept = snapshot_tree(tmp_path)
    real_write = ckpt.atomic_write_bytes

    def bad_disk(path: Path, data: bytes) -> None:  # a disk that returns other bytes than it was given
        real_write(path, data[:-1] + bytes([data[-1] ^ 1]) if Path(path).name == "model.safetensors" else data)

    monkeypatch.setattr(ckpt, "atomic_write_bytes", bad_disk)
    with pytest.raises(ZooError, match=r"model\.safetensors does not match the sha256"):
        save(2)
    after = snapshot_tree(tmp_path)
    assert {k: v for k, v in after.items() if not k.startswith("checkpoints/step-0000002")} == kept  # step 1 kept
    assert ckpt.find_resume_checkpoint(tmp_path).step == 1  # latest.json untouched: step 1 is still what resumes
    monkeypatch.setattr(ckpt, "atomic_write_bytes", real_write)
    save(2)  # a sound write: now, and only now, step 1 goes (keep=1)
    assert [p.name for p in ckpt.step_folders(tmp_path)] == ["step-0000002"]
