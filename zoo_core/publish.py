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
from ._hub import sha256_file
from ._registry import load_registry, registry_path, validate_registry
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
    task = entry["tasks"][0]
    pipeline_tag = TASKS[task][1]
    results = [
        {
            "task": {"type": pipeline_tag},
            "dataset": {
                "name": entry["dataset"]["name"],
                "type": entry["dataset"]["name"],
                "split": metric.get("split", "test"),
            },
            "metrics": [
                {
                    "type": metric["name"],
                    "value": metric["value"],
                    "name": f"{metric['name']} ({metric.get('unit', '')})".replace(" ()", ""),
                }
            ],
        }
        for metric in entry.get("metrics", [])
    ]
    return {
        "library_name": "zoo",
        "license": entry["license"],
        "tags": ["zoo", entry["architecture"], *entry["tasks"], *entry.get("tags", [])],
        "datasets": [entry["dataset"]["name"]],
        "pipeline_tag": pipeline_tag,
        "model-index": [{"name": name, "results": results}],
    }


def render_card(name: str, entry: dict[str, Any], body: str = "") -> str:
    """A README.md model card: YAML metadata, then what the model is, how it was made, its numbers."""
    paper = entry["paper"]
    made = entry["made_by"]
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
        f"- Architecture: `{entry['architecture']}` (plugin `{entry['plugin']}`), "
        f"{entry.get('num_params', 0):,} parameters; config `{json.dumps(entry['config'])}`.",
        f"- Paper: [{paper['title']}]({paper['url']})"
        + (f"; reference implementation: {paper['reference_code']}" if paper.get("reference_code") else ""),
        f"- Licence: {entry['license']}.",
        "",
        "## Training",
        "",
        f"- Data: `{entry['dataset']['name']}`, {entry['dataset'].get('split', '')}.",
        f"- Command: `{made['command']}`",
    ]
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
            data = f"{m.get('dataset', entry['dataset']['name'])} {m.get('split', '')}".strip()
            lines.append(f"| {m['name']} | {m['value']:.4g} | {m.get('unit', '')} | {data} |")
            if m.get("protocol"):
                lines.append(f"|  | _{m['protocol']}_ |  |  |")
    lines += ["", BODY_MARKER]
    if body:
        lines += ["", body.strip()]
    return "\n".join(lines).rstrip() + "\n"


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

    The weights are untouched; the card keeps its hand-written body; the revision is read anew.
    """
    folder = Path(folder)
    entry = dict(load_registry()["models"][name])
    replaced = {(m["name"], m.get("split")) for m in metrics}
    entry["metrics"] = [m for m in entry["metrics"] if (m["name"], m.get("split")) not in replaced] + metrics
    weights = entry.pop("weights")
    card = folder / "README.md"
    atomic_write_text(card, render_card(name, entry, card_body(card.read_text(encoding="utf-8"))))
    return register_model(name, folder, entry, repo_id=weights["repo_id"], filename=weights["filename"])


def register_model(
    name: str,
    folder: str | os.PathLike[str],
    entry: dict[str, Any],
    *,
    repo_id: str,
    filename: str = "model.safetensors",
    registry: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """Add or replace ``name`` in registry.json, with sha256, size and revision read off ``folder``."""
    from .hub_server import repo_revision

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
    path = Path(registry) if registry else registry_path()
    document = load_registry(path)
    document["models"][name] = entry
    document["models"] = dict(sorted(document["models"].items()))
    validate_registry(document, str(path))
    atomic_write_text(path.resolve(), json.dumps(document, indent=2) + "\n")
    return entry
