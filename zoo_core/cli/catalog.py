"""``zoo info``, ``architectures``, ``datasets``, ``metrics``, ``plugins``: what is there (no torch)."""

from __future__ import annotations

import json

import click

from .._catalog import get_catalog
from .._errors import ZooError
from .._plugins import plugin_records
from ._common import (
    metric_text,
    pin_text,
    print_json,
    print_table,
    source_text,
)


@click.command()
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def info(name: str, as_json: bool) -> None:
    """Show a model's registry entry: weights, data, metrics, paper, licence."""
    model = get_catalog().resolve_model(name)
    if as_json:
        print_json(model.to_dict())
        return
    w = model.weights
    lines = [
        (model.name, model.description),
        ("architecture", f"{model.architecture} (plugin {model.plugin})"),
        ("catalog", f"{model.catalog} ({model.layer})" if model.catalog else model.layer),
        ("tasks", ", ".join(model.tasks)),
        ("parameters", f"{model.num_params:,}" if model.num_params else "-"),
        ("source", source_text(model, "trained by zoo")),
        ("weights", w["url"] if "url" in w else f"{w['repo_id']}/{w['filename']} @ {w['revision']}"),
        ("sha256", w["sha256"] or pin_text(model)),
        ("dataset", f"{model.dataset['name']} ({model.dataset.get('split', '')})".replace(" ()", "")),
        *((f"{m['name']}", metric_text(m)) for m in model.metrics),
        ("paper", f"{model.paper['title']} {model.paper['url']}"),
        ("license", model.license),
        ("made by", model.made_by["command"]),
        ("config", json.dumps(model.config)),
    ]
    click.echo(lines[0][0] + (f": {lines[0][1]}" if lines[0][1] else ""))
    width = max(len(key) for key, _ in lines[1:]) + 2
    for key, value in lines[1:]:
        click.echo(f"  {key + ':':<{width}}{value}")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def plugins(as_json: bool) -> None:
    """List plugins: loaded, partly (a part skipped, with why), failed (with the error) or skipped."""
    from . import _add_plugin_commands

    try:
        get_catalog()  # runs the register_* hooks, so that a plugin whose hook raises shows as failed
    except ZooError as exc:  # e.g. a broken registry file: still list the plugins
        click.echo(f"Warning: {exc}", err=True)
    _add_plugin_commands()  # and register_commands
    records = plugin_records()
    if as_json:
        print_json([r.to_dict() for r in records])
        return
    rows = [
        [r.name, r.version or "-", "built-in" if r.builtin else r.status, r.error or ", ".join(r.hooks)]
        for r in records
    ]
    print_table(rows, ["PLUGIN", "VERSION", "STATUS", "HOOKS / ERROR"])


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def datasets(as_json: bool) -> None:
    """List registered datasets."""
    specs = sorted(get_catalog().datasets.values(), key=lambda d: d.name)
    if as_json:
        print_json(
            [
                {
                    k: getattr(d, k)
                    for k in ("name", "description", "splits", "image_size", "channels", "license", "plugin")
                }
                for d in specs
            ]
        )
        return
    print_table(
        [[d.name, "/".join(d.splits), d.plugin, d.description] for d in specs],
        ["NAME", "SPLITS", "PLUGIN", "DESCRIPTION"],
    )


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def metrics(as_json: bool) -> None:
    """List registered metrics."""
    specs = sorted(get_catalog().metrics.values(), key=lambda m: m.name)
    if as_json:
        fields = ("name", "description", "tasks", "higher_is_better", "unit", "plugin")
        print_json([{k: getattr(m, k) for k in fields} for m in specs])
        return
    rows = [
        [m.name, ",".join(m.tasks) or "-", "higher" if m.higher_is_better else "lower", m.description] for m in specs
    ]
    print_table(rows, ["NAME", "TASKS", "BETTER", "DESCRIPTION"])


@click.command("tasks")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def tasks_command(as_json: bool) -> None:
    """List the tasks: their verbs, Hub pipeline tag, and who declares them (zoo_core or a plugin).

    A model of a task can be called with the task's verbs; `zoo architectures` says which tasks each
    architecture serves.
    """
    from ..tasks import TASKS

    get_catalog()  # the plugins' tasks
    rows = [
        {"name": t.name, "verbs": t.summary, "pipeline_tag": t.pipeline_tag, "plugin": t.plugin or "zoo_core"}
        for t in sorted(TASKS.values(), key=lambda t: (t.plugin is not None, t.name))
    ]
    if as_json:
        print_json(rows)
        return
    print_table([list(r.values()) for r in rows], ["NAME", "VERBS", "PIPELINE TAG", "DECLARED BY"])


@click.command("architectures")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def architectures_command(as_json: bool) -> None:
    """List architectures: plugin, tasks, whether `zoo train` trains them, and their config fields.

    Reading the config fields imports each architecture's model class (and torch); an architecture whose
    class cannot be imported is listed with the error instead of its fields.
    """
    from ..scaffold import describe_architectures

    rows = describe_architectures()
    if as_json:
        print_json(rows)
        return
    for row in rows:
        trainable = "trainable" if row["trainable"] else "not trainable"
        click.echo(f"{row['name']}  ({row['plugin'] or 'unknown plugin'}; {', '.join(row['tasks'])}; {trainable})")
        if row.get("error"):
            click.echo(f"    config: unavailable ({row['error']})")
        else:
            fields = ", ".join(f"{k}={json.dumps(v['default'])}" for k, v in row["config"].items())
            click.echo(f"    config: {fields or '(no fields)'}")
