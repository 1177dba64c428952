"""Publishing: model cards the Hub understands, and registry entries written from the files.

Hashes, sizes and revisions are computed from the published folder, never typed by hand.

Example:
    >>> card = render_card("vae.mnist", entry, body="Samples: ![](samples.png)")
    >>> register_model("vae.mnist", "hub/zoo/vae-mnist", entry)  # fills weights.sha256 / revision
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ._atomic import atomic_write_text
from ._errors import RegistryError
from ._registry import check_model_name, load_registry, registry_path, update_registry, user_registry_paths
from .hub.verify import sha256_file
from .tasks import TASKS

__all__ = ["publish_model", "register_model", "render_card", "to_yaml", "update_metrics"]

BODY_MARKER = "<!-- zoo:body: text below is written by the model's author; everything above is generated -->"


def to_yaml(value: Any, indent: int = 0) -> str:
    """Block-style YAML for JSON data (scalars are written as JSON, which YAML reads)."""
    pad = " " * indent
    if isinstance(value, dict):
        lines = []
        for key, item in value.items():
            if isinstance(item, (dict, list)) and item:
                lines.append(f"{pad}{key}:\n{to_yaml(item, indent + 2)}")
            else:
                lines.append(f"{pad}{key}: {json.dumps(item)}")
        return "\n".join(lines)
    if isinstance(value, list):
        lines = []
        for item in value:
            text = (
                to_yaml(item, indent + 2) if isinstance(item, (dict, list)) and item else f"{pad}  {json.dumps(item)}"
            )
            lines.append(f"{pad}- {text.lstrip()}")
        return "\n".join(lines)
    return f"{pad}{json.dumps(value)}"


def card_metadata(name: str, entry: dict[str, Any]) -> dict[str, Any]:
    """The YAML header of a model card: library, licence, tags, data set, pipeline, model-index."""
    tasks = list(entry.get("tasks", []))
    pipeline_tag = TASKS[tasks[0]][1] if tasks and tasks[0] in TASKS else None
    trained_on = entry.get("dataset", {}).get("name")
    results = []
    for metric in entry.get("metrics", []):
        dataset = {"name": metric.get("dataset", trained_on), "type": metric.get("dataset", trained_on)}
        dataset["split"] = metric.get("split", "test")
        if metric.get("dataset_options"):
            dataset["args"] = metric["dataset_options"]  # the model-index's place for a data set's options
        value = {
            "type": metric.get("metric", metric["name"]),
            "value": metric["value"],
            "name": f"{metric['name']} ({metric.get('unit', '')})".replace(" ()", ""),
        }
        if metric.get("metric_options"):
            value["args"] = metric["metric_options"]
        results.append({"task": {"type": pipeline_tag}, "dataset": dataset, "metrics": [value]})
    meta = {
        "library_name": "zoo",
        "license": entry.get("license"),
        "tags": ["zoo", entry.get("architecture", ""), *tasks, *entry.get("tags", [])],
        "datasets": [trained_on],
        "pipeline_tag": pipeline_tag,
        "model-index": [{"name": name, "results": results}],
    }
    return {k: v for k, v in meta.items() if v not in (None, [None])}


def render_card(name: str, entry: dict[str, Any], body: str = "") -> str:
    """A README.md model card: YAML metadata, then what the model is, how it was made, its numbers."""
    paper = entry.get("paper") or {}
    made = entry.get("made_by") or {}
    title = paper.get("title") or paper.get("url") or ""
    cites = f"[{title}]({paper['url']})" if paper.get("url") else title
    lines = [
        "---",
        to_yaml(card_metadata(name, entry)),
        "---",
        "",
        f"# {name}",
        "",
        entry.get("description", ""),
        "",
        "```python",
        "import zoo_core as zoo",
        f'model = zoo.load("{name}")',
        "```",
        "",
        "## Model",
        "",
        f"- Architecture: `{entry.get('architecture', '?')}` (plugin `{entry.get('plugin', '?')}`), "
        f"{entry.get('num_params', 0):,} parameters; config `{json.dumps(entry.get('config', {}))}`.",
    ]
    if cites or paper.get("reference_code"):
        lines.append(
            f"- Paper: {cites or '-'}"
            + (f"; reference implementation: {paper['reference_code']}" if paper.get("reference_code") else "")
        )
    lines += [f"- Licence: {entry.get('license') or 'not stated'}.", "", "## Training", ""]
    if entry.get("dataset", {}).get("name"):
        lines.append(f"- Data: `{entry['dataset']['name']}`, {entry['dataset'].get('split', '')}.")
    if made.get("command"):
        lines.append(f"- Command: `{made['command']}`")
    for key, label in (
        ("seed", "Seed"),
        ("hardware", "Hardware"),
        ("wall_time_s", "Wall time (s)"),
        ("notes", "Notes"),
    ):
        if key in made:
            lines.append(f"- {label}: {made[key]}")
    if entry.get("metrics"):
        lines += ["", "## Results", "", "| metric | value | unit | data |", "| --- | --- | --- | --- |"]
        for m in entry["metrics"]:
            lines.append(f"| {m['name']} | {m['value']:.4g} | {m.get('unit', '')} | {metric_data(m)} |")
            if m.get("protocol"):
                lines.append(f"|  | _{m['protocol']}_ |  |  |")
    lines += ["", BODY_MARKER]
    if body:
        lines += ["", body.strip()]
    return "\n".join(lines).rstrip() + "\n"


def metric_data(metric: dict[str, Any]) -> str:
    """Where a metric record's value comes from, in one cell: data set, split, options, protocol, samples, seed.

    Example:
        >>> metric_data({"dataset": "mnist5k", "split": "test", "dataset_options": {"size": 32},
        ...              "evaluation": "samples", "samples": 500, "seed": 0})
        'mnist5k test (size=32); samples, 500 samples, seed 0'
    """
    options = {**metric.get("dataset_options", {}), **metric.get("metric_options", {})}
    where = " ".join(filter(None, [metric.get("dataset", ""), metric.get("split", "")]))
    if options:
        where += f" ({', '.join(f'{k}={v}' for k, v in options.items())})"
    how = [metric.get("evaluation", "")]
    if metric.get("samples"):
        how.append(f"{metric['samples']} samples")
    if metric.get("seed") is not None:
        how.append(f"seed {metric['seed']}")
    how = [h for h in how if h]
    return "; ".join(filter(None, [where.strip(), ", ".join(how)])) or "-"


def card_body(card: str) -> str:
    """The hand-written part of a card: everything after the body marker."""
    return card.split(BODY_MARKER, 1)[1].strip() if BODY_MARKER in card else ""


def hardware() -> str:
    """The CPU (or GPU), thread count and torch version, for a card's "made by"."""
    import platform

    import torch

    if torch.cuda.is_available():
        return f"{torch.cuda.get_device_name()}, torch {torch.__version__}"
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {torch.get_num_threads()} threads, torch {torch.__version__}"


