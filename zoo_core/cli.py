"""The ``zoo`` command line.

Exit codes: 0 success, 1 failure (one sentence on stderr, no traceback), 2 usage.
``zoo list`` and ``zoo info`` never import torch.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import sys
from typing import Any
from urllib.parse import urlsplit

import click

from . import __version__
from ._catalog import get_catalog
from ._errors import ZooError
from ._plugins import get_plugin_manager, plugin_records

#: what ``--seed`` takes on every command: torch seeds generators with 64 bits; 63 leave room for seed + offset
SEED = click.IntRange(0, 2**63 - 1)

#: set to 1 for the traceback of an internal error (a bug), which is otherwise one sentence
DEBUG_ENV = "ZOO_DEBUG"

_USER_OS_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EROFS}


def _first_line(exc: BaseException, limit: int = 200) -> str:
    text = (str(exc).strip().splitlines() or [""])[0]
    return text if len(text) <= limit else text[: limit - 3] + "..."


class ZooGroup(click.Group):
    """A click group that turns every error into one line on stderr: exit 1 (2 for usage), never a traceback.

    ``ZooError`` is the message as it is. Anything else reaching this point is a bug in zoo or a plugin:
    the user still gets one sentence ("zoo hit an internal error ...") and exit 1, or the traceback with
    ``ZOO_DEBUG=1``. ``MemoryError`` and a full disk or a refused write say so; Ctrl-C exits 130; a closed
    pipe (``zoo list | head -1``) ends quietly.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ZooError as exc:
            raise click.ClickException(str(exc)) from None
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            sys.exit(130)
        except (click.exceptions.ClickException, click.exceptions.Abort, click.exceptions.Exit):
            raise
        except OSError as exc:
            if exc.errno == errno.EPIPE:
                raise  # click ends quietly on a closed pipe
            if exc.errno in _USER_OS_ERRORS and os.environ.get(DEBUG_ENV) != "1":
                verb = "write" if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS) else "access"
                where = f" {exc.filename}" if exc.filename else ""
                raise click.ClickException(f"Cannot {verb}{where}: {exc.strerror or exc}.") from None
            self._internal_error(exc)
        except Exception as exc:  # MemoryError included
            self._internal_error(exc)

    @staticmethod
    def _internal_error(exc: Exception) -> None:
        if os.environ.get(DEBUG_ENV) == "1":
            raise exc
        # torch's allocators: MemoryError, torch.cuda.OutOfMemoryError, "DefaultCPUAllocator: can't allocate memory"
        out_of_memory = type(exc).__name__ == "OutOfMemoryError" or "can't allocate memory" in str(exc)
        if isinstance(exc, MemoryError) or out_of_memory:
            raise click.ClickException(
                "zoo ran out of memory; ask for less (a smaller -n, --batch-size, image or model) "
                "or use a machine with more memory."
            ) from None
        raise click.ClickException(
            f"zoo hit an internal error ({type(exc).__name__}: {_first_line(exc)}); this is a bug in zoo or a "
            f"plugin: please report it, with {DEBUG_ENV}=1 for the traceback."
        ) from None

    def main(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().main(*args, **kwargs)
        finally:
            try:  # output still buffered for a reader that has gone (`zoo list | head -1`): drop it quietly
                sys.stdout.flush()
            except (BrokenPipeError, ValueError):
                with contextlib.suppress(OSError, ValueError):
                    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


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
        source = _source_text(model, "ours")
        rows.append([name, ",".join(model.tasks), _params(model.num_params), model.dataset["name"], source])
    _table(rows, ["NAME", "TASKS", "PARAMS", "DATASET", "SOURCE"])


def _source_text(model: Any, ours: str) -> str:
    source = ours if model.source == "zoo" else "downloaded from the authors"
    if model.weights.get("manual"):  # a file-sharing page: the user fetches the file
        source = "from the authors, file saved by you"
    if "url" in model.weights:  # the authors' own server, not a Hub repository
        source += f" ({urlsplit(model.weights['url']).hostname})"
    return source


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
        ("catalog", f"{model.catalog} ({model.layer})" if model.catalog else model.layer),
        ("tasks", ", ".join(model.tasks)),
        ("parameters", f"{model.num_params:,}" if model.num_params else "-"),
        ("source", _source_text(model, "trained by zoo")),
        ("weights", w["url"] if "url" in w else f"{w['repo_id']}/{w['filename']} @ {w['revision']}"),
        ("sha256", w["sha256"] or _pin_text(model)),
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


def _pin_text(model: Any) -> str:
    from .hub.pins import expected_sha256

    pinned = expected_sha256(model)
    if pinned:
        return f"{pinned} (not in the registry: pinned here on the first verified download)"
    return "not pinned in the registry: pinned on the first verified download"


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
    click.echo(f"Loaded {model.pretrained.name if model.pretrained is not None else name}")
    click.echo(f"  architecture: {model.architecture} ({type(model).__module__}.{type(model).__name__})")
    click.echo(f"  tasks:        {', '.join(model.tasks)}")
    click.echo(f"  parameters:   {model.num_parameters():,}")
    click.echo(f"  device/dtype: {model.device} / {str(model.dtype).removeprefix('torch.')}")
    if model.weights_path is not None:
        click.echo(f"  weights:      {model.weights_path} (sha256 verified)")


@cli.command()
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
    from ._atomic import check_output_path, same_file
    from ._images import save_grid

    if text is not None and embedding_file is not None:
        raise click.UsageError("Give --text or --embedding, not both.")
    if embedding_file is not None and same_file(output, embedding_file):
        raise ZooError(f"-o {output} is the embedding {embedding_file}: the grid would destroy it; choose another -o.")
    check_output_path(output)  # under a file, a folder, a device, a read-only folder: before the model loads
    conditioned = text is not None or embedding_file is not None
    embedding = _read_embedding(embedding_file) if embedding_file else None  # a bad file fails before loading
    model = _load(name, device, None)
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


IN_PLACE_HELP = (
    "Let an output replace its own input (e.g. -o photo.png for photo.png, or -o DIR for the input DIR), "
    "atomically; without it an output that is an input is refused."
)


def _translate_files(name: str, inputs: tuple[str, ...], output: str, device: str | None, **options: Any) -> None:
    from .translate import prepare_jobs, translate_files

    if not inputs:
        raise click.UsageError("Give at least one image or folder.")
    in_place = bool(options.get("in_place"))
    jobs = prepare_jobs(inputs, output, in_place=in_place)  # paths, outputs and images: before the model loads
    model = _load(name, device, None)
    jobs = translate_files(model, inputs, output, name=name, jobs=jobs, **options)
    where = jobs[0].target if len(jobs) == 1 else output
    click.echo(f"Wrote {len(jobs)} image(s) from {name} to {where}")


@cli.command()
@click.argument("name")
@click.argument("inputs", nargs=-1, metavar="INPUT...")
@click.option("-o", "--output", required=True, help="Image file (one input image) or folder to write.")
@click.option("--direction", type=click.Choice(["AtoB", "BtoA"]), default=None, help="For two-way models.")
@click.option("--seed", default=0, show_default=True, type=SEED, help="Seed of the model's noise (test-time dropout).")
@click.option("--device", default=None, help="torch device, e.g. cpu or cuda.")
@click.option("--in-place", is_flag=True, help=IN_PLACE_HELP)
def translate(
    name: str,
    inputs: tuple[str, ...],
    output: str,
    direction: str | None,
    seed: int,
    device: str | None,
    in_place: bool,
) -> None:
    """Translate images (files or folders, any size) with an image-to-image model.

    Every input and output path is checked before the model loads; an output never replaces an input
    unless --in-place is given; each output is written atomically (Ctrl-C or a full disk leaves no
    partial file, and the outputs already complete stay). A progress bar shows on a terminal.
    """
    _translate_files(name, inputs, output, device, direction=direction, seed=seed, in_place=in_place)


@cli.command()
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


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def plugins(as_json: bool) -> None:
    """List plugins: loaded, partly (a part skipped, with why), failed (with the error) or skipped."""
    try:
        get_catalog()  # runs the register_* hooks, so that a plugin whose hook raises shows as failed
    except ZooError as exc:  # e.g. a broken registry file: still list the plugins
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


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def metrics(as_json: bool) -> None:
    """List registered metrics."""
    specs = sorted(get_catalog().metrics.values(), key=lambda m: m.name)
    if as_json:
        fields = ("name", "description", "tasks", "higher_is_better", "unit", "plugin")
        _json([{k: getattr(m, k) for k in fields} for m in specs])
        return
    rows = [
        [m.name, ",".join(m.tasks) or "-", "higher" if m.higher_is_better else "lower", m.description] for m in specs
    ]
    _table(rows, ["NAME", "TASKS", "BETTER", "DESCRIPTION"])


@cli.command("eval")
@click.argument("name")
@click.option(
    "--metric",
    "metric_names",
    multiple=True,
    help="A metric (repeat for several); default: every metric the model's entry records.",
)
@click.option(
    "--metric-option",
    "metric_option_items",
    multiple=True,
    metavar="METRIC:KEY=VALUE",
    help="An option of one metric, e.g. psnr-y:crop_border=2 (repeat for several; with --dataset).",
)
@click.option(
    "--dataset",
    default=None,
    help="Dataset to compare with (`zoo datasets`); without it, each metric's recorded protocol is run again.",
)
@click.option(
    "--dataset-option",
    "dataset_option_items",
    multiple=True,
    metavar="KEY=VALUE",
    help="An option of the dataset's loader, e.g. size=32 (repeat for several; with --dataset).",
)
@click.option("--split", default=None, help="Dataset split (with --dataset; default: test).")
@click.option(
    "--protocol",
    default=None,
    help="The evaluation protocol (with --dataset; default: the one that fits the model's task and the metric).",
)
@click.option(
    "-n",
    "--num",
    "n",
    default=None,
    type=click.IntRange(1, 1_000_000),
    help="Samples to draw or items to evaluate (default: the recorded count, else as many as the split has images).",
)
@click.option("--seed", default=None, type=SEED, help="Seed of the samples (default: the recorded seed, else 0).")
@click.option("--batch-size", default=250, show_default=True, type=click.IntRange(min=1))
@click.option("--device", default=None, help="torch device, e.g. cpu or cuda.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def eval_command(
    name: str,
    metric_names: tuple[str, ...],
    metric_option_items: tuple[str, ...],
    dataset: str | None,
    dataset_option_items: tuple[str, ...],
    split: str | None,
    protocol: str | None,
    n: int | None,
    seed: int | None,
    batch_size: int,
    device: str | None,
    as_json: bool,
) -> None:
    """Evaluate a model: `zoo eval vae.mnist` computes the entry's recorded metrics again, each with its recorded
    protocol (dataset, split, options, samples, seed), beside the recorded value; `zoo eval vae.mnist --metric
    fid-mnist --dataset mnist5k -n 5000` measures what you ask."""
    from .evaluation import evaluate, reproduce_metrics

    catalog = get_catalog()
    for metric in metric_names:
        catalog.metric(metric)  # unknown names fail before any download
    if dataset is None:
        given = [
            flag
            for flag, value in (
                ("--metric-option", metric_option_items),
                ("--dataset-option", dataset_option_items),
                ("--split", split),
                ("--protocol", protocol),
            )
            if value
        ]
        if given:
            raise click.UsageError(f"{given[0]} needs --dataset (without it, the recorded protocols are run).")
        results = reproduce_metrics(
            name, list(metric_names) or None, n=n, seed=seed, batch_size=batch_size, device=device,
            progress=not as_json,
        )  # fmt: skip
    else:
        if not metric_names:
            raise click.UsageError("Name the metrics to measure on --dataset (--metric M).")
        catalog.dataset(dataset.partition(":")[0])
        metric_options: dict[str, dict[str, Any]] = {}
        for item in metric_option_items:
            metric, sep, key_value = item.partition(":")
            hint = "--metric-option"
            if not sep or "=" not in key_value:
                raise click.BadParameter(
                    f"{item!r} is not METRIC:KEY=VALUE, e.g. psnr-y:crop_border=2.", param_hint=hint
                )
            if metric not in metric_names:
                raise click.BadParameter(f"{metric!r} is not among the --metric names evaluated.", param_hint=hint)
            metric_options.setdefault(metric, {}).update(_key_values((key_value,), "--metric-option"))
        results = evaluate(
            name,
            list(metric_names),
            dataset,
            split=split or "test",
            n=n,
            seed=0 if seed is None else seed,
            batch_size=batch_size,
            device=device,
            progress=not as_json,
            dataset_options=_key_values(dataset_option_items, "--dataset-option") or None,
            metric_options=metric_options or None,
            protocol=protocol,
        )
    if as_json:
        _json(results)
        return
    rows = []
    for r in results:
        options = {**r.get("dataset_options", {}), **r.get("metric_options", {})}
        data = " ".join(
            filter(None, [r.get("dataset"), r.get("split"), ",".join(f"{k}={v}" for k, v in options.items())])
        )
        row = [r["name"], f"{r['value']:.4f}", r.get("unit", ""), data or "-", str(r.get("samples", "-"))]
        if "recorded" in r:
            row.insert(2, f"{r['recorded']:.4f}")
        rows.append(row)
    head = ["METRIC", "VALUE", "UNIT", "DATA", "SAMPLES"]
    _table(rows, [*head[:2], "RECORDED", *head[2:]] if any("recorded" in r for r in results) else head)


def _key_values(items: tuple[str, ...], param_hint: str) -> dict[str, Any]:
    """``KEY=VALUE`` options as a dict; values are JSON when they parse (numbers, true/false, lists), else strings.

    The values are not checked here: the config dataclass (``--config``), the training step's
    parameters (``--train-config``) or the dataset's loader check them, and name the key and what it takes.
    """
    values: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", param_hint=param_hint)
        try:
            values[key] = json.loads(value)
        except (ValueError, RecursionError):  # not JSON (or absurdly long or deep): the string as typed
            values[key] = value
    return values


@cli.command()
@click.argument("converter")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False), help="Hub-layout folder to write.")
@click.option("--config", "overrides", multiple=True, metavar="KEY=VALUE", help="Config of the target model.")
def convert(converter: str, file: str, output: str, overrides: tuple[str, ...]) -> None:
    """Convert a foreign checkpoint FILE with CONVERTER into a Hub-layout folder (ready for `zoo push`)."""
    from ._factory import convert_checkpoint

    folder = convert_checkpoint(converter, file, output, _key_values(overrides, "--config"))
    click.echo(f"Wrote {folder} (config.json, model.safetensors, README.md)")


