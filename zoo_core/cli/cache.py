"""``zoo cache``: the downloaded and converted weights."""

from __future__ import annotations

import click

from .._catalog import get_catalog
from .._errors import ZooError
from ._common import (
    print_json,
    print_table,
)
from ._group import ZooGroup


@click.group(cls=ZooGroup)
def cache() -> None:
    """Inspect, verify and clear downloaded weights (the Hugging Face cache, and zoo's for plain URLs)."""


def _models(names: tuple[str, ...]):
    catalog = get_catalog()
    return [catalog.resolve_model(n) for n in names] if names else [catalog.models[n] for n in catalog.list_models()]


@cache.command("ls")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def cache_ls(as_json: bool) -> None:
    """List models whose weights are in the cache."""
    from ..hub.cache import cache_dir, partial_downloads, zoo_cache_dir
    from ..hub.weights import cached_weights

    rows = []
    for model in _models(()):
        path = cached_weights(model)
        if path is not None:
            rows.append({"name": model.name, "path": str(path), "size": path.stat().st_size})
    if as_json:
        print_json(rows)
        return
    click.echo(f"Cache: {cache_dir()}")
    click.echo(f"Downloads from URLs: {zoo_cache_dir() / 'urls'}")
    partial = [part.stat().st_size for part, _ in partial_downloads() if part.exists()]
    if partial:
        click.echo(
            f"Partial downloads: {len(partial)} ({sum(partial) / 1e6:.1f} MB); the next load resumes its own, "
            "`zoo cache prune` removes them."
        )
    if not rows:
        click.echo("No model weights are cached.")
        return
    print_table([[r["name"], f"{r['size'] / 1e6:.1f} MB", r["path"]] for r in rows], ["NAME", "SIZE", "PATH"])


@cache.command("prune")
@click.option("--dry-run", is_flag=True, help="Show what would be removed; remove nothing.")
def cache_prune(dry_run: bool) -> None:
    """Remove leftovers: interrupted downloads (.incomplete, .part), unused lock files, broken links."""
    from ..hub.cache import prune_cache

    removed, busy = prune_cache(dry_run=dry_run)
    verb = "would remove" if dry_run else "removed"
    for path, kind, size in removed:
        click.echo(f"{verb} {kind}: {path}" + (f" ({size / 1e6:.1f} MB)" if size else ""))
    for path in busy:
        click.echo(f"kept partial download (a running zoo is downloading it): {path}")
    if not removed:
        click.echo("Nothing to prune.")
        return
    total = sum(size for _, _, size in removed)
    click.echo(f"{verb.capitalize()} {len(removed)} file(s), {total / 1e6:.1f} MB.")


@cache.command("verify")
@click.argument("names", nargs=-1)
def cache_verify(names: tuple[str, ...]) -> None:
    """Re-hash cached weights and the safetensors converted from them; files that fail are deleted."""
    from ..hub.pins import expected_sha256
    from ..hub.verify import forget_verified, verify_file
    from ..hub.weights import cached_weights, check_converted

    forget_verified()  # every file is read again; the record of verified files is rebuilt from these hashes
    bad, checked = 0, 0
    for model in _models(names):
        try:
            path, expected = cached_weights(model), expected_sha256(model)
            if path is not None and expected is not None:  # unpinned upstream weights never loaded: nothing to check
                checked += 1
                verify_file(path, expected, model.name, discard=True, rehash=True)
                click.echo(f"ok   {model.name}")
        except ZooError as exc:
            bad += 1
            click.echo(f"BAD  {exc}")
        try:
            converted = check_converted(model)
        except ZooError as exc:
            converted = (None, str(exc))
        if converted is not None:
            checked += 1
            target, problem = converted
            if problem is None:
                click.echo(f"ok   {model.name} (converted: {target})")
            else:
                bad += 1
                click.echo(f"BAD  {problem}")
    if bad:
        raise ZooError(f"{bad} of {checked} cached file(s) failed verification and were deleted.")
    click.echo(f"{checked} cached file(s) verified.")


@cache.command("rm")
@click.argument("names", nargs=-1)
@click.option("--all", "remove_all", is_flag=True, help="Remove the weights of every registered model.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def cache_rm(names: tuple[str, ...], remove_all: bool, yes: bool) -> None:
    """Remove the cached downloads (Hub repositories, URL downloads) and conversions of the named models."""
    import shutil

    from ..hub.weights import cached_paths

    if not names and not remove_all:
        raise click.UsageError("Name the models to remove, or pass --all.")
    present = {path: m.name for m in _models(() if remove_all else names) for path in cached_paths(m)}
    if not present:
        click.echo("Nothing to remove.")
        return
    if not yes:
        who = ", ".join(dict.fromkeys(present.values()))
        click.confirm(f"Remove {len(present)} cached downloads ({who})?", abort=True)
    for path, name in present.items():
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
        click.echo(f"removed {name}: {path}")
