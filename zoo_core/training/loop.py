"""The training loop of every zoo architecture: ``train()`` / ``Trainer`` and its ``TrainConfig``.

One loop for all: the architecture's ``TrainingStep`` (registered by its plugin) says what a
step does; this module does the rest, in this order:

1. Check ``--out``: a folder with checkpoints is only continued with ``--resume``, and only by
   the same architecture (and dataset, seed, batch size and configs, which decide the run), from
   the newest checkpoint that verifies (``checkpoint.find_resume_checkpoint``); or started over
   with ``--restart``, which first moves the old run's files into ``OUT/previous-<UTC time>/``.
   Nothing else starts a folder that holds checkpoints from step 0.
2. Seed torch, ``random`` and NumPy with ``seed``, then build the model: its initialisation
   depends on the seed alone.
3. Load the dataset's split and let the step check that it fits the model.
4. Wrap the step's networks in DDP (under ``torchrun``), then ``torch.compile`` them (``--compile``).
5. Restore that checkpoint (``--resume``): weights, optimisers, schedulers, the step's
   extra state, the counters, and last the random generators, so that nothing between the
   restore and the next step draws from them.
6. Loop over global batches (``zoo_core.training.batches``: one seeded permutation per
   epoch, independent of the global generator, resumed mid-epoch by skipping what is done),
   logging every ``log_every`` steps, drawing a sample grid every ``sample_every`` steps
   and checkpointing every ``checkpoint_every`` steps and at the end.
7. Rank 0 evaluates the step's ``eval_metrics`` (metrics that are not registered are skipped
   with a warning), writes a Hub-layout folder ``OUT/model/`` (weights, config, card, samples)
   and ``OUT/zoo-entry.json`` (the registry entry, for ``zoo registry add``), and prints a summary.

What "exact resume" rests on: the data order comes from (seed, epoch) only; the model's own
random draws come from the global generators, which the checkpoint saves per process and
restores; optimiser and scheduler states are saved in full. On the CPU in float32 a run
killed and resumed ends with the same weights, bit for bit, as an uninterrupted one
(``tests/test_training_resume.py`` kills a real process with SIGKILL). ``torch.compile``
and GPUs may add non-determinism of their own.

Example:
    >>> from zoo_core.training import train
    >>> result = train("vae", "mnist5k", "runs/vae", steps=200, config={"hidden_dim": 64})
    >>> result.model_dir
    PosixPath('runs/vae/model')
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .._errors import ZooError
from .batches import BatchFetcher, batches_per_epoch, global_batches, shard
from .checkpoint import (
    CHECKPOINTS,
    Checkpoint,
    find_resume_checkpoint,
    get_rng_state,
    has_checkpoints,
    latest_checkpoint,
    read_state,
    save_checkpoint,
    set_rng_state,
    step_folders,
)
from .distributed import Distributed
from .logging import LOG_NAME, NullLog, RunLog
from .step import TrainingStep

__all__ = ["TrainConfig", "TrainResult", "Trainer", "train"]

PRECISIONS = ("fp32", "bf16")
#: train-config fields a resumed run must share with the run it continues
_RUN_DEFINING = ("dataset", "split", "seed", "batch_size")
#: what a run writes in its folder: ``--restart`` moves these aside (nothing else in the folder is touched)
RUN_FILES = (CHECKPOINTS, LOG_NAME, "samples", "tensorboard", "model", "zoo-entry.json", "summary.json")


@dataclasses.dataclass
class TrainConfig:
    """Everything ``zoo train`` takes (JSON values only: it is saved in every checkpoint).

    ``config`` holds model config keys (``--config``), ``step_config`` the training step's
    hyper-parameters (``--train-config``), ``dataset_options`` the options of the dataset's
    loader (``--dataset-option size=32``; ``None``: the resumed run's, else none).
    ``batch_size`` is the global batch: with N processes
    each takes ``batch_size / N`` rows of it. ``epochs`` and ``steps`` exclude each other;
    without either the step's ``default_epochs`` are trained. ``seed`` and ``batch_size`` left at
    ``None`` mean "the resumed run's, else the default (0, the step's default batch)".
    ``resume`` continues the run in ``out`` from its newest checkpoint that verifies; ``restart``
    starts over in a folder that holds a run, after moving its files into ``out/previous-<UTC time>/``.

    Example:
        >>> TrainConfig("vae", "mnist5k", "runs/vae", steps=100, config={"latent_dim": 2}).to_command()
        'zoo train vae --dataset mnist5k --out runs/vae --config latent_dim=2 --steps 100'
    """

    architecture: str
    dataset: str
    out: str
    config: dict[str, Any] = dataclasses.field(default_factory=dict)
    step_config: dict[str, Any] = dataclasses.field(default_factory=dict)
    dataset_options: dict[str, Any] | None = None
    epochs: int | None = None
    steps: int | None = None
    batch_size: int | None = None
    seed: int | None = None
    split: str = "train"
    resume: bool = False
    restart: bool = False
    precision: str = "fp32"
    compile: bool = False
    device: str | None = None
    checkpoint_every: int = 500
    sample_every: int = 500
    log_every: int = 10
    keep: int = 3
    num_workers: int = 0
    evaluate: bool = True
    eval_samples: int | None = None
    name: str | None = None
    repo_id: str | None = None
    command: str | None = None
    progress: bool | None = None
    verbose: bool = True

    def __post_init__(self) -> None:
        self.out = str(self.out)
        if self.epochs is not None and self.steps is not None:
            raise ZooError("Give --epochs or --steps, not both.")
        if self.resume and self.restart:
            raise ZooError("Give --resume (continue the run) or --restart (start it over), not both.")
        if self.precision not in PRECISIONS:
            raise ZooError(f"Unknown precision {self.precision!r}; use {' or '.join(PRECISIONS)}.")
        for key in ("epochs", "steps", "batch_size", "checkpoint_every", "sample_every", "log_every", "keep"):
            value = getattr(self, key)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise ZooError(f"{key} must be a positive integer, not {value!r}.")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_command(self) -> str:
        """The ``zoo train`` command line that makes this run."""
        args = ["zoo", "train", self.architecture, "--dataset", self.dataset, "--out", self.out]
        for key, value in (self.dataset_options or {}).items():
            args += ["--dataset-option", f"{key}={_cli_value(value)}"]
        for key, value in self.config.items():
            args += ["--config", f"{key}={_cli_value(value)}"]
        for key, value in self.step_config.items():
            args += ["--train-config", f"{key}={_cli_value(value)}"]
        defaults = TrainConfig("", "", "")
        for key in (
            "epochs", "steps", "batch_size", "seed", "split", "precision", "device", "checkpoint_every",
            "sample_every", "log_every", "keep", "num_workers", "eval_samples", "name", "repo_id",
        ):  # fmt: skip
            value = getattr(self, key)
            if value != getattr(defaults, key):
                args += [f"--{key.replace('_', '-').replace('num-workers', 'workers')}", str(value)]
        for key, flag in (("compile", "--compile"), ("resume", "--resume")):
            if getattr(self, key):
                args.append(flag)
        if not self.evaluate:
            args.append("--no-eval")
        return shlex.join(args)


def _cli_value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


@dataclasses.dataclass
class TrainResult:
    """What a run produced: the trained model, its folders, counters, timings and final metrics."""

    out: Path
    model_dir: Path | None
    step: int
    epochs: float
    wall_time_s: float
    images_per_s: float | None
    losses: dict[str, float]
    metrics: list[dict[str, Any]]
    model: Any = dataclasses.field(repr=False, default=None)


def train(architecture: str, dataset: str, out: str | Path, **options: Any) -> TrainResult:
    """Train ``architecture`` on ``dataset``, writing checkpoints, logs and a Hub folder under ``out``.

    ``options`` are the fields of ``TrainConfig`` (``steps``, ``epochs``, ``batch_size``, ``seed``,
    ``config``, ``step_config``, ``resume``, ``precision``, ``compile`` ...).

    Example:
        >>> import zoo_core.training as zt
        >>> zt.train("vae", "mnist5k", "runs/vae", epochs=130, seed=1).metrics
        [{'name': 'elbo', 'value': -101.2, ...}, {'name': 'fid-mnist', 'value': ..., ...}]
    """
    return Trainer(TrainConfig(architecture, dataset, str(out), **options)).run()


class Trainer:
    """Runs one ``TrainConfig`` (see the module docstring for what happens, in order).

    Example:
        >>> Trainer(TrainConfig("vae", "mnist5k", "runs/vae", steps=100)).run().step
        100
    """

    def __init__(self, config: TrainConfig) -> None:
        self.config = config
        self.out = Path(config.out)

    # -- set-up -------------------------------------------------------------------------
    def _check_out(self) -> Checkpoint | None:
        """The checkpoint to resume from (verified), or ``None`` to start at step 0; refuses what would lose a run."""
        cfg = self.config
        if cfg.restart:  # the old run is moved aside by run(), once the options are known to be sound
            return None
        if not has_checkpoints(self.out):
            if cfg.resume and cfg.verbose:
                _say(f"No checkpoint in {self.out}; starting from step 0.")
            return None
        if not cfg.resume:
            raise ZooError(
                f"{self.out} already holds {_describe_run(self.out)}; pass --resume to continue it or --restart to "
                "start over (its files are moved to previous-<time>/ first), or pick another --out."
            )
        checkpoint = find_resume_checkpoint(self.out, say=_say if cfg.verbose else None)
        if checkpoint is None:  # only a step folder that vanished meanwhile gets here
            raise ZooError(f"The checkpoints in {self.out} vanished while it was read; run the command again.")
        previous = checkpoint.state
        if previous.get("architecture") != cfg.architecture:
            raise ZooError(
                f"{self.out} holds a {previous.get('architecture')!r} run (step {previous.get('step')}), not a "
                f"{cfg.architecture!r} one; resume it with `zoo train {previous.get('architecture')} ...` "
                "or pick another --out."
            )
        return checkpoint

    def _resolve(
        self, previous: dict[str, Any] | None, step_class: type[TrainingStep], model_class: Any
    ) -> TrainConfig:
        """The run's settings: explicit options, else the resumed run's, else the defaults; conflicts fail."""
        cfg = self.config
        owner = f"architecture {cfg.architecture!r}"
        model_class.config_class.from_dict(dict(cfg.config), owner)  # unknown keys fail here
        step_class.params_class.from_dict(dict(cfg.step_config), f"the {cfg.architecture!r} training step")
        if previous is None:
            return dataclasses.replace(
                cfg,
                seed=0 if cfg.seed is None else cfg.seed,
                batch_size=cfg.batch_size or step_class.default_batch_size,
                dataset_options=dict(cfg.dataset_options or {}),
                config=dict(cfg.config),
                step_config=dict(cfg.step_config),
            )
        before = previous["train_config"]
        for key in _RUN_DEFINING:
            mine = getattr(cfg, key)
            if mine is not None and mine != before.get(key):
                raise ZooError(
                    f"The run in {self.out} was made with {key.replace('_', '-')} {before.get(key)!r}; "
                    f"it cannot be resumed with {mine!r}. Drop that option or pick another --out."
                )
        saved_options = dict(before.get("dataset_options") or {})
        if cfg.dataset_options is not None and cfg.dataset_options != saved_options:
            raise ZooError(
                f"The run in {self.out} was made with the dataset options {saved_options or 'none'}; "
                f"it cannot be resumed with {cfg.dataset_options}. Drop --dataset-option or pick another --out."
            )
        merged = {}
        for field, flag in (("config", "--config"), ("step_config", "--train-config")):
            saved = dict(before.get(field) or {})
            if field == "config":
                saved = dict(previous.get("model_config") or saved)
            for key, value in (getattr(cfg, field) or {}).items():
                if key in saved and saved[key] != value:
                    raise ZooError(
                        f"The run in {self.out} was made with {flag} {key}={_cli_value(saved[key])}; "
                        f"it cannot be resumed with {key}={_cli_value(value)}."
                    )
                saved[key] = value
            merged[field] = saved
        steps, epochs = cfg.steps, cfg.epochs
        if steps is None and epochs is None:
            steps, epochs = before.get("steps"), before.get("epochs")
        return dataclasses.replace(
            cfg,
            seed=before["seed"],
            batch_size=before["batch_size"],
            dataset_options=saved_options,
            config=merged["config"],
            step_config=merged["step_config"],
            steps=steps,
            epochs=epochs,
        )

    def run(self) -> TrainResult:
        """Train; returns a ``TrainResult`` (on every rank; only rank 0's has metrics and a model folder)."""
        from .._catalog import get_catalog
        from .._factory import model_class as find_model_class

        checkpoint = self._check_out()
        previous = checkpoint.state if checkpoint is not None else None
        architecture = get_catalog().architecture(self.config.architecture)
        step_class = architecture.training_step_class()
        if not (isinstance(step_class, type) and issubclass(step_class, TrainingStep)):
            raise ZooError(
                f"{architecture.training_step!r} (the training step of {architecture.name!r}) is not a "
                "zoo_core.training.TrainingStep subclass; the plugin is inconsistent."
            )
        model_class = find_model_class(self.config.architecture)
        settings = self._resolve(previous, step_class, model_class)
        if settings.restart and os.environ.get("RANK", "0") in ("", "0"):  # one process moves; the others never read
            _set_aside(self.out, settings.verbose)
        dist = Distributed.from_env(settings.device)
        try:
            return self._train(settings, architecture, step_class, model_class, dist, checkpoint)
        finally:
            dist.close()

    # -- the run ------------------------------------------------------------------------
    def _train(
        self,
        cfg: TrainConfig,
        architecture: Any,
        step_class: type[TrainingStep],
        model_class: Any,
        dist: Distributed,
        checkpoint: Checkpoint | None,
    ) -> TrainResult:
        from ..data import load_dataset

        out = self.out
        assert cfg.seed is not None and cfg.batch_size is not None
        seed, batch_size = cfg.seed, cfg.batch_size
        if step_class.closed_form and dist.world_size > 1:
            raise ZooError(
                f"{cfg.architecture} is fitted in closed form from each batch's statistics, which one process must "
                f"see whole; run `zoo train` without torchrun (it takes seconds)."
            )
        if batch_size < dist.world_size:
            raise ZooError(
                f"The global batch ({batch_size}) is smaller than the number of processes ({dist.world_size})."
            )

        torch.manual_seed(seed)
        random.seed(seed)
        np.random.seed(seed % 2**32)
        model_config = model_class.config_class.from_dict(dict(cfg.config), f"architecture {cfg.architecture!r}")
        model = model_class.from_config(model_config).to(dist.device)  # sizes checked before allocating
        model.train()

        dataset = load_dataset(cfg.dataset, split=cfg.split, **(cfg.dataset_options or {}))
        step = step_class(model, cfg, dist.world_size)
        step.rank = dist.rank
        step.check_dataset(dataset)
        n_items = len(dataset)
        per_epoch = batches_per_epoch(n_items, batch_size, dist.world_size)
        if per_epoch == 0:
            raise ZooError(f"The dataset {cfg.dataset!r} ({cfg.split}) is empty.")
        total = cfg.steps if cfg.steps is not None else (cfg.epochs or step_class.default_epochs) * per_epoch

        if checkpoint is not None:
            try:
                model.load_state_dict({k: v.to(dist.device) for k, v in checkpoint.model_state().items()}, strict=True)
            except RuntimeError as exc:
                raise ZooError(f"The weights in {checkpoint.folder} do not fit the model: {exc}") from exc

        networks = step.networks()
        if not networks or not all(isinstance(n, torch.nn.Module) for n in networks.values()):
            raise ZooError(f"{step_class.__name__}.networks() must return a dict of torch modules.")
        nets = {name: dist.wrap(net, step_class.find_unused_parameters) for name, net in networks.items()}
        if cfg.compile:
            nets = {name: torch.compile(net) for name, net in nets.items()}
        step.nets = nets
        optimizers = step.opts = dict(step.optimizers())
        schedulers = step.scheds = dict(step.schedulers())

        counters = {"step": 0, "epoch": 0, "batch": 0, "elapsed": 0.0}
        acc_sums: dict[str, Any] = {}  # each logged key's sum and count since the last log line (a two-phase
        acc_counts: dict[str, int] = {}  # step logs some keys in one phase only: each is averaged over its own steps)
        if checkpoint is not None:
            saved = checkpoint.state
            unknown = sorted(set(saved["optimizers"]) - set(optimizers))
            if unknown:
                raise ZooError(f"{checkpoint.folder} has state of an optimiser {unknown[0]!r} the step does not make.")
            for name, optimizer in optimizers.items():
                optimizer.load_state_dict(checkpoint.optimizer_state(name))
            for name, scheduler in schedulers.items():
                state = checkpoint.scheduler_state(name)
                if state is not None:
                    scheduler.load_state_dict(state)
            step.load_extra_state(checkpoint.extra_state())
            counters = {
                "step": checkpoint.step,
                "epoch": int(saved["epoch"]),
                "batch": int(saved["batch_in_epoch"]),
                "elapsed": float(saved.get("elapsed_s", 0.0)),
            }
            accumulated = saved.get("log_accumulator") or {}
            acc_sums = dict(accumulated.get("sums", {}))
            count = int(accumulated.get("count", 0))  # checkpoints before per-key counts: one count for all
            acc_counts = {k: int(v) for k, v in accumulated.get("counts", dict.fromkeys(acc_sums, count)).items()}
            if saved.get("world_size", 1) != dist.world_size and dist.is_main and cfg.verbose:
                _say(
                    f"Resuming a {saved.get('world_size')}-process run with {dist.world_size} process(es): the data "
                    "order is the same, the random draws of the processes may not be."
                )

        log: NullLog
        if dist.is_main:
            out.mkdir(parents=True, exist_ok=True)
            # a run resumed from step N logs the steps after N again: appended, after a "resume" line
            log = RunLog(out, total=total, initial=counters["step"], progress=cfg.progress, desc=cfg.architecture)
            if checkpoint is not None and cfg.verbose:
                log.message(f"Resuming {cfg.architecture} from step {checkpoint.step} ({checkpoint.folder}).")
        else:
            log = NullLog()
        if checkpoint is not None:  # last: nothing may draw random numbers between this and the next step
            set_rng_state(checkpoint.rng_state(dist.rank), dist.device)

        fetcher = BatchFetcher(dataset, dist.device, cfg.num_workers)
        state_base = {
            "architecture": cfg.architecture,
            "model_config": model.config.to_dict(),
            "train_config": cfg.to_dict(),
            "dataset": cfg.dataset,
            "split": cfg.split,
            "world_size": dist.world_size,
            "total_steps": total,
        }
        last_saved = checkpoint.step if checkpoint is not None else -1
        step_schedulers = step_class.scheduler_interval == "step"
        steps_done, images_done, wall_training, paused_total = 0, 0, 0.0, 0.0
        interval_start, interval_images = time.perf_counter(), 0
        run_start = interval_start
        losses: dict[str, float] = {}
        images_per_s: float | None = None

        def save() -> None:
            nonlocal last_saved
            rng = dist.all_gather_bytes(get_rng_state(dist.device))
            sums = dist.mean({k: float(v) for k, v in acc_sums.items()})
            if dist.is_main:
                save_checkpoint(
                    out,
                    counters["step"],
                    model=model,
                    optimizers=optimizers,
                    schedulers=schedulers,
                    extra=step.extra_state(),
                    rng=rng,
                    state={
                        **state_base,
                        "epoch": counters["epoch"],
                        "batch_in_epoch": counters["batch"],
                        "elapsed_s": counters["elapsed"] + (time.perf_counter() - run_start),
                        "log_accumulator": {"counts": dict(acc_counts), "sums": sums},
                    },
                    keep=cfg.keep,
                )
            dist.barrier()
            last_saved = counters["step"]

        try:
            while counters["step"] < total:
                if counters["batch"] >= per_epoch:  # the previous epoch is done
                    if not step_schedulers:
                        for scheduler in schedulers.values():
                            scheduler.step()
                    counters["epoch"] += 1
                    counters["batch"] = 0
                if hasattr(dataset, "set_epoch"):  # random crops and flips change from epoch to epoch
                    dataset.set_epoch(counters["epoch"])
                epoch_batches = global_batches(n_items, batch_size, seed, counters["epoch"], dist.world_size)
                todo = epoch_batches[counters["batch"] : counters["batch"] + (total - counters["step"])]
                shards = [shard(b, dist.rank, dist.world_size) for b in todo]
                batches = fetcher.iterate(shards, seed=seed + counters["epoch"])
                for indices, batch in zip(todo, batches, strict=True):
                    step.global_batch_size = len(indices)
                    step.batch_slice = slice(dist.rank, None, dist.world_size)
                    values = step.train_step(batch, counters["step"])
                    counters["step"] += 1
                    counters["batch"] += 1
                    if step_schedulers:
                        for scheduler in schedulers.values():
                            scheduler.step()
                    for key, value in values.items():
                        value = value.detach() if isinstance(value, torch.Tensor) else float(value)
                        acc_sums[key] = acc_sums[key] + value if key in acc_sums else value
                        acc_counts[key] = acc_counts.get(key, 0) + 1
                    interval_images += len(indices)
                    images_done += len(indices)
                    steps_done += 1
                    log.advance()
                    now_step = counters["step"]
                    if now_step % cfg.log_every == 0 or now_step == total:
                        now = time.perf_counter()
                        losses = dist.mean({k: float(v) / acc_counts[k] for k, v in acc_sums.items()})
                        images_per_s = interval_images / max(now - interval_start, 1e-9)
                        record: dict[str, Any] = {"step": now_step, "epoch": round(now_step / per_epoch, 4)}
                        record.update({k: round(v, 6) for k, v in losses.items()})
                        for name, optimizer in optimizers.items():
                            record[f"lr/{name}"] = optimizer.param_groups[0]["lr"]
                        record["images_per_s"] = round(images_per_s, 1)
                        record["elapsed_s"] = round(counters["elapsed"] + now - run_start, 3)
                        log.record(record)
                        acc_sums, acc_counts = {}, {}
                        interval_start, interval_images = now, 0  # the next interval pays for this line
                    paused = time.perf_counter()
                    if dist.is_main and now_step % cfg.sample_every == 0:
                        self._sample_grid(step, out / "samples" / f"step-{now_step:07d}.png")
                    if now_step % cfg.checkpoint_every == 0:
                        save()
                    paused = time.perf_counter() - paused
                    interval_start += paused  # grids and checkpoints do not count against throughput
                    paused_total += paused
            wall_training = time.perf_counter() - run_start - paused_total
            if last_saved != counters["step"]:
                save()
        finally:
            log.close()

        elapsed = counters["elapsed"] + (time.perf_counter() - run_start)
        epochs_done = counters["step"] / per_epoch
        run_rate = images_done / wall_training if steps_done and wall_training > 0 else images_per_s
        result = TrainResult(
            out=out,
            model_dir=None,
            step=counters["step"],
            epochs=epochs_done,
            wall_time_s=elapsed,
            images_per_s=run_rate,
            losses=losses,
            metrics=[],
            model=model,
        )
        if not dist.is_main:
            return result
        from .finish import finish_run

        return finish_run(
            result,
            cfg=cfg,
            architecture=architecture,
            step=step,
            dataset_size=n_items,
            world_size=dist.world_size,
        )

    @staticmethod
    def _sample_grid(step: TrainingStep, path: Path) -> None:
        from .._images import save_grid

        with step.eval_mode(), torch.no_grad():
            images = step.samples(64, seed=0)
        if images is not None:
            save_grid(images, path)


def _describe_run(out: Path) -> str:
    """What a run folder holds, for a message: "a 'vae' run (step 40)", or its checkpoint folders when unreadable."""
    for folder in [_latest_or_none(out), *step_folders(out)]:
        if folder is None:
            continue
        try:
            state = read_state(folder)
        except ZooError:
            continue
        return f"a {state.get('architecture')!r} run (step {state.get('step')})"
    folders = step_folders(out)
    newest = f", the newest {folders[0].name}" if folders else ""
    return f"the checkpoints of a run ({len(folders)} checkpoint folder(s){newest})"


def _latest_or_none(out: Path) -> Path | None:
    """The folder ``latest.json`` names, or ``None`` when it is missing or damaged."""
    try:
        return latest_checkpoint(out)
    except ZooError:
        return None


def _set_aside(out: Path, verbose: bool) -> Path | None:
    """``--restart``: move the files an earlier run wrote in ``out`` (``RUN_FILES``) into ``out/previous-<UTC time>/``.

    Nothing is deleted; returns the new folder, or ``None`` when there was nothing to move.
    """
    import datetime

    present = [out / name for name in RUN_FILES if (out / name).exists() or (out / name).is_symlink()]
    if not present:
        return None
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    target = out / f"previous-{stamp}"
    n = 1
    while target.exists():
        target = out / f"previous-{stamp}-{n}"
        n += 1
    try:
        target.mkdir()
        for path in present:
            os.replace(path, target / path.name)
    except OSError as exc:
        raise ZooError(
            f"Cannot move the earlier run in {out} aside into {target} ({exc.strerror}); move or delete it yourself."
        ) from exc
    if verbose:
        names = ", ".join(path.name for path in present)
        _say(
            f"Restarting: moved the earlier run's {names} into {target} "
            "(delete that folder once you no longer need it)."
        )
    return target


def _say(text: str) -> None:
    """A message on stderr, from rank 0 only (``RANK`` is read before the process group exists)."""
    if os.environ.get("RANK", "0") in ("", "0"):
        print(text, file=sys.stderr, flush=True)
