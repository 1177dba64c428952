"""``zoo push`` and ``zoo registry``: publishing a model."""

from __future__ import annotations

import os

import click

from ._common import (
    print_table,
)
from ._group import ZooGroup


@click.command("push")
@click.argument("folder", type=click.Path(file_okay=False))
@click.option("--repo-id", required=True, help="Hub repository, ORG/NAME (created if needed).")
@click.option("--revision", default=None, help="Branch to upload to (default main; created if needed).")
@click.option("--private", is_flag=True, help="Create the repository as private.")
@click.option("--dry-run", is_flag=True, help="Show every file (size, sha256) and the target; upload nothing.")
@click.option("-m", "--message", "commit_message", default=None, help="Commit message.")
def push_command(
    folder: str, repo_id: str, revision: str | None, private: bool, dry_run: bool, commit_message: str | None
) -> None:
    """Upload a Hub-layout model FOLDER (e.g. the model/ of a `zoo train` run) with huggingface_hub."""
    from ..push import push

    plan = push(folder, repo_id, revision=revision, private=private, dry_run=dry_run, commit_message=commit_message)
    visibility = "private" if private else "public"
    what = f"{len(plan.files)} files ({plan.total_size:,} bytes) from {plan.folder}"
    target = f"{plan.repo_id} (model repository, revision {plan.revision}, {visibility})"
    if dry_run:
        click.echo(f"Dry run: would upload {what} to {target}; nothing was uploaded.")
        print_table([[f.sha256, str(f.size), f.path] for f in plan.files], ["SHA256", "BYTES", "PATH"])
        return
    click.echo(f"Uploaded {what} to {target}" + (f": {plan.commit_url}" if plan.commit_url else "."))


@click.group(cls=ZooGroup)
def registry() -> None:
    """Add trained models to a catalog: yours ($ZOO_REGISTRY) or the shipped registry.json (hashes read off files)."""


@registry.command("add")
@click.argument("name")
@click.argument("directory", type=click.Path(exists=True, file_okay=False))
@click.option("--repo-id", default=None, help="Hub repository of the weights (default: the one the run suggests).")
@click.option(
    "--registry",
    "registry_file",
    default=None,
    type=click.Path(dir_okay=False),
    help="Catalog file to write (default: the first path of $ZOO_REGISTRY, else the registry.json zoo ships); "
    "created if it does not exist yet.",
)
def registry_add(name: str, directory: str, repo_id: str | None, registry_file: str | None) -> None:
    """Register the model of a `zoo train` run (DIRECTORY: its output folder or model/) as NAME (arch.tag).

    It goes into your own catalog, the first path of ZOO_REGISTRY (created if it does not exist yet), or into the
    registry.json zoo ships when ZOO_REGISTRY is not set (this project's own models). `zoo list` shows it beside
    every other model.
    """
    from .._registry import check_model_name, registry_path
    from ..training.finish import register_run

    check_model_name(name)  # before any work (the architecture's prefix is checked against the run's entry)
    target = os.path.expanduser(registry_file) if registry_file else str(registry_path())
    created = not os.path.lexists(target)
    entry = register_run(name, directory, repo_id=repo_id, registry=target)
    weights = entry["weights"]
    click.echo(
        f"Registered {name} in {target}{' (a new catalog)' if created else ''}: "
        f"{weights['repo_id']}/{weights['filename']} @ {weights['revision']}, sha256 {weights['sha256']} "
        f"({weights['size']:,} bytes)."
    )
