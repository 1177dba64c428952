"""``zoo convert``: a foreign checkpoint into a Hub-layout folder."""

from __future__ import annotations

import click

from ._common import (
    key_values,
)


@click.command()
@click.argument("converter")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False), help="Hub-layout folder to write.")
@click.option("--config", "overrides", multiple=True, metavar="KEY=VALUE", help="Config of the target model.")
def convert(converter: str, file: str, output: str, overrides: tuple[str, ...]) -> None:
    """Convert a foreign checkpoint FILE with CONVERTER into a Hub-layout folder (ready for `zoo push`)."""
    from .._factory import convert_checkpoint

    folder = convert_checkpoint(converter, file, output, key_values(overrides, "--config"))
    click.echo(f"Wrote {folder} (config.json, model.safetensors, README.md)")
