"""`zoo train` in process: the engine against a hand-written loop, checkpoints without pickle,
resume of a GAN-style step (two optimisers, a scheduler, an image pool), logs, sample grids,
the Hub folder and the clear errors.

The toy GAN below is registered through the public hooks, as a plugin would: it exercises the
parts of the TrainingStep contract the VAE does not (alternating D / G updates, a per-step
scheduler, extra state drawn with Python's and NumPy's generators).
"""

from __future__ import annotations

import itertools
import json
import math
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from click.testing import CliRunner
from safetensors.torch import load_file
from torch import nn

import zoo_core as zoo
from zoo_core._catalog import reset_catalog
from zoo_core._plugins import get_plugin_manager
from zoo_core.cli import cli
from zoo_core.data import load_dataset
from zoo_core.modeling import ModelConfig, UnconditionalGenerator, ZooModel
from zoo_core.training import StepParams, TrainingStep, train
from zoo_core.training.batches import epoch_permutation, global_batches, shard
from zoo_core.training.checkpoint import decode, encode, latest_checkpoint, load_checkpoint
from zoo_core.training.logging import read_log

REPO_ROOT = Path(__file__).resolve().parents[1]
QUIET = {"progress": False, "verbose": False}


# -- a toy GAN, registered like a plugin's architecture -------------------------------------------
@dataclass
class ToyGANConfig(ModelConfig):
    image_size: int = 28
    channels: int = 1
    latent_dim: int = 8
    hidden: int = 32


class ToyGAN(UnconditionalGenerator, ZooModel):
    architecture = "toygan"
    config_class = ToyGANConfig

    def __init__(self, config: ToyGANConfig) -> None:
        super().__init__(config)
        pixels = config.channels * config.image_size**2
        self.generator = nn.Sequential(
            nn.Linear(config.latent_dim, config.hidden), nn.ReLU(), nn.Linear(config.hidden, pixels), nn.Sigmoid()
        )
        self.discriminator = nn.Sequential(
            nn.Linear(pixels, config.hidden), nn.LeakyReLU(0.2), nn.Linear(config.hidden, 1)
        )

    def sample_batch(self, n: int, generator: torch.Generator) -> torch.Tensor:
        c = self.config
        z = torch.randn(n, c.latent_dim, generator=generator)
        return self.generator(z).reshape(n, c.channels, c.image_size, c.image_size)


@dataclass
class ToyGANParams(StepParams):
    lr: float = 2e-4
    pool_size: int = 8


class ToyGANStep(TrainingStep):
    """Alternating D then G updates (BCE), a StepLR on G every 5 steps, an image pool as in CycleGAN."""

    params_class = ToyGANParams
    default_batch_size = 32
    scheduler_interval = "step"
    crash_at: int | None = None  # a test sets it to stop a run as a crash would

    def __init__(self, model: ToyGAN, train_config: Any, world_size: int = 1) -> None:
        super().__init__(model, train_config, world_size)
        self.pool: list[torch.Tensor] = []
        self.swaps = 0

    def networks(self) -> dict[str, nn.Module]:
        return {"g": self.model.generator, "d": self.model.discriminator}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        adam = dict(lr=self.params.lr, betas=(0.5, 0.999))
        return {
            "g": torch.optim.Adam(self.model.generator.parameters(), **adam),
            "d": torch.optim.Adam(self.model.discriminator.parameters(), **adam),
        }

    def schedulers(self) -> dict[str, Any]:
        return {"g": torch.optim.lr_scheduler.StepLR(self.opts["g"], step_size=5, gamma=0.5)}

    def _query_pool(self, images: torch.Tensor) -> torch.Tensor:
        out = []
        for image in images:
            if len(self.pool) < self.params.pool_size:
                self.pool.append(image.clone())
                out.append(image)
            elif random.random() > 0.5:  # Python's generator, as CycleGAN's ImagePool
                i = int(np.random.randint(0, self.params.pool_size))  # and NumPy's
                out.append(self.pool[i].clone())
                self.pool[i] = image.clone()
                self.swaps += 1
            else:
                out.append(image)
        return torch.stack(out)

    def train_step(self, batch: dict[str, Any], step: int) -> dict[str, Any]:
        if self.crash_at is not None and step == self.crash_at:
            raise RuntimeError("simulated crash")
        real = batch["image"].flatten(1)
        z = self.global_randn(self.model.config.latent_dim)
        with self.autocast():
            fake = self.nets["g"](z)
        d_opt, g_opt = self.opts["d"], self.opts["g"]
        d_opt.zero_grad()
        logits = self.nets["d"](torch.cat([real, self._query_pool(fake.detach())]))
        labels = torch.cat([torch.ones(len(real), 1), torch.zeros(len(real), 1)])
        loss_d = F.binary_cross_entropy_with_logits(logits.float(), labels)
        self.global_loss(loss_d).backward()
        d_opt.step()
        g_opt.zero_grad()
        loss_g = F.binary_cross_entropy_with_logits(self.nets["d"](fake).float(), torch.ones(len(real), 1))
        self.global_loss(loss_g).backward()
        g_opt.step()
        return {"loss_d": loss_d.detach(), "loss_g": loss_g.item()}

    def extra_state(self) -> dict[str, Any]:
        return {"pool": list(self.pool), "swaps": self.swaps}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        self.pool = list(state["pool"])
        self.swaps = state["swaps"]


