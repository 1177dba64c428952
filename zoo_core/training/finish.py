"""The end of a run (rank 0): final metrics, a ready-to-publish Hub folder, the registry entry, a summary.

``OUT/model/`` is a Hub-layout folder written by ``zoo_core.publish.publish_model`` (without
registering it): ``config.json``, ``model.safetensors``, ``samples.png`` (when the model draws
samples) and a ``README.md`` card whose YAML metadata carries the final metrics as a
model-index, and whose text names the exact command, seed, data split, steps, wall time,
hardware and paper. ``zoo push OUT/model --repo-id ORG/NAME`` uploads exactly that folder.

``OUT/zoo-entry.json`` holds the registry entry of the run (everything but ``weights``, whose
sha256, size and revision ``zoo registry add`` reads off the folder). It lives beside the
model folder, not in it, because it is not for the Hub: every file in ``OUT/model/`` is
uploaded and is part of the revision the registry pins.

Metrics the step asks for but that are not registered (a plugin not installed, a metric not
written yet) or that fail (weights they need cannot be fetched) are skipped with a warning:
a finished training run is not thrown away for want of a number.

Example:
    >>> json.loads(Path("runs/vae/zoo-entry.json").read_text())["name"]
    'vae.mnist5k'
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._atomic import atomic_write_text
from .._errors import ZooError

if TYPE_CHECKING:
    from .loop import TrainConfig, TrainResult
    from .step import TrainingStep

__all__ = ["ENTRY_NAME", "MODEL_DIR", "evaluate_run", "finish_run", "register_run"]

MODEL_DIR = "model"
ENTRY_NAME = "zoo-entry.json"
SUMMARY_NAME = "summary.json"


def _warn(text: str) -> None:
    print(f"Warning: {text}", file=sys.stderr, flush=True)


def evaluate_run(model: Any, step: TrainingStep, cfg: TrainConfig) -> list[dict[str, Any]]:
    """The step's ``eval_metrics``, as metric records that hold their protocol; what cannot run is skipped.

    A name in ``eval_metrics`` is measured on ``eval_dataset`` (default: the training dataset,
    loaded with the run's ``--dataset-option`` values, which the records keep) with its
    ``eval_metric_options``; a dict is a metric record without a value (``metric``, ``dataset``,
    ``dataset_options``, ``metric_options``, ``evaluation``, ...), measured exactly so. Either way
    ``zoo eval NAME`` later runs the recorded protocol again and finds the same value.

    Example:
        >>> step.eval_metrics = ("fid-mnist", {"metric": "cycle-l1", "dataset": "mnist5k",
        ...                                    "metric_options": {"direction": "BtoA"}})
    """
    from .._catalog import get_catalog
    from ..evaluation import evaluate, reproduce_metrics

    catalog = get_catalog()
    dataset = step.eval_dataset or cfg.dataset
    names: list[str] = []
    plans: list[dict[str, Any]] = []
    for item in step.eval_metrics:
        metric = item if isinstance(item, str) else item.get("metric", item.get("name"))
        if metric not in catalog.metrics:
            _warn(f"the metric {metric!r} is not registered (yet); skipped.")
        elif isinstance(item, str):
            names.append(item)
        else:
            plans.append(dict(item))
    if names and dataset.partition(":")[0] not in catalog.datasets:
        _warn(f"the evaluation dataset {dataset!r} is not registered; no final metrics on it.")
        names = []
    options: dict[str, Any] = {"split": step.eval_split, "n": cfg.eval_samples, "seed": 0}
    if step.eval_dataset is None:  # the training dataset, loaded as it was for training
        options["dataset_options"] = cfg.dataset_options or None
    results: list[dict[str, Any]] = []
    for name in names:  # one by one: a metric that fails is skipped, the others kept
        try:
            only = {name: step.eval_metric_options[name]} if name in step.eval_metric_options else None
            results += evaluate(model, [name], dataset, metric_options=only, **options)
        except ZooError as exc:
            _warn(f"the metric {name!r} failed and is skipped: {exc}")
    for plan in plans:
        try:
            results += reproduce_metrics(model, records=[plan], n=cfg.eval_samples)
        except ZooError as exc:
            _warn(f"the metric {plan.get('name', plan.get('metric'))!r} failed and is skipped: {exc}")
    model.train()
    return results  # unrounded, with their protocol: `zoo eval NAME` must match them


def _relative(command: str) -> str:
    """The command as a reader would type it: paths relative to the working folder, no ``--resume``.

    A resumed run ends with the weights of an uninterrupted one, so the card shows the command
    that makes the run in one go.
    """
    import shlex

    try:
        parts = [p for p in shlex.split(command) if p != "--resume"]
    except ValueError:
        return command
    return shlex.join(parts).replace(str(Path.cwd()) + os.sep, "")


def build_entry(
    name: str,
    model: Any,
    cfg: TrainConfig,
    architecture: Any,
    step: TrainingStep,
    metrics: list[dict[str, Any]],
    *,
    dataset_size: int,
    world_size: int,
    wall_time_s: float,
    steps: int,
    epochs: float,
) -> dict[str, Any]:
    """The registry entry of a run (without ``weights``)."""
    paper = {"title": architecture.description or architecture.name, **dict(step.paper)}
    if not paper.get("url"):  # a step's paper without a link borrows the architecture's ("" when it has none)
        paper["url"] = architecture.paper or ""
    notes = (
        f"{steps} steps ({epochs:.2f} epochs of the {cfg.split} split, {dataset_size:,} images), global batch "
        f"{cfg.batch_size} on {world_size} process(es), {cfg.precision}{', torch.compile' if cfg.compile else ''}"
        f"{'; ' + step.recipe if step.recipe else ''}."
    )
    return {
        "architecture": architecture.name,
        "plugin": architecture.plugin or "unknown",
        "tasks": list(model.tasks),
        "source": "zoo",
        "description": step.description or _description(architecture, cfg),
        "config": model.config.to_dict(),
        "num_params": model.num_parameters(),
        "dataset": {"name": cfg.dataset, "split": f"{cfg.split} ({dataset_size:,} images)"},
        "metrics": metrics,
        "paper": paper,
        "license": step.license,
        "made_by": {
            "command": _relative(cfg.command or cfg.to_command()),
            "seed": cfg.seed,
            "wall_time_s": round(wall_time_s, 1),
            "notes": notes,
        },
        "tags": list(dict.fromkeys([*step.tags, cfg.dataset])),
    }


def _description(architecture: Any, cfg: TrainConfig) -> str:
    what = (architecture.description or architecture.name).rstrip(".")
    return f"{what}; trained on {cfg.dataset} ({cfg.split} split) with `zoo train`."


def card_body(cfg: TrainConfig, result: TrainResult, entry: dict[str, Any]) -> str:
    losses = ", ".join(f"{k} {v:.4g}" for k, v in result.losses.items()) or "-"
    return (
        "## Reproduce\n\n"
        f"```bash\n{entry['made_by']['command']}\n```\n\n"
        f"Trained with `zoo train`: {entry['made_by']['notes']} Final training losses (mean over the last "
        f"logged steps): {losses}. The run's log is `log.jsonl` in its output folder."
    )


def finish_run(
    result: TrainResult, *, cfg: TrainConfig, architecture: Any, step: TrainingStep, dataset_size: int, world_size: int
) -> TrainResult:
    """Evaluate, write ``OUT/model/`` and ``OUT/zoo-entry.json`` and ``OUT/summary.json``, print the summary."""
    import torch

    from ..publish import publish_model

    model = result.model
    metrics = evaluate_run(model, step, cfg) if cfg.evaluate else []
    name = cfg.name or f"{architecture.name}.{cfg.dataset}"
    repo_id = cfg.repo_id or f"zoo/{architecture.name}-{cfg.dataset}"
    entry = build_entry(
        name, model, cfg, architecture, step, metrics,
        dataset_size=dataset_size, world_size=world_size, wall_time_s=result.wall_time_s,
        steps=result.step, epochs=result.epochs,
    )  # fmt: skip
    result.metrics = metrics
    with step.eval_mode(), torch.no_grad():
        samples = step.samples(64, seed=0)
    folder = result.out / MODEL_DIR
    entry = publish_model(
        name, model, folder, entry, card_body(cfg, result, entry), repo_id=repo_id, register=False, samples=samples
    )
    atomic_write_text(
        result.out / ENTRY_NAME,
        json.dumps({"name": name, "repo_id": repo_id, "model_dir": MODEL_DIR, "entry": entry}, indent=2) + "\n",
    )
    result.model_dir = folder
    summary = {
        "architecture": architecture.name,
        "dataset": cfg.dataset,
        "split": cfg.split,
        "steps": result.step,
        "epochs": round(result.epochs, 4),
        "wall_time_s": round(result.wall_time_s, 2),
        "images_per_s": None if result.images_per_s is None else round(result.images_per_s, 1),
        "losses": result.losses,
        "metrics": metrics,
        "model_dir": str(folder),
    }
    atomic_write_text(result.out / SUMMARY_NAME, json.dumps(summary, indent=2) + "\n")
    if cfg.verbose:
        _print_summary(result, cfg, name, repo_id, world_size)
    return result


def _print_summary(result: TrainResult, cfg: TrainConfig, name: str, repo_id: str, world_size: int) -> None:
    rate = f", {result.images_per_s:,.0f} images/s" if result.images_per_s else ""
    lines = [
        f"Trained {cfg.architecture} on {cfg.dataset} ({cfg.split}): {result.step} steps ({result.epochs:.2f} epochs), "
        f"global batch {cfg.batch_size}, {world_size} process(es), {result.wall_time_s:.1f} s{rate}.",
    ]
    for key, value in result.losses.items():
        lines.append(f"  {key:<12} {value:.4f} (train, last logged steps)")
    for metric in result.metrics:
        where = f"{metric.get('dataset', '')} {metric.get('split', '')}".strip()
        unit = f" {metric['unit']}" if metric.get("unit") else ""
        lines.append(f"  {metric['name']:<12} {metric['value']:.4f}{unit} ({where})")
    model_dir = result.out / MODEL_DIR
    lines += [
        f"Hub folder: {model_dir} (upload: zoo push {model_dir} --repo-id {repo_id})",
        f"Register:   zoo registry add {name} {result.out} --repo-id {repo_id}",
    ]
    print("\n".join(lines), flush=True)


def register_run(
    name: str,
    directory: str | os.PathLike[str],
    *,
    repo_id: str | None = None,
    registry: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """Add a ``zoo train`` run to registry.json as ``name``: entry from ``zoo-entry.json``, hashes from the files.

    ``directory`` is the run's output folder or its ``model/`` folder. When ``name`` differs
    from the name the card was written with, the card is rendered again under ``name``
    (keeping its hand-written body) before the folder's sha256 and revision are read.

    Example:
        >>> register_run("vae.mnist", "runs/vae", repo_id="zoo/vae-mnist")["weights"]["sha256"]
        '3f1c...'
    """
    from ..publish import card_body as hand_written_body
    from ..publish import register_model, render_card

    directory = Path(directory)
    if (directory / ENTRY_NAME).is_file():
        run_dir = directory
    elif (directory.parent / ENTRY_NAME).is_file():
        run_dir = directory.parent
    else:
        raise ZooError(
            f"{directory} holds no {ENTRY_NAME}; give the output folder of a `zoo train` run "
            f"(or its {MODEL_DIR}/ folder)."
        )
    try:
        saved = json.loads((run_dir / ENTRY_NAME).read_text(encoding="utf-8"))
        entry = dict(saved["entry"])
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ZooError(f"{run_dir / ENTRY_NAME} is damaged ({exc}); `zoo train ... --resume` writes it again.") from exc
    model_dir = run_dir / saved.get("model_dir", MODEL_DIR)
    if not (model_dir / "model.safetensors").is_file():
        raise ZooError(f"{model_dir} holds no model.safetensors; the run did not finish.")
    architecture = entry["architecture"]
    from .._registry import check_model_name

    check_model_name(name, architecture)  # the one name check: before the card is written again
    if name != saved.get("name"):
        card = model_dir / "README.md"
        body = hand_written_body(card.read_text(encoding="utf-8")) if card.is_file() else ""
        atomic_write_text(card, render_card(name, entry, body))
        atomic_write_text(run_dir / ENTRY_NAME, json.dumps({**saved, "name": name}, indent=2) + "\n")
    return register_model(name, model_dir, entry, repo_id=repo_id or saved["repo_id"], registry=registry)