# -- train, push, registry ------------------------------------------------------------------
def _train_command_line() -> str | None:
    """The command line as typed (``zoo ...``, ``python -m zoo_core ...`` or under ``torchrun``), if it is a train."""
    import os
    import shlex
    from pathlib import Path

    argv = sys.argv[1:]
    if not argv or argv[0] != "train":
        return None  # called in-process (tests, scripts): the trainer writes the equivalent command
    world = int(os.environ.get("WORLD_SIZE", "1") or 1)
    if world > 1:
        per_node = os.environ.get("LOCAL_WORLD_SIZE", str(world))
        nodes = world // max(int(per_node), 1)
        prefix = f"torchrun --nproc_per_node {per_node}" + (f" --nnodes {nodes}" if nodes > 1 else "") + " -m zoo_core"
    elif Path(sys.argv[0]).name == "__main__.py":
        prefix = "python -m zoo_core"
    else:
        prefix = "zoo"
    # A local Hub folder is part of how the run was made (FID-MNIST's classifier may come from it).
    from .hub.weights import hub_dirs

    local_hubs = hub_dirs()
    if local_hubs:
        local_hub = os.pathsep.join(os.path.relpath(folder) for folder in local_hubs)
        prefix = f"ZOO_HUB_DIR={shlex.quote(local_hub)} {prefix}"
    return f"{prefix} {shlex.join(argv)}"


