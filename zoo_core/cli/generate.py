"""``zoo load``, ``sample``, ``translate``, ``upscale``: using a model."""

from __future__ import annotations

import json
from typing import Any

import click

from .._errors import ZooError
from ._common import (
    IN_PLACE_HELP,
    SEED,
    load_model,
)


@click.command()
@click.argument("name")
@click.option("--device", default=None, help="torch device, e.g. cpu or cuda.")
@click.option("--dtype", default=None, help="e.g. float32 or bfloat16.")
def load(name: str, device: str | None, dtype: str | None) -> None:
    """Download (once), verify and build a model; print what was loaded."""
    model = load_model(name, device, dtype)
    click.echo(f"Loaded {model.pretrained.name if model.pretrained is not None else name}")
    click.echo(f"  architecture: {model.architecture} ({type(model).__module__}.{type(model).__name__})")
    click.echo(f"  tasks:        {', '.join(model.tasks)}")
    click.echo(f"  parameters:   {model.num_parameters():,}")
    click.echo(f"  device/dtype: {model.device} / {str(model.dtype).removeprefix('torch.')}")
    if model.weights_path is not None:
        click.echo(f"  weights:      {model.weights_path} (sha256 verified)")


@click.command()
@click.argument("name")
@click.option(
    "-n", "--num", "n", default=64, show_default=True, type=click.IntRange(1, 10_000), help="Images (one grid)."
)  # fmt: skip
@click.option("--seed", default=0, show_default=True, type=SEED, help="Random seed.")
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
@click.option("--text", default=None, help='What to draw, for text-to-image models, e.g. "a thick seven".')
@click.option(
    "--embedding",
    "embedding_file",
    default=None,
    type=click.Path(exists=True, dir_okay=False),
    help="A sentence embedding (.safetensors with one tensor, or .npy) for text-to-image models, instead of --text.",
)
def sample(
    name: str,
    n: int,
    seed: int,
    output: str,
    nrow: int | None,
    device: str | None,
    text: str | None,
    embedding_file: str | None,
) -> None:
    """Draw N images from a model and write them as one grid PNG.

    Text-to-image models draw what --text says (or what an --embedding encodes), e.g.
    `zoo sample stackgan.mnist --text "a thick seven slanting to the right" -n 16 -o sevens.png`.
    The grid is written atomically: Ctrl-C or a full disk leaves no partial file.
    """
    from .._atomic import check_output_path, same_file
    from .._images import save_grid

    if text is not None and embedding_file is not None:
        raise click.UsageError("Give --text or --embedding, not both.")
    if embedding_file is not None and same_file(output, embedding_file):
        raise ZooError(f"-o {output} is the embedding {embedding_file}: the grid would destroy it; choose another -o.")
    check_output_path(output)  # under a file, a folder, a device, a read-only folder: before the model loads
    conditioned = text is not None or embedding_file is not None
    embedding = _read_embedding(embedding_file) if embedding_file else None  # a bad file fails before loading
    model = load_model(name, device, None)
    if "text-to-image" in model.tasks:
        if not conditioned:
            raise ZooError(f'{name} draws images from text: pass --text "..." (or --embedding FILE).')
        images = model.sample(n, text=text, embedding=embedding, seed=seed, progress=True)
    elif "unconditional" not in model.tasks:
        raise ZooError(f"{name} does not draw images unconditionally (its tasks: {', '.join(model.tasks)}).")
    elif conditioned:
        raise ZooError(f"{name} draws images unconditionally and takes no text; drop --text / --embedding.")
    else:
        images = model.sample(n, seed=seed, progress=True)
    save_grid(images, output, nrow)
    what = f" of {text!r}" if text is not None else (f" of {embedding_file}" if embedding_file else "")
    click.echo(f"Wrote {n} samples{what} from {name} (seed {seed}) to {output}")


