"""The ``zoo`` command line.

Exit codes: 0 success, 1 failure (one sentence on stderr, no traceback), 2 usage.
``zoo list`` and ``zoo info`` never import torch.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from . import __version__
from ._catalog import get_catalog
from ._errors import ZooError
from ._plugins import get_plugin_manager, plugin_records


class ZooGroup(click.Group):
    """A click group that turns ``ZooError`` into one line on stderr and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ZooError as exc:
            raise click.ClickException(str(exc)) from None
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            sys.exit(130)


def _json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, default=str))


def _params(n: int | None) -> str:
    if n is None:
        return "-"
    return f"{n / 1e6:.2f}M" if n >= 1e6 else f"{n / 1e3:.1f}K"


def _table(rows: list[list[str]], header: list[str]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        click.echo("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


@click.group(cls=ZooGroup)
@click.version_option(__version__, prog_name="zoo")
def cli() -> None:
    """zoo: pretrained classic generative models (VAE, GANs, PixelCNN++ ...), one command away.

    Weights come from the Hugging Face Hub (or the mirror in HF_ENDPOINT) and are checked
    against the sha256 in the registry before use.
    """


@cli.command("list")
@click.argument("pattern", required=False)
@click.option("--task", help="Only models that serve this task (e.g. unconditional, latent).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_command(pattern: str | None, task: str | None, as_json: bool) -> None:
    """List pretrained models; PATTERN is a glob (``vae.*``) or a substring."""
    catalog = get_catalog()
    names = catalog.list_models(pattern, task)
    if as_json:
        _json([catalog.models[n].to_dict() for n in names])
        return
    if not names:
        click.echo("No models match." if pattern or task else "No models are registered.")
        return
    rows = []
    for name in names:
        model = catalog.models[name]
        source = "ours" if model.source == "zoo" else "downloaded from the authors"
        rows.append([name, ",".join(model.tasks), _params(model.num_params), model.dataset["name"], source])
    _table(rows, ["NAME", "TASKS", "PARAMS", "DATASET", "SOURCE"])


@cli.command()
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def info(name: str, as_json: bool) -> None:
    """Show a model's registry entry: weights, data, metrics, paper, licence."""
    model = get_catalog().resolve_model(name)
    if as_json:
        _json(model.to_dict())
        return
    w = model.weights
    lines = [
        (model.name, model.description),
        ("architecture", f"{model.architecture} (plugin {model.plugin})"),
        ("tasks", ", ".join(model.tasks)),
        ("parameters", f"{model.num_params:,}" if model.num_params else "-"),
        ("source", "trained by zoo" if model.source == "zoo" else "downloaded from the authors"),
        ("weights", f"{w['repo_id']}/{w['filename']} @ {w['revision']}"),
        ("sha256", w["sha256"]),
        ("dataset", f"{model.dataset['name']} ({model.dataset.get('split', '')})".replace(" ()", "")),
        *((f"{m['name']}", _metric_text(m)) for m in model.metrics),
        ("paper", f"{model.paper['title']} {model.paper['url']}"),
        ("license", model.license),
        ("made by", model.made_by["command"]),
        ("config", json.dumps(model.config)),
    ]
    click.echo(lines[0][0] + (f": {lines[0][1]}" if lines[0][1] else ""))
    width = max(len(key) for key, _ in lines[1:]) + 2
    for key, value in lines[1:]:
        click.echo(f"  {key + ':':<{width}}{value}")


def _metric_text(metric: dict[str, Any]) -> str:
    text = f"{metric['value']:g} {metric.get('unit', '')}".rstrip()
    where = " ".join(filter(None, [metric.get("dataset"), metric.get("split")]))
    return f"{text} ({where})" if where else text


def _load(name: str, device: str | None, dtype: str | None):
    from ._factory import load

    return load(name, device=device, dtype=dtype)


@cli.command()
@click.argument("name")
@click.option("--device", default=None, help="torch device, e.g. cpu or cuda.")
@click.option("--dtype", default=None, help="e.g. float32 or bfloat16.")
def load(name: str, device: str | None, dtype: str | None) -> None:
    """Download (once), verify and build a model; print what was loaded."""
    model = _load(name, device, dtype)
    click.echo(f"Loaded {(getattr(model, 'pretrained', None) and model.pretrained.name) or name}")
    click.echo(f"  architecture: {model.architecture} ({type(model).__module__}.{type(model).__name__})")
    click.echo(f"  tasks:        {', '.join(model.tasks)}")
    click.echo(f"  parameters:   {model.num_parameters():,}")
    click.echo(f"  device/dtype: {model.device} / {str(model.dtype).removeprefix('torch.')}")
    path = getattr(model, "weights_path", None)
    if path is not None:
        click.echo(f"  weights:      {path} (sha256 verified)")


@cli.command()
@click.argument("name")
@click.option("-n", "--num", "n", default=64, show_default=True, type=click.IntRange(min=1), help="Images.")
@click.option("--seed", default=0, show_default=True, type=int, help="Random seed.")
@click.option(
    "-o",
    "--output",
    default="grid.png",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="PNG file to write.",
)
@click.option("--nrow", default=None, type=click.IntRange(min=1), help="Images per row (default: square).")
@click.option("--device", default=None, help="torch device, e.g. cpu or cuda.")
def sample(name: str, n: int, seed: int, output: str, nrow: int | None, device: str | None) -> None:
    """Draw N images from a model and write them as one grid PNG."""
    from ._images import save_grid

    model = _load(name, device, None)
    if "unconditional" not in model.tasks:
        raise ZooError(f"{name} does not draw images unconditionally (its tasks: {', '.join(model.tasks)}).")
    images = model.sample(n, seed=seed, progress=True)
    save_grid(images, output, nrow)
    click.echo(f"Wrote {n} samples of {name} (seed {seed}) to {output}")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def plugins(as_json: bool) -> None:
    """List plugins: loaded, failed (with the error) or skipped."""
    try:
        get_catalog()  # runs the register_* hooks, so that a plugin whose hook raises shows as failed
    except ZooError as exc:  # a name clash: still list the plugins, which is how one finds the culprit
        click.echo(f"Warning: {exc}", err=True)
    records = plugin_records()
    if as_json:
        _json([r.to_dict() for r in records])
        return
    rows = [
        [r.name, r.version or "-", "built-in" if r.builtin else r.status, r.error or ", ".join(r.hooks)]
        for r in records
    ]
    _table(rows, ["PLUGIN", "VERSION", "STATUS", "HOOKS / ERROR"])


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def datasets(as_json: bool) -> None:
    """List registered datasets."""
    specs = sorted(get_catalog().datasets.values(), key=lambda d: d.name)
    if as_json:
        _json(
            [
                {
                    k: getattr(d, k)
                    for k in ("name", "description", "splits", "image_size", "channels", "license", "plugin")
                }
                for d in specs
            ]
        )
        return
    _table(
        [[d.name, "/".join(d.splits), d.plugin, d.description] for d in specs],
        ["NAME", "SPLITS", "PLUGIN", "DESCRIPTION"],
    )


# -- cache ---------------------------------------------------------------------------------
@cli.group(cls=ZooGroup)
def cache() -> None:
    """Inspect, verify and clear downloaded weights (the Hugging Face cache)."""


def _models(names: tuple[str, ...]):
    catalog = get_catalog()
    return [catalog.resolve_model(n) for n in names] if names else [catalog.models[n] for n in catalog.list_models()]


@cache.command("ls")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def cache_ls(as_json: bool) -> None:
    """List models whose weights are in the cache."""
    from ._hub import cache_dir, cached_weights

    rows = []
    for model in _models(()):
        path = cached_weights(model)
        if path is not None:
            rows.append({"name": model.name, "path": str(path), "size": path.stat().st_size})
    if as_json:
        _json(rows)
        return
    click.echo(f"Cache: {cache_dir()}")
    if not rows:
        click.echo("No model weights are cached.")
        return
    _table([[r["name"], f"{r['size'] / 1e6:.1f} MB", r["path"]] for r in rows], ["NAME", "SIZE", "PATH"])


@cache.command("verify")
@click.argument("names", nargs=-1)
def cache_verify(names: tuple[str, ...]) -> None:
    """Re-check cached weights against the registry's sha256; bad files are deleted."""
    from ._hub import cached_weights, forget_verified, verify_file

    forget_verified()
    bad, checked = 0, 0
    for model in _models(names):
        path = cached_weights(model)
        if path is None:
            continue
        checked += 1
        try:
            verify_file(path, model.weights["sha256"], model.name, discard=True)
            click.echo(f"ok   {model.name}")
        except ZooError as exc:
            bad += 1
            click.echo(f"BAD  {exc}")
    if bad:
        raise ZooError(f"{bad} of {checked} cached file(s) failed verification and were deleted.")
    click.echo(f"{checked} cached file(s) verified.")


@cache.command("rm")
@click.argument("names", nargs=-1)
@click.option("--all", "remove_all", is_flag=True, help="Remove the weights of every registered model.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def cache_rm(names: tuple[str, ...], remove_all: bool, yes: bool) -> None:
    """Remove the cached repositories of the named models."""
    import shutil

    from ._hub import repo_cache_folder

    if not names and not remove_all:
        raise click.UsageError("Name the models to remove, or pass --all.")
    folders = {repo_cache_folder(m.weights["repo_id"]): m.name for m in _models(() if remove_all else names)}
    present = {f: n for f, n in folders.items() if f.exists()}
    if not present:
        click.echo("Nothing to remove.")
        return
    if not yes:
        click.confirm(f"Remove {len(present)} cached repositories ({', '.join(present.values())})?", abort=True)
    for folder, name in present.items():
        shutil.rmtree(folder)
        click.echo(f"removed {name}: {folder}")


# -- hub -----------------------------------------------------------------------------------
@cli.group(cls=ZooGroup)
def hub() -> None:
    """Serve a folder in Hub layout as a Hugging Face-compatible endpoint (olah)."""


@hub.command("serve")
@click.argument("folder", type=click.Path(file_okay=False))
@click.option(
    "--port",
    default=0,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port on loopback (0: a free one).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (keep it on loopback).")
def hub_serve(folder: str, port: int, host: str) -> None:
    """Serve FOLDER (org/name/ model folders) until interrupted; prints the HF_ENDPOINT to export."""
    import signal
    import time

    from .hub_server import HubServer

    server = HubServer(folder, host=host, port=port)

    def stop(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        server.start()
        for repo_id, revision in server.revisions.items():
            click.echo(f"serving {repo_id} @ {revision}")
        click.echo(f"export HF_ENDPOINT={server.endpoint}", err=False)
        sys.stdout.flush()
        while server.process is not None and server.process.poll() is None:
            time.sleep(0.5)
        raise ZooError(f"olah stopped unexpectedly; see {server.log_path}.")
    except KeyboardInterrupt:
        click.echo("Hub stopped.", err=True)
    finally:
        server.stop()


@hub.command("revisions")
@click.argument("folder", type=click.Path(file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def hub_revisions(folder: str, as_json: bool) -> None:
    """Print the revision `zoo hub serve` gives each repository of FOLDER (for the registry)."""
    import tempfile

    from .hub_server import build_mirror

    with tempfile.TemporaryDirectory(prefix="zoo-rev-") as tmp:
        revisions = build_mirror(folder, tmp)
    if as_json:
        _json(revisions)
        return
    for repo_id, revision in revisions.items():
        click.echo(f"{repo_id} {revision}")


def _add_plugin_commands() -> None:
    pm = get_plugin_manager()
    for impl in pm.hook.register_commands.get_hookimpls():
        try:
            impl.function(cli=cli)
        except Exception as exc:  # a broken plugin must not break the CLI
            from ._plugins import mark_failed

            mark_failed(impl.plugin_name, f"register_commands: {type(exc).__name__}: {exc}")


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``zoo`` console script."""
    _add_plugin_commands()
    cli.main(args=argv, prog_name="zoo")


if __name__ == "__main__":
    main()