@cli.command()
@click.argument("architecture")
@click.option("--dataset", required=True, help="Dataset to train on (`zoo datasets`).")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Run folder: checkpoints, logs, model/.")
@click.option(
    "--dataset-option", "dataset_items", multiple=True, metavar="KEY=VALUE",
    help="Option of the dataset's loader, e.g. size=32 for mnist5k (repeat).",
)  # fmt: skip
@click.option("--config", "config_items", multiple=True, metavar="KEY=VALUE", help="Model config key (repeat).")
@click.option(
    "--train-config", "step_items", multiple=True, metavar="KEY=VALUE",
    help="Hyper-parameter of the architecture's training step, e.g. lr=3e-4 (repeat).",
)  # fmt: skip
@click.option("--epochs", type=click.IntRange(min=1), help="Epochs to train (default: the paper's).")
@click.option("--steps", type=click.IntRange(min=1), help="Optimiser steps to train, instead of --epochs.")
@click.option(
    "--batch-size", type=click.IntRange(min=1), help="Global batch, split over processes (default: the paper's)."
)
@click.option("--seed", type=SEED, default=None, help="Random seed (default 0, or the resumed run's).")
@click.option("--split", default="train", show_default=True, help="Dataset split to train on.")
@click.option(
    "--resume",
    is_flag=True,
    help="Continue the run in --out from its newest checkpoint that verifies (latest.json's, else the newest "
    "step-* folder whose sha256 match); log.jsonl is appended to.",
)
@click.option(
    "--restart",
    is_flag=True,
    help="Start over in an --out that holds a run: its checkpoints/, log.jsonl, samples/, tensorboard/, model/ ... "
    "are first moved into --out/previous-<UTC time>/ (nothing is deleted).",
)
@click.option(
    "--precision",
    type=click.Choice(["fp32", "bf16"]),
    default="fp32",
    show_default=True,
    help="bf16: autocast the forward passes to bfloat16.",
)
@click.option("--compile", "compile_", is_flag=True, help="torch.compile the networks.")
@click.option("--device", default=None, help="torch device, e.g. cpu or cuda (default: cuda when available).")
@click.option(
    "--checkpoint-every",
    default=500,
    show_default=True,
    type=click.IntRange(min=1),
    help="Steps between checkpoints (OUT/checkpoints/; one more at the end).",
)
@click.option(
    "--sample-every",
    default=500,
    show_default=True,
    type=click.IntRange(min=1),
    help="Steps between sample grids (OUT/samples/).",
)
@click.option(
    "--log-every",
    default=10,
    show_default=True,
    type=click.IntRange(min=1),
    help="Steps between lines of OUT/log.jsonl.",
)
@click.option("--keep", default=3, show_default=True, type=click.IntRange(min=1), help="Checkpoints to keep.")
@click.option("--workers", default=0, show_default=True, type=click.IntRange(min=0), help="Data-loading processes.")
@click.option("--name", default=None, help="Model name in the card, ARCH.TAG (default ARCH.DATASET).")
@click.option("--repo-id", default=None, help="Hub repository the card suggests (default zoo/ARCH-DATASET).")
@click.option(
    "--eval/--no-eval",
    "evaluate",
    default=True,
    show_default=True,
    help="Evaluate the architecture's metrics at the end.",
)
@click.option(
    "--eval-samples",
    type=click.IntRange(min=1),
    default=None,
    help="Samples for sample-based metrics (default: as many as the test split has images).",
)
def train(
    architecture: str,
    dataset: str,
    out: str,
    dataset_items: tuple[str, ...],
    config_items: tuple[str, ...],
    step_items: tuple[str, ...],
    epochs: int | None,
    steps: int | None,
    batch_size: int | None,
    seed: int | None,
    split: str,
    resume: bool,
    restart: bool,
    precision: str,
    compile_: bool,
    device: str | None,
    checkpoint_every: int,
    sample_every: int,
    log_every: int,
    keep: int,
    workers: int,
    name: str | None,
    repo_id: str | None,
    evaluate: bool,
    eval_samples: int | None,
) -> None:
    """Train ARCHITECTURE on a dataset; ends with a Hub folder OUT/model/ (see `zoo push`, `zoo registry add`).

    Under `torchrun --nproc_per_node N -m zoo_core train ...` it trains with DistributedDataParallel.

    An --out that already holds checkpoints is refused unless --resume (continue it) or --restart
    (move its files aside, then start over) is given: a run is never started over silently.
    """
    if epochs is not None and steps is not None:
        raise click.UsageError("--epochs and --steps exclude each other; give one of them.")
    if resume and restart:
        raise click.UsageError("--resume and --restart exclude each other; give one of them.")
    if name is not None:  # refused before any work, not at `zoo registry add` after the training
        from ._registry import check_model_name

        check_model_name(name, architecture, where="--name")
    from .training import TrainConfig, Trainer

    config = TrainConfig(
        architecture=architecture,
        dataset=dataset,
        out=out,
        dataset_options=_key_values(dataset_items, "--dataset-option") if dataset_items else None,
        config=_key_values(config_items, "--config"),
        step_config=_key_values(step_items, "--train-config"),
        epochs=epochs,
        steps=steps,
        batch_size=batch_size,
        seed=seed,
        split=split,
        resume=resume,
        restart=restart,
        precision=precision,
        compile=compile_,
        device=device,
        checkpoint_every=checkpoint_every,
        sample_every=sample_every,
        log_every=log_every,
        keep=keep,
        num_workers=workers,
        evaluate=evaluate,
        eval_samples=eval_samples,
        name=name,
        repo_id=repo_id,
    )
    config.command = _train_command_line() or config.to_command()
    Trainer(config).run()


