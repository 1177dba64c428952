"""What several commands share: option types, output helpers, model loading."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import click

#: what ``--seed`` takes on every command: torch seeds generators with 64 bits; 63 leave room for seed + offset
SEED = click.IntRange(0, 2**63 - 1)


def print_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, default=str))


def format_params(n: int | None) -> str:
    if n is None:
        return "-"
    return f"{n / 1e6:.2f}M" if n >= 1e6 else f"{n / 1e3:.1f}K"


def print_table(rows: list[list[str]], header: list[str]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        click.echo("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


def source_text(model: Any, ours: str) -> str:
    source = ours if model.source == "zoo" else "downloaded from the authors"
    if model.weights.get("manual"):  # a file-sharing page: the user fetches the file
        source = "from the authors, file saved by you"
    if "url" in model.weights:  # the authors' own server, not a Hub repository
        source += f" ({urlsplit(model.weights['url']).hostname})"
    return source


def pin_text(model: Any) -> str:
    from ..hub.pins import expected_sha256

    pinned = expected_sha256(model)
    if pinned:
        return f"{pinned} (not in the registry: pinned here on the first verified download)"
    return "not pinned in the registry: pinned on the first verified download"


def metric_text(metric: dict[str, Any]) -> str:
    text = f"{metric['value']:g} {metric.get('unit', '')}".rstrip()
    where = " ".join(filter(None, [metric.get("dataset"), metric.get("split")]))
    return f"{text} ({where})" if where else text


def load_model(name: str, device: str | None, dtype: str | None):
    from .._factory import load

    return load(name, device=device, dtype=dtype)


IN_PLACE_HELP = (
    "Let an output replace its own input (e.g. -o photo.png for photo.png, or -o DIR for the input DIR), "
    "atomically; without it an output that is an input is refused."
)


def key_values(items: tuple[str, ...], param_hint: str) -> dict[str, Any]:
    """``KEY=VALUE`` options as a dict; values are JSON when they parse (numbers, true/false, lists), else strings.

    The values are not checked here: the config dataclass (``--config``), the training step's
    parameters (``--train-config``) or the dataset's loader check them, and name the key and what it takes.
    """
    values: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", param_hint=param_hint)
        try:
            values[key] = json.loads(value)
        except (ValueError, RecursionError):  # not JSON (or absurdly long or deep): the string as typed
            values[key] = value
    return values
