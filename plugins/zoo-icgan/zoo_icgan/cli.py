"""``zoo edit``: image files and folders edited to a class by a model of task ``image-editing``.

Added to ``zoo`` by the plugin's ``register_commands`` hook. No torch at module level: torch is imported
when the command runs, so ``zoo --help`` stays fast.

Paths, reading and writing are ``zoo translate``'s (``zoo_core.translate``): every input is opened and
decoded and every output path checked before the model loads; no output replaces an input unless
``--in-place`` is given (same real path or inode); a folder of inputs keeps its sub-folders under
``-o``; ``-o FILE.png`` with one input image writes that file; each output is written atomically, so a
failure or Ctrl-C leaves the outputs already complete and no partial file. RGB images are read as grey
for a grey model (ITU-R 601 luma). Images are not resized: one that is not the model's ``image_size``
is refused, naming the size it takes. Each output is ``model.edit(x, CLASS, seed=SEED)``.

``--grid`` writes one PNG instead: a row per input image, the image then its edits to every class
(0 .. num_classes - 1), as the published model's ``edits.png``.

Example:
    $ zoo edit icgan.mnist digits/ --to 7 -o sevens/
    $ zoo edit runs/icgan/final three.png --to 8 -o eight.png
    $ zoo edit icgan.mnist three.png four.png --grid -o edits.png
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import Any

import click

from zoo_core import ZooError
from zoo_core.cli._common import IN_PLACE_HELP, SEED, load_model

__all__ = ["edit"]

TASK = "image-editing"


def _check_model(model: Any, name: str, target: int | None) -> None:
    """Fail in one sentence unless ``model`` edits images (of 1 or 3 channels) and ``target`` is one of its classes."""
    if TASK not in model.tasks:
        raise ZooError(
            f"{name} does not edit images (its tasks: {', '.join(model.tasks) or 'none'}); "
            "pick an image-editing model (`zoo list --task image-editing`)."
        )
    if int(model.input_channels) not in (1, 3):
        raise ZooError(
            f"{name} edits {model.input_channels}-channel images, which image files do not hold (grey or RGB); "
            "call its edit() on tensors instead."
        )
    classes = int(model.num_classes)
    if target is not None and not 0 <= target < classes:
        raise ZooError(f"--to {target} is not a class of {name}, which edits to classes 0 to {classes - 1}; pick one.")


def _check_size(model: Any, name: str, path: Path, size: tuple[int, int] | None) -> None:
    """Refuse an image (``size``: (width, height)) that is not the model's size, naming the size it takes."""
    from zoo_core.translate import probe_image

    w, h = size or probe_image(path)
    s = int(model.image_size)
    if (h, w) != (s, s):
        raise ZooError(f"{path} is {h}x{w} pixels, but {name} edits {s}x{s} images; resize it first.")


def _input_files(inputs: tuple[str, ...]) -> list[tuple[Path, tuple[int, int]]]:
    """The image files of ``inputs`` (folders searched as ``zoo translate`` does), each decoded once, with its size."""
    from zoo_core.translate import list_images, probe_image

    files: list[Path] = []
    for item in map(Path, inputs):
        if item.is_dir():
            files += list_images(item, Path(os.devnull))  # no output folder to skip
        elif item.is_file():
            files.append(item)
        else:
            raise ZooError(f"{item} does not exist; give image files or folders.")
    return [(path, probe_image(path)) for path in files]


def _write_grid(name: str, inputs: tuple[str, ...], output: str, seed: int, device: str | None) -> None:
    """Each input image, then its edits to every class, one row per image, into the PNG file ``output``."""
    import torch

    from zoo_core._atomic import check_output_path, same_file
    from zoo_core._images import save_grid
    from zoo_core.translate import read_image

    if Path(output).suffix.lower() != ".png":
        raise ZooError(f"--grid writes one PNG file; give -o a name ending in .png, not {output}.")
    files = _input_files(inputs)
    for path, _ in files:
        if same_file(output, path):
            raise ZooError(f"-o {output} is the input {path}: the grid would destroy it; choose another -o.")
    check_output_path(output)
    model = load_model(name, device, None)
    _check_model(model, name, None)
    for path, size in files:
        _check_size(model, name, path, size)
    classes = int(model.num_classes)
    rows = []
    for path, _ in files:
        x = read_image(path, int(model.input_channels))[None]
        edits = model.edit(x.expand(classes, -1, -1, -1), torch.arange(classes), seed=seed)
        rows.append(torch.cat([x, edits.float().cpu()]))
    save_grid(torch.cat(rows), output, nrow=classes + 1)
    click.echo(f"Wrote the edits of {len(files)} image(s) to classes 0-{classes - 1} from {name} to {output}")