@cli.command("push")
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
    from .push import push

    plan = push(folder, repo_id, revision=revision, private=private, dry_run=dry_run, commit_message=commit_message)
    visibility = "private" if private else "public"
    what = f"{len(plan.files)} files ({plan.total_size:,} bytes) from {plan.folder}"
    target = f"{plan.repo_id} (model repository, revision {plan.revision}, {visibility})"
    if dry_run:
        click.echo(f"Dry run: would upload {what} to {target}; nothing was uploaded.")
        _table([[f.sha256, str(f.size), f.path] for f in plan.files], ["SHA256", "BYTES", "PATH"])
        return
    click.echo(f"Uploaded {what} to {target}" + (f": {plan.commit_url}" if plan.commit_url else "."))


@cli.group(cls=ZooGroup)
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
    from ._registry import check_model_name, registry_path
    from .training.finish import register_run

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


# -- cache ---------------------------------------------------------------------------------
@cli.group(cls=ZooGroup)
def cache() -> None:
    """Inspect, verify and clear downloaded weights (the Hugging Face cache, and zoo's for plain URLs)."""


def _models(names: tuple[str, ...]):
    catalog = get_catalog()
    return [catalog.resolve_model(n) for n in names] if names else [catalog.models[n] for n in catalog.list_models()]


