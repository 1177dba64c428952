"""``zoo train``: the training loop from the shell."""

from __future__ import annotations

import os
import sys

import click

from ._common import (
    SEED,
    key_values,
)


def _train_command_line() -> str | None:
    """The command line as typed (``zoo ...``, ``python -m zoo_core ...`` or under ``torchrun``), if it is a train."""
    import shlex
    from pathlib import Path

    argv = sys.argv[1:]
    if not argv or argv[0] != "train":
        return None  # called in-process (tests, scripts): the trainer writes the equivalent command
    world = int(os.environ.get("WORLD_SIZE", "1") or 1)
    if world > 1:
        per_node = os.environ.get("LOCAL_WORLD_SIZE", str(world))
        nodes = world // max(int(per_node), 1)
        prefix = f"torchrun --nproc_per_node {per_node}" + (f" --nnodes {nodes}" if nodes > 1 else "") + " -m zoo_core"
    elif Path(sys.argv[0]).name == "__main__.py":
        prefix = "python -m zoo_core"
    else:
        prefix = "zoo"
    # A local Hub folder is part of how the run was made (FID-MNIST's classifier may come from it).
    from ..hub.weights import hub_dirs

    local_hubs = hub_dirs()
    if local_hubs:
        local_hub = os.pathsep.join(os.path.relpath(folder) for folder in local_hubs)
        prefix = f"ZOO_HUB_DIR={shlex.quote(local_hub)} {prefix}"
    return f"{prefix} {shlex.join(argv)}"


@click.command()
@click.argument("architecture")
@click.option("--dataset", required=True, help="Dataset to train on (`zoo datasets`).")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Run folder: checkpoints, logs, model/.")
@click.option(
    "--dataset-option", "dataset_items", multiple=True, metavar="KEY=VALUE",
    help="Option of the dataset's loader, e.g. size=32 for mnist5k (repeat).",
)  # fmt: skip
@click.option("--config", "config_items", multiple=True, metavar="KEY=VALUE", help="Model config key (repeat).")
@click.option(
    "--train-config", "step_items", multiple=True, metavar="KEY=VALUE",
    help="Hyper-parameter of the architecture's training step, e.g. lr=3e-4 (repeat).",
)  # fmt: skip
@click.option("--epochs", type=click.IntRange(min=1), help="Epochs to train (default: the paper's).")
@click.option("--steps", type=click.IntRange(min=1), help="Optimiser steps to train, instead of --epochs.")
@click.option(
    "--batch-size", type=click.IntRange(min=1), help="Global batch, split over processes (default: the paper's)."
)
@click.option("--seed", type=SEED, default=None, help="Random seed (default 0, or the resumed run's).")
@click.option("--split", default="train", show_default=True, help="Dataset split to train on.")
@click.option(
    "--resume",
    is_flag=True,
    help="Continue the run in --out from its newest checkpoint that verifies (latest.json's, else the newest "
    "step-* folder whose sha256 match); log.jsonl is appended to.",
)
@click.option(
    "--restart",
    is_flag=True,
    help="Start over in an --out that holds a run: its checkpoints/, log.jsonl, samples/, tensorboard/, model/ ... "
    "are first moved into --out/previous-<UTC time>/ (nothing is deleted).",
)
@click.option(
    "--precision",
    type=click.Choice(["fp32", "bf16"]),
    default="fp32",
    show_default=True,
    help="bf16: autocast the forward passes to bfloat16.",
)
@click.option("--compile", "compile_", is_flag=True, help="torch.compile the networks.")
@click.option("--device", default=None, help="torch device, e.g. cpu or cuda (default: cuda when available).")
@click.option(
    "--checkpoint-every",
    default=500,
    show_default=True,
    type=click.IntRange(min=1),
    help="Steps between checkpoints (OUT/checkpoints/; one more at the end).",
)
@click.option(
    "--sample-every",
    default=500,
    show_default=True,
    type=click.IntRange(min=1),
    help="Steps between sample grids (OUT/samples/).",
)
@click.option(
    "--log-every",
    default=10,
    show_default=True,
    type=click.IntRange(min=1),
    help="Steps between lines of OUT/log.jsonl.",
)
@click.option("--keep", default=3, show_default=True, type=click.IntRange(min=1), help="Checkpoints to keep.")
@click.option("--workers", default=0, show_default=True, type=click.IntRange(min=0), help="Data-loading processes.")
@click.option("--name", default=None, help="Model name in the card, ARCH.TAG (default ARCH.DATASET).")
@click.option("--repo-id", default=None, help="Hub repository the card suggests (default zoo/ARCH-DATASET).")
@click.option(
    "--eval/--no-eval",
    "evaluate",
    default=True,
    show_default=True,
    help="Evaluate the architecture's metrics at the end.",
)
@click.option(
    "--eval-samples",
    type=click.IntRange(min=1),
    default=None,
    help="Samples for sample-based metrics (default: as many as the test split has images).",
)
def train(
    architecture: str,
    dataset: str,
    out: str,
    dataset_items: tuple[str, ...],
    config_items: tuple[str, ...],
    step_items: tuple[str, ...],
    epochs: int | None,
    steps: int | None,
    batch_size: int | None,
    seed: int | None,
    split: str,
    resume: bool,
    restart: bool,
    precision: str,
    compile_: bool,
    device: str | None,
    checkpoint_every: int,
    sample_every: int,
    log_every: int,
    keep: int,
    workers: int,
    name: str | None,
    repo_id: str | None,
    evaluate: bool,
    eval_samples: int | None,
) -> None:
    """Train ARCHITECTURE on a dataset; ends with a Hub folder OUT/model/ (see `zoo push`, `zoo registry add`).

    Under `torchrun --nproc_per_node N -m zoo_core train ...` it trains with DistributedDataParallel.

    An --out that already holds checkpoints is refused unless --resume (continue it) or --restart
    (move its files aside, then start over) is given: a run is never started over silently.
    """
    if epochs is not None and steps is not None:
        raise click.UsageError("--epochs and --steps exclude each other; give one of them.")
    if resume and restart:
        raise click.UsageError("--resume and --restart exclude each other; give one of them.")
    if name is not None:  # refused before any work, not at `zoo registry add` after the training
        from .._registry import check_model_name

        check_model_name(name, architecture, where="--name")
    from ..training import TrainConfig, Trainer

    config = TrainConfig(
        architecture=architecture,
        dataset=dataset,
        out=out,
        dataset_options=key_values(dataset_items, "--dataset-option") if dataset_items else None,
        config=key_values(config_items, "--config"),
        step_config=key_values(step_items, "--train-config"),
        epochs=epochs,
        steps=steps,
        batch_size=batch_size,
        seed=seed,
        split=split,
        resume=resume,
        restart=restart,
        precision=precision,
        compile=compile_,
        device=device,
        checkpoint_every=checkpoint_every,
        sample_every=sample_every,
        log_every=log_every,
        keep=keep,
        num_workers=workers,
        evaluate=evaluate,
        eval_samples=eval_samples,
        name=name,
        repo_id=repo_id,
    )
    config.command = _train_command_line() or config.to_command()
    Trainer(config).run()