def _write_edits(
    name: str, inputs: tuple[str, ...], output: str, target: int, seed: int, device: str | None, in_place: bool
) -> None:
    """Each input image edited to ``target``, written as ``zoo translate`` writes its outputs."""
    from tqdm.auto import tqdm

    from zoo_core._atomic import write_output
    from zoo_core.translate import encode_image, new_folders, prepare_jobs, read_image

    jobs = prepare_jobs(inputs, output, in_place=in_place)  # paths, outputs and images: before the model loads
    model = load_model(name, device, None)
    _check_model(model, name, target)
    for job in jobs:
        _check_size(model, name, job.source, job.size)
    created = new_folders(jobs)
    try:
        with tqdm(total=len(jobs), desc="edit", unit="image", disable=not sys.stderr.isatty() or len(jobs) < 2) as bar:
            for job in jobs:
                x = read_image(job.source, int(model.input_channels))[None]
                data = encode_image(model.edit(x, target, seed=seed)[0], job.target)
                write_output(job.target, data)
                bar.update()
    except BaseException:
        for folder in created:  # none holds a complete output of this run (else it is not empty)
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
    where = jobs[0].target if len(jobs) == 1 else output
    click.echo(f"Wrote {len(jobs)} image(s) edited to class {target} from {name} to {where}")


@click.command("edit")
@click.argument("name", metavar="NAME_OR_FOLDER")
@click.argument("inputs", nargs=-1, metavar="IMAGE...")
@click.option("--to", "target", type=int, default=None, help="The class to edit each image to (0 to num_classes-1).")
@click.option("--grid", is_flag=True, help="Write one PNG: each input, then its edits to every class (a row each).")
@click.option(
    "-o", "--output", required=True, help="Folder to write (an image file with one input image; the PNG with --grid)."
)
@click.option("--seed", default=0, show_default=True, type=SEED, help="Seed of the model's noise, if its edit has any.")
@click.option("--device", default=None, help="torch device, e.g. cpu or cuda.")
@click.option("--in-place", is_flag=True, help=IN_PLACE_HELP)
def edit(
    name: str,
    inputs: tuple[str, ...],
    target: int | None,
    grid: bool,
    output: str,
    seed: int,
    device: str | None,
    in_place: bool,
) -> None:
    """Edit images (files or folders) to class --to with an image-editing model, keeping their style.

    The images must be the model's size (e.g. 32x32 digits for icgan.mnist); RGB images are read
    as grey for a grey model. Checked and written as `zoo translate` does: every path is checked
    before the model loads, no output replaces an input unless --in-place, each is written
    atomically. --grid writes one PNG, a row per input: the image, then its edit to each class.

    \b
    Example:
        zoo edit icgan.mnist digits/ --to 7 -o sevens/
        zoo edit icgan.mnist three.png --to 8 -o eight.png
        zoo edit icgan.mnist three.png four.png --grid -o edits.png
    """
    if not inputs:
        raise click.UsageError("Give at least one image or folder.")
    if grid and target is not None:
        raise click.UsageError("Give --to CLASS or --grid (every class), not both.")
    if not grid and target is None:
        raise click.UsageError("Give --to CLASS (the class to edit to), or --grid for edits to every class.")
    if grid:
        if in_place:
            raise click.UsageError("--grid writes a new PNG file and replaces no input; drop --in-place.")
        _write_grid(name, inputs, output, seed, device)
    else:
        _write_edits(name, inputs, output, int(target), seed, device, in_place)  # type: ignore[arg-type]
