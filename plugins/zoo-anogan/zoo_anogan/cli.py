"""``zoo score``: the anomaly scores of image files and folders, from a model of task ``anomaly-detection``.

Added to ``zoo`` by the plugin's ``register_commands`` hook. No torch at module level: torch is imported
when the command runs, so ``zoo --help`` stays fast.

The images are read as ``zoo translate`` reads its inputs (``zoo_core.translate``): a folder is searched
for image files (sub-folders included, hidden files skipped, sorted), every file is opened and decoded
before the model loads (a missing, damaged or oversized file fails first), RGB is converted to grey (ITU-R
601 luma, PIL's ``L``) when the model scores grey images, and a fully opaque alpha channel is dropped.
Images are not resized: one that is not the model's ``image_size`` is refused, naming the size it takes.
All images are scored in one batch (``model.score(x, method=..., seed=...)``), so the scores are those
of the Python verb on the same images stacked in the printed order; higher = more anomalous.

Example:
    $ zoo score anogan.mnist-no0 digits/ --json
    $ zoo score runs/anogan/final zero.png seven.png --method latent-search --steps 200 --seed 1
    zero.png	0.0712
    seven.png	0.0175
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from zoo_core import ZooError
from zoo_core.cli._common import SEED, load_model, print_json

from .tasks import SCORE_METHODS, TASK

__all__ = ["image_files", "score"]


def image_files(inputs: tuple[str, ...]) -> list[Path]:
    """The image files of ``inputs`` (files as given, folders searched as ``zoo translate`` does), each
    opened and decoded once; a missing path, an empty folder or an unreadable image is one sentence.

    Example:
        >>> image_files(("digits/", "extra.png"))
        [PosixPath('digits/a.png'), PosixPath('digits/b.png'), PosixPath('extra.png')]
    """
    from zoo_core.translate import list_images, probe_image

    files: list[Path] = []
    for item in map(Path, inputs):
        if item.is_dir():
            files += list_images(item, Path(os.devnull))  # no output folder to skip
        elif item.is_file():
            files.append(item)
        else:
            raise ZooError(f"{item} does not exist; give image files or folders.")
    for path in files:
        probe_image(path)  # decoded once: a damaged, truncated or too-large file fails before the model loads
    return files


def _read_batch(model: Any, name: str, files: list[Path]) -> Any:
    """The images of ``files`` as one ``(N, C, S, S)`` batch in [0, 1] of the model's channels, or one sentence."""
    import torch

    from zoo_core.translate import read_image

    config = model.config
    channels, size = int(getattr(config, "channels", 1)), getattr(config, "image_size", None)
    if channels not in (1, 3):
        raise ZooError(
            f"{name} scores {channels}-channel images, which image files do not hold (grey or RGB); "
            "call its score() on tensors instead."
        )
    images = []
    for path in files:
        image = read_image(path, channels)
        if size is not None and tuple(image.shape[-2:]) != (size, size):
            raise ZooError(
                f"{path} is {image.shape[-2]}x{image.shape[-1]} pixels, but {name} scores {size}x{size} images; "
                "resize it first."
            )
        images.append(image)
    return torch.stack(images)


@click.command("score")
@click.argument("name", metavar="NAME_OR_FOLDER")
@click.argument("inputs", nargs=-1, metavar="IMAGE...")
@click.option(
    "--method",
    type=click.Choice(SCORE_METHODS),
    default="encoder",
    show_default=True,
    help="encoder: f-AnoGAN's one pass through the encoder; latent-search: AnoGAN's search of the latent code.",
)
@click.option(
    "--steps",
    type=click.IntRange(0, 100_000),
    default=None,
    help="Adam steps of the latent search (default: the model's search_steps, 500); --method latent-search only.",
)
@click.option("--seed", default=0, show_default=True, type=SEED, help="Seed of the latent search's start codes.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of {path, score} instead of lines.")
@click.option("--device", default=None, help="torch device, e.g. cpu or cuda.")
def score(
    name: str,
    inputs: tuple[str, ...],
    method: str,
    steps: int | None,
    seed: int,
    as_json: bool,
    device: str | None,
) -> None:
    """Score images (files or folders) with an anomaly-detection model: higher = more anomalous.

    Prints one line per image, `PATH<TAB>SCORE`, in the order read (a folder's images sorted), or
    JSON with --json. The images must be the model's size (e.g. 32x32 for anogan.mnist-no0); RGB
    images are read as grey for a grey model. All images are checked before the model loads.

    \b
    Example:
        zoo score anogan.mnist-no0 digits/ zero.png
        zoo score runs/anogan/final digits/ --method latent-search --steps 200 --seed 1 --json
    """
    import inspect

    if not inputs:
        raise click.UsageError("Give at least one image or folder.")
    if steps is not None and method != "latent-search":
        raise click.UsageError("--steps sets the length of the latent search; add --method latent-search.")
    files = image_files(inputs)
    model = load_model(name, device, None)
    if TASK not in model.tasks:
        raise ZooError(
            f"{name} does not score anomalies (its tasks: {', '.join(model.tasks) or 'none'}); "
            "pick an anomaly-detection model (`zoo list --task anomaly-detection`)."
        )
    x = _read_batch(model, name, files)
    kwargs: dict[str, Any] = {}
    if steps is not None:
        if "steps" not in inspect.signature(model.score).parameters:
            raise ZooError(f"{name}'s latent search has no step count to set; drop --steps.")
        kwargs["steps"] = steps
    scores = [float(s) for s in model.score(x, method=method, seed=seed, **kwargs).float().cpu()]
    if as_json:
        print_json([{"path": str(path), "score": s} for path, s in zip(files, scores, strict=True)])
        return
    for path, s in zip(files, scores, strict=True):
        click.echo(f"{path}\t{s:.6g}")