def _read_embedding(path: str) -> Any:
    """One tensor from a .safetensors file (it must hold exactly one) or a .npy file (never unpickled)."""
    import torch

    try:
        if path.endswith(".npy"):
            import numpy as np

            return torch.from_numpy(np.load(path, allow_pickle=False)).float()
        from safetensors.torch import load_file

        tensors = load_file(path)
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "pickle" in reason:  # numpy's text would suggest allow_pickle: zoo never unpickles a file
            reason = "it holds pickled Python objects, which zoo never loads"
        raise ZooError(f"Cannot read the embedding {path}: {reason}; give a .safetensors or .npy file.") from None
    if len(tensors) != 1:
        names = ", ".join(sorted(tensors))
        raise ZooError(f"{path} holds {len(tensors)} tensors ({names}); an embedding file holds one.")
    return next(iter(tensors.values())).float()


def _translate_files(name: str, inputs: tuple[str, ...], output: str, device: str | None, **options: Any) -> None:
    from ..translate import prepare_jobs, translate_files

    if not inputs:
        raise click.UsageError("Give at least one image or folder.")
    in_place = bool(options.get("in_place"))
    jobs = prepare_jobs(inputs, output, in_place=in_place)  # paths, outputs and images: before the model loads
    model = load_model(name, device, None)
    jobs = translate_files(model, inputs, output, name=name, jobs=jobs, **options)
    where = jobs[0].target if len(jobs) == 1 else output
    click.echo(f"Wrote {len(jobs)} image(s) from {name} to {where}")


@click.command()
@click.argument("name")
@click.argument("inputs", nargs=-1, metavar="INPUT...")
@click.option("-o", "--output", required=True, help="Image file (one input image) or folder to write.")
@click.option("--direction", type=click.Choice(["AtoB", "BtoA"]), default=None, help="For two-way models.")
@click.option("--seed", default=0, show_default=True, type=SEED, help="Seed of the model's noise (test-time dropout).")
@click.option("--device", default=None, help="torch device, e.g. cpu or cuda.")
@click.option("--in-place", is_flag=True, help=IN_PLACE_HELP)
@click.option(
    "--option",
    "options",
    multiple=True,
    metavar="NAME=VALUE",
    help="A keyword the model's translate declares (another is refused, naming those it takes), VALUE as JSON "
    "or else a string; repeatable, e.g. --option 'attributes=[\"thick\"]'.",
)
def translate(
    name: str,
    inputs: tuple[str, ...],
    output: str,
    direction: str | None,
    seed: int,
    device: str | None,
    in_place: bool,
    options: tuple[str, ...],
) -> None:
    """Translate images (files or folders, any size) with an image-to-image model.

    Every input and output path is checked before the model loads; an output never replaces an input
    unless --in-place is given; each output is written atomically (Ctrl-C or a full disk leaves no
    partial file, and the outputs already complete stay). A progress bar shows on a terminal.
    A model that declares options in its contract (`translate_options`: StarGAN's target attributes)
    takes them with --option.

    Example:
        zoo translate pix2pix.colorize old.jpg -o new.png
        zoo translate stargan.mnist-style digits/ -o thick/ --option 'attributes={"thick": 1}'
    """
    _translate_files(
        name,
        inputs,
        output,
        device,
        direction=direction,
        seed=seed,
        in_place=in_place,
        options=_options(options) or None,
    )


def _options(items: tuple[str, ...]) -> dict[str, Any]:
    """``("attributes=[\"thick\"]", "mode=fast")`` as ``{"attributes": ["thick"], "mode": "fast"}``."""
    options: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.isidentifier():
            raise click.UsageError(f"--option takes NAME=VALUE, not {item!r}.")
        try:
            options[key] = json.loads(text)
        except ValueError:
            options[key] = text
    return options


@click.command()
@click.argument("name")
@click.argument("inputs", nargs=-1, metavar="INPUT...")
@click.option("-o", "--output", required=True, help="Image file (one input image) or folder to write.")
@click.option("--device", default=None, help="torch device, e.g. cpu or cuda.")
@click.option("--in-place", is_flag=True, help=IN_PLACE_HELP)
def upscale(name: str, inputs: tuple[str, ...], output: str, device: str | None, in_place: bool) -> None:
    """Super-resolve images (files or folders, any size; large ones are tiled by the model).

    Checked and written as `zoo translate` does: no output replaces an input unless --in-place,
    each written atomically, a progress bar (images, and tiles of a large image) on a terminal.
    """
    _translate_files(name, inputs, output, device, verb="upscale", in_place=in_place)