class ToyGANPlugin:
    @zoo.hookimpl
    def register_architectures(self, register):
        register(
            zoo.Architecture(
                "toygan", model=ToyGAN, tasks=("unconditional",), paper="https://arxiv.org/abs/1406.2661",
                training_step=ToyGANStep,
            )
        )  # fmt: skip


@pytest.fixture
def toygan() -> None:
    get_plugin_manager().register(ToyGANPlugin(), name="toygan-plugin")
    reset_catalog()
    yield
    ToyGANStep.crash_at = None


def weights(path: Path) -> dict[str, torch.Tensor]:
    return load_file(str(path))


def assert_same_tensors(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def log_lines(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]


def without_times(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in line.items() if k not in ("time", "elapsed_s", "images_per_s")} for line in lines]


# -- the engine is the reference loop ------------------------------------------------------------
def test_engine_vae_equals_a_hand_written_reference_loop(tmp_path: Path) -> None:
    """The VAE step under the engine = pytorch/examples' loop (model(x), loss_function, Adam), bit for bit."""
    seed, steps, batch = 3, 45, 128  # 45 steps cross the epoch boundary (36 batches of 4,500 digits)
    result = train(
        "vae", "mnist5k", tmp_path / "run", steps=steps, seed=seed, config={"hidden_dim": 64},
        evaluate=False, checkpoint_every=1000, sample_every=1000, **QUIET,
    )  # fmt: skip
    from zoo_vae.model import VAE, VAEConfig, loss_function

    torch.manual_seed(seed)
    model = VAE(VAEConfig(hidden_dim=64))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    data = load_dataset("mnist5k", split="train").tensors()
    done = 0
    for epoch in itertools.count():
        for index in epoch_permutation(len(data), seed, epoch).split(batch):
            if done == steps:
                break
            x = data[index]
            optimizer.zero_grad()
            recon, mu, logvar = model(x)
            loss_function(recon, x, mu, logvar).backward()
            optimizer.step()
            done += 1
        if done == steps:
            break
    assert_same_tensors(weights(result.model_dir / "model.safetensors"), dict(model.state_dict()))


def test_global_batches_shard_into_the_same_rows() -> None:
    """Rank r takes rows r::N of each global batch: together the ranks see exactly the global batch."""
    batches = global_batches(4500, 128, seed=0, epoch=2, world_size=2)
    assert [len(b) for b in batches] == [128] * 35 + [20]
    assert torch.equal(torch.cat(batches).sort().values, torch.arange(4500))
    halves = [shard(batches[-1], r, 2) for r in range(2)]
    assert sorted(torch.cat(halves).tolist()) == sorted(batches[-1].tolist())
    assert not torch.equal(epoch_permutation(100, 0, 1), epoch_permutation(100, 1, 0))  # no seed + epoch clash
    assert len(global_batches(129, 128, seed=0, epoch=0, world_size=2)) == 1  # a last batch of 1 < 2 is dropped