def publish_model(
    name: str,
    model: Any,
    folder: str | os.PathLike[str],
    entry: dict[str, Any],
    body: str = "",
    *,
    repo_id: str,
    register: bool = True,
    samples: Any = None,
) -> dict[str, Any]:
    """Write a trained model as a ready-to-publish Hub folder (weights, config, card), and register it.

    ``samples`` (images in [0, 1]) become ``samples.png`` beside the weights and in the card.
    """
    from ._images import save_grid

    folder = Path(folder)
    model.save_pretrained(folder)
    entry = {**entry, "made_by": {"hardware": hardware(), **entry["made_by"]}}
    if samples is not None:
        save_grid(samples, folder / "samples.png")
        body = f"## Samples\n\n![{len(samples)} samples, seed 0](samples.png)\n\n{body}"
    atomic_write_text(folder / "README.md", render_card(name, entry, body))
    return register_model(name, folder, entry, repo_id=repo_id) if register else entry


def update_metrics(name: str, metrics: list[dict[str, Any]], *, folder: str | os.PathLike[str]) -> dict[str, Any]:
    """Replace a published model's metrics (same name and split), regenerate its card, re-register it.

    The weights are untouched; the card keeps its hand-written body; the revision is read anew. The entry is
    read from, and written back to, the catalog file that holds it (a user catalog of ``$ZOO_REGISTRY``, else
    the shipped registry.json).
    """
    folder = Path(folder)
    path = catalog_file_of(name)
    entry = dict(load_registry(path)["models"][name])
    replaced = {(m["name"], m.get("split")) for m in metrics}
    entry["metrics"] = [m for m in entry["metrics"] if (m["name"], m.get("split")) not in replaced] + metrics
    weights = entry.pop("weights")
    card = folder / "README.md"
    atomic_write_text(card, render_card(name, entry, card_body(card.read_text(encoding="utf-8"))))
    return register_model(name, folder, entry, repo_id=weights["repo_id"], filename=weights["filename"], registry=path)


def catalog_file_of(name: str) -> Path:
    """The catalog file that defines ``name``: the first ``$ZOO_REGISTRY`` path holding it, else registry.json."""
    from ._registry import shipped_registry_path

    for path in [*user_registry_paths(), shipped_registry_path()]:
        if name in load_registry(path, missing_ok=True)["models"]:
            return path
    raise RegistryError(f"No catalog file defines {name!r}; `zoo info {name}` says where it comes from.")


def register_model(
    name: str,
    folder: str | os.PathLike[str],
    entry: dict[str, Any],
    *,
    repo_id: str,
    filename: str = "model.safetensors",
    registry: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """Add or replace ``name`` in a catalog file, with sha256, size and revision read off ``folder``.

    ``registry``: the catalog file to write, by default ``registry_path()``: the first path of ``$ZOO_REGISTRY``
    (a user catalog, created if it does not exist yet), else the shipped registry.json (this project's own
    models). The name is checked (``arch.tag`` of the entry's architecture) before anything is read or hashed;
    the file is written by the one catalog writer (atomic, its order and formatting kept).

    Example:
        >>> register_model("wgan-gp.mnist", "runs/wgan/model", entry, repo_id="me/wgan-gp-mnist")["weights"]["size"]
        3512345
    """
    from .hub_server import repo_revision

    check_model_name(name, entry.get("architecture"))
    folder = Path(folder)
    weights = folder / filename
    entry = {
        **entry,
        "weights": {
            "repo_id": repo_id,
            "filename": filename,
            "revision": repo_revision(folder, repo_id),
            "sha256": sha256_file(weights),
            "size": weights.stat().st_size,
        },
    }
    update_registry(Path(registry) if registry else registry_path(), {name: entry})
    return entry