@cache.command("ls")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def cache_ls(as_json: bool) -> None:
    """List models whose weights are in the cache."""
    from .hub.cache import cache_dir, partial_downloads, zoo_cache_dir
    from .hub.weights import cached_weights

    rows = []
    for model in _models(()):
        path = cached_weights(model)
        if path is not None:
            rows.append({"name": model.name, "path": str(path), "size": path.stat().st_size})
    if as_json:
        _json(rows)
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
    _table([[r["name"], f"{r['size'] / 1e6:.1f} MB", r["path"]] for r in rows], ["NAME", "SIZE", "PATH"])


@cache.command("prune")
@click.option("--dry-run", is_flag=True, help="Show what would be removed; remove nothing.")
def cache_prune(dry_run: bool) -> None:
    """Remove leftovers: interrupted downloads (.incomplete, .part), unused lock files, broken links."""
    from .hub.cache import prune_cache

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
    from .hub.pins import expected_sha256
    from .hub.verify import forget_verified, verify_file
    from .hub.weights import cached_weights, check_converted

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

    from .hub.weights import cached_paths

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

    from .hub_server import build_mirror

    skipped: list[str] = []
    with tempfile.TemporaryDirectory(prefix="zoo-rev-") as tmp:
        revisions = build_mirror(folder, tmp, skipped)
    for link in skipped:
        click.echo(f"Warning: not serving {link}.", err=True)
    if as_json:
        _json(revisions)
        return
    for repo_id, revision in revisions.items():
        click.echo(f"{repo_id} {revision}")