# -- checkpoints ----------------------------------------------------------------------------------
def test_checkpoint_files_are_safetensors_and_json_only(toygan, tmp_path: Path) -> None:
    out = tmp_path / "run"
    train("toygan", "mnist5k", out, steps=7, checkpoint_every=3, keep=2, evaluate=False, **QUIET)
    root = out / "checkpoints"
    assert sorted(p.name for p in root.iterdir()) == ["latest.json", "step-0000006", "step-0000007"]
    assert json.loads((root / "latest.json").read_text()) == {"step": 7, "checkpoint": "step-0000007"}
    for folder in (root / "step-0000006", root / "step-0000007"):
        names = sorted(p.name for p in folder.iterdir())
        assert names == [
            "extra.safetensors", "model.safetensors", "optimizers.safetensors", "rng.safetensors", "state.json"
        ]  # fmt: skip
        for path in folder.iterdir():
            data = path.read_bytes()
            assert not data.startswith(b"PK"), f"{path} is a zip (torch.save)"
            if path.suffix == ".json":
                json.loads(data)
            else:  # safetensors: 8-byte header length, a JSON header, raw tensor bytes; pickle would not parse
                header_len = int.from_bytes(data[:8], "little")
                header = json.loads(data[8 : 8 + header_len])
                assert all(
                    k == "__metadata__" or set(v) == {"dtype", "shape", "data_offsets"} for k, v in header.items()
                )
                load_file(str(path))
    ckpt = load_checkpoint(latest_checkpoint(out))
    state = ckpt.state
    assert state["architecture"] == "toygan" and state["step"] == 7 and state["world_size"] == 1
    assert state["train_config"]["seed"] == 0 and state["train_config"]["batch_size"] == 32
    # the optimiser state goes back into a fresh optimiser unchanged
    model = ToyGAN(ToyGANConfig())
    model.load_state_dict(ckpt.model_state())
    fresh = torch.optim.Adam(model.discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    fresh.load_state_dict(ckpt.optimizer_state("d"))
    again = fresh.state_dict()
    assert again["param_groups"][0]["betas"] == (0.5, 0.999)  # tuples survive JSON
    original = ckpt.optimizer_state("d")
    for pid, entry in original["state"].items():
        for key, value in entry.items():
            assert torch.equal(again["state"][pid][key], value)
    assert ckpt.scheduler_state("g")["last_epoch"] == 7
    extra = ckpt.extra_state()
    assert len(extra["pool"]) == 8 and all(t.shape == (784,) for t in extra["pool"])
    assert set(ckpt.rng_state(0)) == {"torch", "python", "numpy"}


def test_checkpoint_codec_round_trip_and_refuses_what_needs_pickle() -> None:
    value = {
        "state": {0: {"step": torch.tensor(3.0), "exp": torch.arange(4)}, 7: {"n": 2}},
        "groups": [{"betas": (0.5, 0.999), "params": [0, 7], "lr": 1e-3, "foreach": None, "inf": math.inf}],
        "$odd": "key",
    }
    tensors: dict[str, torch.Tensor] = {}
    skeleton = encode(value, "opt", tensors)
    json.dumps(skeleton, allow_nan=False)  # pure JSON, no NaN / Infinity literals
    back = decode(json.loads(json.dumps(skeleton)), tensors)
    assert back["groups"] == value["groups"] and back["$odd"] == "key"
    assert torch.equal(back["state"][0]["exp"], value["state"][0]["exp"]) and back["state"][7] == {"n": 2}
    with pytest.raises(zoo.ZooError, match="never use pickle"):
        encode({"lr_lambdas": [lambda epoch: 0.5]}, "scheduler")


# -- exact resume of a GAN-style step, in process ------------------------------------------------
def test_gan_step_resumed_after_a_crash_equals_an_uninterrupted_run(toygan, tmp_path: Path) -> None:
    options = dict(steps=24, checkpoint_every=10, log_every=2, sample_every=1000, evaluate=False, **QUIET)
    whole = train("toygan", "mnist5k", tmp_path / "whole", **options)

    ToyGANStep.crash_at = 17  # after the checkpoint of step 10, before the one of step 20
    with pytest.raises(RuntimeError, match="simulated crash"):
        train("toygan", "mnist5k", tmp_path / "cut", **options)
    assert latest_checkpoint(tmp_path / "cut").name == "step-0000010"
    logged_before = (tmp_path / "cut" / "log.jsonl").read_text()
    ToyGANStep.crash_at = None
    random.seed(123), np.random.seed(123), torch.manual_seed(123)  # whatever the process drew meanwhile
    resumed = train("toygan", "mnist5k", tmp_path / "cut", resume=True, **options)

    assert resumed.step == whole.step == 24
    assert_same_tensors(
        weights(resumed.model_dir / "model.safetensors"), weights(whole.model_dir / "model.safetensors")
    )
    a = load_checkpoint(latest_checkpoint(tmp_path / "whole"))
    b = load_checkpoint(latest_checkpoint(tmp_path / "cut"))
    for name in ("optimizers.safetensors", "extra.safetensors", "rng.safetensors"):
        assert_same_tensors(a.tensors[name], b.tensors[name])
    assert a.state["extra"] == b.state["extra"] and a.state["schedulers"] == b.state["schedulers"]
    # the log is appended to, never rewritten; read back, it is one run: the steps past the checkpoint were
    # logged again after a "resume" line, with the same numbers
    assert (tmp_path / "cut" / "log.jsonl").read_text().startswith(logged_before)
    assert without_times(read_log(tmp_path / "cut" / "log.jsonl")) == without_times(log_lines(tmp_path / "whole"))
    assert [line["step"] for line in read_log(tmp_path / "cut" / "log.jsonl")] == list(range(2, 25, 2))


def test_resuming_a_finished_run_with_more_steps_continues_it(toygan, tmp_path: Path) -> None:
    options = dict(checkpoint_every=1000, sample_every=1000, evaluate=False, **QUIET)
    whole = train("toygan", "mnist5k", tmp_path / "whole", steps=12, **options)
    train("toygan", "mnist5k", tmp_path / "two", steps=5, **options)
    longer = train("toygan", "mnist5k", tmp_path / "two", steps=12, resume=True, **options)
    assert_same_tensors(weights(longer.model_dir / "model.safetensors"), weights(whole.model_dir / "model.safetensors"))


def test_a_key_logged_in_one_phase_only_is_averaged_over_its_own_steps(toygan, tmp_path: Path, monkeypatch) -> None:
    """A two-phase step (AnoGAN, IcGAN: the GAN, then the encoders) logs each phase's losses over that phase's steps,
    also across a resume in the middle of a log interval."""

    def two_phases(self: ToyGANStep, batch: dict[str, Any], step: int) -> dict[str, Any]:
        if step == self.crash_at:
            raise RuntimeError("simulated crash")
        return {"first": 1.0} if step < 3 else {"second": float(step)}

    monkeypatch.setattr(ToyGANStep, "train_step", two_phases)
    options = dict(log_every=5, sample_every=1000, evaluate=False, **QUIET)
    train("toygan", "mnist5k", tmp_path / "whole", steps=5, checkpoint_every=1000, **options)
    [line] = log_lines(tmp_path / "whole")
    assert line["first"] == 1.0 and line["second"] == 3.5  # (3 + 4) / 2, not diluted by the other phase's steps
    ToyGANStep.crash_at = 4  # after the checkpoint of step 4, in the middle of the first log interval
    with pytest.raises(RuntimeError, match="simulated crash"):
        train("toygan", "mnist5k", tmp_path / "cut", steps=5, checkpoint_every=4, **options)
    ToyGANStep.crash_at = None
    train("toygan", "mnist5k", tmp_path / "cut", steps=5, checkpoint_every=4, resume=True, **options)
    assert without_times(log_lines(tmp_path / "cut")) == without_times([line])


# -- what a user sees -----------------------------------------------------------------------------
def test_cli_writes_jsonl_sample_grids_checkpoints_and_a_hub_folder(tmp_path: Path) -> None:
    from PIL import Image

    out = tmp_path / "run"
    args = [
        "train", "vae", "--dataset", "mnist5k", "--out", str(out), "--steps", "12", "--config", "hidden_dim=32",
        "--log-every", "4", "--sample-every", "5", "--checkpoint-every", "6", "--keep", "1", "--no-eval",
        "--name", "vae.tiny", "--repo-id", "me/vae-tiny",
    ]  # fmt: skip
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "Trained vae on mnist5k (train): 12 steps" in result.output
    assert "zoo registry add vae.tiny" in result.output and "zoo push" in result.output

    lines = log_lines(out)
    assert [line["step"] for line in lines] == [4, 8, 12]
    for line in lines:
        assert {"step", "epoch", "loss", "lr/adam", "images_per_s", "elapsed_s", "time"} <= set(line)
        assert line["lr/adam"] == 1e-3 and line["images_per_s"] > 0 and 0 < line["loss"] < 600
    assert lines[-1]["epoch"] == round(12 / 36, 4)

    grids = sorted(p.name for p in (out / "samples").iterdir())
    assert grids == ["step-0000005.png", "step-0000010.png"]
    assert Image.open(out / "samples" / "step-0000005.png").size == (8 * 30 + 2, 8 * 30 + 2)  # 64 digits, 8x8

    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["latest.json", "step-0000012"]  # --keep 1
    model_dir = out / "model"
    assert sorted(p.name for p in model_dir.iterdir()) == [
        "README.md",
        "config.json",
        "model.safetensors",
        "samples.png",
    ]
    card = (model_dir / "README.md").read_text()
    assert "zoo train vae --dataset mnist5k" in card and "--steps 12" in card
    assert (
        "Seed: 0" in card and "12 steps (0.33 epochs of the train split" in card and "arxiv.org/abs/1312.6114" in card
    )
    entry = json.loads((out / "zoo-entry.json").read_text())
    assert entry["name"] == "vae.tiny" and entry["repo_id"] == "me/vae-tiny"
    assert entry["entry"]["made_by"]["seed"] == 0 and entry["entry"]["config"]["hidden_dim"] == 32
    loaded = zoo.load(str(model_dir))
    assert_same_tensors(dict(loaded.state_dict()), load_checkpoint(latest_checkpoint(out)).model_state())


@pytest.mark.slow
def test_final_summary_evaluates_the_task_metrics_into_the_card(tmp_path: Path, monkeypatch) -> None:
    """The VAE's metrics (ELBO, FID-MNIST) end in the summary and, as model-index, in the card's YAML."""
    from huggingface_hub import ModelCard

    monkeypatch.setenv("ZOO_HUB_DIR", str(REPO_ROOT / "hub"))  # FID-MNIST's classifier, offline
    result = train("vae", "mnist5k", tmp_path / "run", steps=10, config={"hidden_dim": 32}, eval_samples=200, **QUIET)
    names = [m["name"] for m in result.metrics]
    assert "elbo" in names, result.metrics
    elbo = next(m for m in result.metrics if m["name"] == "elbo")
    assert elbo["dataset"] == "mnist5k" and elbo["split"] == "test" and elbo["value"] < 0
    card = ModelCard.load(result.model_dir / "README.md")
    assert card.data.library_name == "zoo" and card.data.pipeline_tag == "unconditional-image-generation"
    assert {r.metric_type for r in card.data.eval_results} == set(names)
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["metrics"] == result.metrics and summary["steps"] == 10


def test_unregistered_metric_is_skipped_with_a_warning(tmp_path: Path, monkeypatch, capsys) -> None:
    from zoo_vae.training import VAETrainingStep

    monkeypatch.setattr(VAETrainingStep, "eval_metrics", ("no-such-metric",))
    result = train("vae", "mnist5k", tmp_path / "run", steps=2, config={"hidden_dim": 16}, **QUIET)
    assert result.metrics == [] and result.model_dir.is_dir()
    assert "the metric 'no-such-metric' is not registered (yet); skipped" in capsys.readouterr().err


def test_tensorboard_events_when_tensorboard_is_installed(tmp_path: Path, monkeypatch) -> None:
    """With tensorboard importable, every logged number also goes to a SummaryWriter in OUT/tensorboard."""
    import sys
    import types

    scalars: list[tuple[str, float, int]] = []

    class FakeWriter:
        def __init__(self, log_dir: str) -> None:
            self.log_dir = log_dir

        def add_scalar(self, tag: str, value: float, step: int) -> None:
            scalars.append((tag, value, step))

        def flush(self) -> None:
            pass

        def close(self) -> None:
            pass

    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", types.SimpleNamespace(SummaryWriter=FakeWriter))
    train("vae", "mnist5k", tmp_path / "run", steps=4, log_every=2, config={"hidden_dim": 16}, evaluate=False, **QUIET)
    assert [(tag, step) for tag, _, step in scalars if tag == "loss"] == [("loss", 2), ("loss", 4)]
    assert {tag for tag, _, _ in scalars} == {"epoch", "loss", "lr/adam", "images_per_s", "elapsed_s"}


# -- clear errors ---------------------------------------------------------------------------------
def _train_cli(tmp_path: Path, *extra: str) -> Any:
    args = ["train", "vae", "--dataset", "mnist5k", "--out", str(tmp_path / "run"), "--steps", "2", *extra]
    return CliRunner().invoke(cli, args)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--config", "channels=3"), "The dataset 'mnist5k' has 1-channel images but this vae takes 3 channel(s)"),
        (("--config", "image_size=32"), "The dataset 'mnist5k' has 28x28 images but this vae takes 32x32"),
        (
            ("--config", "hidden=3"),
            "Unknown config key 'hidden' for architecture 'vae' (did you mean 'hidden_dim'?); valid keys: channels,",
        ),
        (("--train-config", "learning_rate=3"), "Unknown training config key 'learning_rate'"),
        (("--dataset", "mnist6k"), "Unknown dataset 'mnist6k': did you mean mnist5k"),
    ],
)
def test_errors_are_one_sentence_exit_1(tmp_path: Path, extra: tuple[str, ...], message: str) -> None:
    result = _train_cli(tmp_path, *extra)
    assert result.exit_code == 1, result.output
    assert result.output.startswith(f"Error: {message}") and len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "run" / "checkpoints").exists()


