"""``zoo hub``: a local Hub for model folders (olah)."""

from __future__ import annotations

import sys

import click

from .._errors import ZooError
from ._common import (
    print_json,
)
from ._group import ZooGroup


@click.group(cls=ZooGroup)
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

    from ..hub_server import HubServer

    server = HubServer(folder, host=host, port=port)

    def stop(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    if hasattr(signal, "SIGHUP"):  # the terminal closed
        signal.signal(signal.SIGHUP, stop)
    try:
        server.start()
        for skipped in server.skipped:
            click.echo(f"Warning: not serving {skipped}.", err=True)
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

    from ..hub_server import build_mirror

    skipped: list[str] = []
    with tempfile.TemporaryDirectory(prefix="zoo-rev-") as tmp:
        revisions = build_mirror(folder, tmp, skipped)
    for link in skipped:
        click.echo(f"Warning: not serving {link}.", err=True)
    if as_json:
        print_json(revisions)
        return
    for repo_id, revision in revisions.items():
        click.echo(f"{repo_id} {revision}")