# -- the kit for plugin authors: zoo architectures, zoo plugin new / check (zoo_core.testing, zoo_core.scaffold) --
@cli.command("architectures")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def architectures_command(as_json: bool) -> None:
    """List architectures: plugin, tasks, whether `zoo train` trains them, and their config fields.

    Reading the config fields imports each architecture's model class (and torch); an architecture whose
    class cannot be imported is listed with the error instead of its fields.
    """
    from .scaffold import describe_architectures

    rows = describe_architectures()
    if as_json:
        _json(rows)
        return
    for row in rows:
        trainable = "trainable" if row["trainable"] else "not trainable"
        click.echo(f"{row['name']}  ({row['plugin'] or 'unknown plugin'}; {', '.join(row['tasks'])}; {trainable})")
        if row.get("error"):
            click.echo(f"    config: unavailable ({row['error']})")
        else:
            fields = ", ".join(f"{k}={json.dumps(v['default'])}" for k, v in row["config"].items())
            click.echo(f"    config: {fields or '(no fields)'}")


@cli.group(cls=ZooGroup)
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
    from .scaffold import write_plugin

    folder = write_plugin(name, task=task, directory=directory)
    click.echo(f"wrote the plugin {name} in {folder}")
    click.echo(f"next: pip install -e {folder} && zoo plugin check {name}")


