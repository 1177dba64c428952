"""``zoo plugin``: the kit for plugin authors (``new``, ``check``)."""

from __future__ import annotations

import click

from .._errors import ZooError
from ._common import (
    print_json,
)
from ._group import ZooGroup


@click.group(cls=ZooGroup)
def plugin() -> None:
    """Write a new plugin, and check a plugin against zoo's conformance kit."""


@plugin.command("new")
@click.argument("name")
@click.option(
    "--task",
    default="unconditional",
    show_default=True,
    type=click.Choice(["unconditional", "image-to-image"]),
    help="The task of the model the template holds.",
)
@click.option(
    "--dir",
    "directory",
    default=None,
    type=click.Path(file_okay=False),
    help="Folder to write the plugin into (default: ./NAME); it must not exist or be empty.",
)
def plugin_new(name: str, task: str, directory: str | None) -> None:
    """Write an installable plugin package NAME (e.g. demo-gan): a model with its config, a training step,
    a registry fragment, tests using zoo_core.testing, a README. Then: pip install -e DIR; zoo plugin check NAME."""
    from ..scaffold import write_plugin

    folder = write_plugin(name, task=task, directory=directory)
    click.echo(f"wrote the plugin {name} in {folder}")
    click.echo(f"next: pip install -e {folder} && zoo plugin check {name}")


@plugin.command("check")
@click.argument("target", metavar="NAME_OR_PATH")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def plugin_check(target: str, as_json: bool) -> None:
    """Run zoo's conformance checks (zoo_core.testing) on an architecture, an installed plugin (its distribution
    name) or a plugin folder; one line per check, exit 1 when one fails."""
    from ..testing import check_plugin

    reports = check_plugin(target)
    if as_json:
        print_json([report.to_dict() for report in reports])
    else:
        for report in reports:
            click.echo(report.text())
    failed = [(r.architecture, c.name) for r in reports for c in r.failed]
    if failed:
        where = ", ".join(f"{arch} {check}" for arch, check in failed[:3]) + (" ..." if len(failed) > 3 else "")
        raise ZooError(f"{len(failed)} conformance check(s) failed ({where}); see the lines marked FAILED above.")
