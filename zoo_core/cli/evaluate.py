"""``zoo eval``: a model's metrics, by the protocol its card records."""

from __future__ import annotations

from typing import Any

import click

from .._catalog import get_catalog
from ._common import (
    SEED,
    key_values,
    print_json,
    print_table,
)


@click.command("eval")
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
    from ..evaluation import evaluate, reproduce_metrics

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
            metric_options.setdefault(metric, {}).update(key_values((key_value,), "--metric-option"))
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
            dataset_options=key_values(dataset_option_items, "--dataset-option") or None,
            metric_options=metric_options or None,
            protocol=protocol,
        )
    if as_json:
        print_json(results)
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
    print_table(rows, [*head[:2], "RECORDED", *head[2:]] if any("recorded" in r for r in results) else head)