@plugin.command("check")
@click.argument("target", metavar="NAME_OR_PATH")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def plugin_check(target: str, as_json: bool) -> None:
    """Run zoo's conformance checks (zoo_core.testing) on an architecture, an installed plugin (its distribution
    name) or a plugin folder; one line per check, exit 1 when one fails."""
    from .testing import check_plugin

    reports = check_plugin(target)
    if as_json:
        _json([report.to_dict() for report in reports])
    else:
        for report in reports:
            click.echo(report.text())
    failed = [(r.architecture, c.name) for r in reports for c in r.failed]
    if failed:
        where = ", ".join(f"{arch} {check}" for arch, check in failed[:3]) + (" ..." if len(failed) > 3 else "")
        raise ZooError(f"{len(failed)} conformance check(s) failed ({where}); see the lines marked FAILED above.")


_BUILTIN_COMMANDS: dict[str, click.Command] = {}
_ADDED_HOOKS: list[Any] = []  # register_commands implementations already run (main() may run twice in a process)


def _add_plugin_commands() -> None:
    """Add the plugins' commands: each plugin fills a group of its own, then its commands are merged in.

    A name that is taken (a built-in command, or another plugin's) is reported and skipped; the
    built-in commands are put back should a plugin have replaced one at import.
    """
    from ._plugins import captured_stdout, describe_exception, mark_failed, report_problem

    if not _BUILTIN_COMMANDS:
        _BUILTIN_COMMANDS.update(cli.commands)
    pm = get_plugin_manager()
    for name, command in _BUILTIN_COMMANDS.items():
        if cli.commands.get(name) is not command:
            click.echo(
                f"Warning: a plugin replaced the built-in command {name!r} at import; zoo keeps its own.", err=True
            )
            cli.commands[name] = command
    for impl in pm.hook.register_commands.get_hookimpls():
        if impl.function in _ADDED_HOOKS:  # equal bound methods: the same plugin object
            continue
        _ADDED_HOOKS.append(impl.function)
        staging = ZooGroup(name=cli.name)
        try:
            with captured_stdout(impl.plugin_name, "in register_commands"):
                impl.function(cli=staging)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # a broken plugin must not break the CLI (SystemExit included)
            mark_failed(impl.plugin_name, f"register_commands failed, no command added: {describe_exception(exc)}")
            continue
        for name, command in staging.commands.items():
            if name in cli.commands:
                owner = "zoo (a built-in command)" if name in _BUILTIN_COMMANDS else "another plugin"
                report_problem(impl.plugin_name, f"its command {name!r} is already taken by {owner}; skipped")
                continue
            cli.add_command(command, name)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``zoo`` console script."""
    try:
        _add_plugin_commands()
    except KeyboardInterrupt:  # Ctrl-C (or a plugin raising KeyboardInterrupt) while plugins load
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    cli.main(args=argv, prog_name="zoo")


if __name__ == "__main__":
    main()