def test_epochs_and_steps_together_are_a_usage_error(tmp_path: Path) -> None:
    result = _train_cli(tmp_path, "--epochs", "1")
    assert result.exit_code == 2 and "--epochs and --steps exclude each other" in result.output


def test_resume_of_another_architectures_run_names_both(toygan, tmp_path: Path) -> None:
    out = tmp_path / "run"
    train("toygan", "mnist5k", out, steps=2, evaluate=False, **QUIET)
    result = CliRunner().invoke(cli, ["train", "vae", "--dataset", "mnist5k", "--out", str(out), "--resume"])
    assert result.exit_code == 1
    assert "holds a 'toygan' run (step 2), not a 'vae' one" in result.output
    again = CliRunner().invoke(cli, ["train", "toygan", "--dataset", "mnist5k", "--out", str(out), "--steps", "3"])
    assert again.exit_code == 1 and "already holds a 'toygan' run (step 2); pass --resume" in again.output
    changed = CliRunner().invoke(
        cli, ["train", "toygan", "--dataset", "mnist5k", "--out", str(out), "--resume", "--batch-size", "8"]
    )
    assert changed.exit_code == 1 and "made with batch-size 32; it cannot be resumed with 8" in changed.output


def test_architecture_without_a_training_step(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["train", "mnistnet", "--dataset", "mnist5k", "--out", str(tmp_path / "r")])
    assert result.exit_code == 1 and "'mnistnet' cannot be trained with `zoo train`" in result.output


def test_dataset_of_the_wrong_kind(toygan) -> None:
    """Paired vs unpaired: the default check compares the dataset's kind with the step's dataset_kinds."""

    class PairedStep(ToyGANStep):
        dataset_kinds = ("paired",)

    class Unpaired:
        name, kind, channels, image_size = "horse2zebra", "unpaired", 1, (28, 28)

    from zoo_core.training import TrainConfig

    step = PairedStep(ToyGAN(ToyGANConfig()), TrainConfig("toygan", "x", "out"), world_size=1)
    with pytest.raises(zoo.ZooError, match=r"toygan trains on paired images \(an input and its target\), but the "
                       r"dataset 'horse2zebra' holds unpaired images from two domains"):  # fmt: skip
        step.check_dataset(Unpaired())
