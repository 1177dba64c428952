"""``zoo list``: the catalog's models, from its snapshot when nothing changed (no plugin, pluggy or torch)."""

from __future__ import annotations

import click

from .._catalog_snapshot import listed_models
from .._model_info import matching_names
from ._common import format_params, print_json, print_table, source_text


@click.command("list")
@click.argument("pattern", required=False)
@click.option("--task", help="Only models that serve this task (e.g. unconditional, latent).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_command(pattern: str | None, task: str | None, as_json: bool) -> None:
    """List pretrained models; PATTERN is a glob (``vae.*``) or a substring."""
    models = listed_models()
    names = matching_names(models, pattern, task)
    if as_json:
        print_json([models[n].to_dict() for n in names])
        return
    if not names:
        click.echo("No models match." if pattern or task else "No models are registered.")
        return
    rows = []
    for name in names:
        model = models[name]
        source = source_text(model, "ours")
        rows.append([name, ",".join(model.tasks), format_params(model.num_params), model.dataset["name"], source])
    print_table(rows, ["NAME", "TASKS", "PARAMS", "DATASET", "SOURCE"])
