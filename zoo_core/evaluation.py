"""``zoo eval``: feed a model's outputs and a dataset's items to registered metrics, through evaluation protocols.

The core knows tasks, metrics and protocols, nothing of any plugin's models. A protocol
(``zoo_core.EvaluationProtocol``, registered with the ``register_evaluation_protocols`` hook)
says how models of a task feed metrics: for each metric, ``evaluate`` picks a protocol of one of
the model's tasks whose ``provides`` holds every one of the metric's ``inputs`` (see
``zoo_core.metrics.Metric``), or the one named by ``protocol``. The built-in protocols:

- ``samples`` (unconditional): ``n`` seeded samples, in batches, and the split's images
  (``("fake", "real")``: FID, KID, Inception Score);
- ``captioned-samples`` (text-to-image): one image per caption of a captioned dataset, in dataset
  order, from one seeded noise stream, with the dataset's images and labels (FID, digit agreement);
- ``likelihood`` (latent, density): the model itself and the dataset's images (ELBO, NLL, bits/dim);
- ``translation`` (image-to-image): ``model.translate(image)`` against the dataset's ``target``
  (PSNR, SSIM, L1, per-pixel accuracy);
- ``classification`` (classification): ``model.classify(image)`` against the dataset's ``label``.

Plugins add their own (zoo-cyclegan: ``round-trip`` for cycle consistency, ``digits-mnist-translations``
for FID-MNIST and digit agreement of translations).

Every result is a metric record that holds the exact protocol that produced it, so that
``reproduce_metrics`` (``zoo eval NAME`` with no options) runs it again: ``dataset``, ``split``,
``dataset_options``, ``metric`` (when the value's name is not the metric's), ``metric_options``,
``evaluation`` (the protocol's name), ``samples`` (items or samples evaluated), ``seed`` (for a
seeded protocol) and ``protocol`` (in words).

Example:
    >>> import zoo_core as zoo
    >>> zoo.evaluate("vae.mnist", ["elbo", "fid-mnist"], "mnist5k")
    [{'name': 'elbo', 'value': -113.49, 'evaluation': 'likelihood', 'samples': 500, ...}, ...]
    >>> [r["value"] - r["recorded"] for r in reproduce_metrics("vae.mnist", ["elbo"])]
    [0.0]
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._catalog import get_catalog
from ._errors import ZooError
from .specs import EvaluationProtocol, resolve_target

if TYPE_CHECKING:
    import torch

    from .metrics import Metric
    from .modeling import ZooModel

__all__ = ["EvaluationRun", "batches", "evaluate", "find_protocol", "reproduce_metrics"]

#: the keys of a metric record besides ``name`` and ``value``, in the order they are written
RECORD_KEYS = (
    "unit",
    "dataset",
    "split",
    "dataset_options",
    "metric",
    "metric_options",
    "evaluation",
    "samples",
    "seed",
    "protocol",
)


@dataclass(frozen=True)
class EvaluationRun:
    """What a protocol's ``feed`` is asked to do: how many items, which seed, in which batches.

    ``n`` caps the items (or samples) evaluated (``None``: the whole split, or as many samples as
    it has images); ``metric_options`` are the options each metric was built with (by name).
    """

    dataset: str | None = None
    split: str = "test"
    n: int | None = None
    seed: int = 0
    batch_size: int = 250
    progress: bool = False
    metric_options: dict[str, dict[str, Any]] = field(default_factory=dict)

    def generator(self) -> torch.Generator:
        """One seeded stream for the whole run: the same ``n`` and ``seed`` give the same samples."""
        from .modeling import seeded_generator

        return seeded_generator(self.seed)

    def require(self, data: Any, what: str) -> Any:
        """``data``, or a ZooError saying that ``what`` needs a dataset."""
        if data is None:
            raise ZooError(f"{what} compares with a dataset's items: pass a dataset (--dataset).")
        return data


def batches(data: Any, n: int | None, batch_size: int, progress: bool, desc: str) -> Iterator[dict[str, Any]]:
    """The first ``n`` items of ``data`` (all when ``None``) in dataset order, batched (one by one for whole photos).

    Example:
        >>> next(batches(load_dataset("mnist5k", split="test"), 10, 4, False, "images"))["image"].shape
        torch.Size([4, 1, 28, 28])
    """
    from torch.utils.data import DataLoader, Subset
    from tqdm.auto import tqdm

    if data.image_size is None:  # images of different sizes (whole photos) batch one by one
        batch_size = 1
    if n is not None:
        data = Subset(data, range(min(n, len(data))))
    loader = DataLoader(data, batch_size=batch_size, shuffle=False)
    yield from tqdm(loader, desc=desc, unit="batch", disable=not progress or len(loader) < 2)


# -- the built-in protocols -----------------------------------------------------------------------


def feed_samples(model: ZooModel, data: Any, metrics: dict[str, Metric], run: EvaluationRun) -> int:
    """``unconditional``: ``n`` seeded samples (``fake``) and the first ``n`` of the split's images (``real``)."""
    import torch
    from tqdm.auto import tqdm

    wants_real = [m for m in metrics.values() if "real" in m.inputs]
    if wants_real:
        for batch in batches(run.require(data, repr(wants_real[0].name)), run.n, run.batch_size, run.progress, "real"):
            for metric in wants_real:
                metric.update(real=batch["image"])
    n = run.n or (len(data) if data is not None else None)
    if n is None:
        raise ZooError("Say how many samples to draw (-n) when no dataset is given.")
    generator = run.generator()  # one stream cut into batches: the images of model.sample(n, seed=...)
    sizes = [min(run.batch_size, n - i) for i in range(0, n, run.batch_size)]
    with torch.inference_mode():
        for size in tqdm(sizes, desc="sampling", unit="batch", disable=not run.progress or len(sizes) < 2):
            fake = model.sample_batch(size, generator).float().clamp_(0, 1)
            for metric in metrics.values():
                metric.update(fake=fake)
    return n


def feed_captioned_samples(model: ZooModel, data: Any, metrics: dict[str, Metric], run: EvaluationRun) -> int:
    """``text-to-image``: one image per caption of a captioned dataset (``fake``), its ``real`` image and ``label``."""
    import torch

    if data is None or data.kind != "captioned":
        raise ZooError(
            f"A text-to-image model draws {next(iter(metrics))!r}'s images from captions: pass a captioned dataset "
            "(--dataset, e.g. mnist5k-captions)."
        )
    generator = run.generator()
    count = 0
    for batch in batches(data, run.n, run.batch_size, run.progress, "captions"):
        with torch.inference_mode():
            fake = model.sample(len(batch["caption"]), text=list(batch["caption"]), generator=generator)
        fake = fake.float().clamp(0, 1)
        count += len(fake)
        for metric in metrics.values():
            values: dict[str, Any] = {"fake": fake}
            if "real" in metric.inputs:
                values["real"] = batch["image"]
            if "label" in metric.inputs:
                values["label"] = batch["label"]
            metric.update(**values)
    return count


def feed_likelihood(model: ZooModel, data: Any, metrics: dict[str, Metric], run: EvaluationRun) -> int:
    """``latent`` / ``density``: the model and the dataset's images (the metric calls the task's verbs)."""
    import torch

    count = 0
    with torch.inference_mode():
        for batch in batches(run.require(data, "A likelihood"), run.n, run.batch_size, run.progress, "images"):
            images = batch["image"].to(model.device)
            count += len(images)
            for metric in metrics.values():
                metric.update(model=model, images=images)
    return count


def _feed_predictions(
    model: ZooModel, data: Any, metrics: dict[str, Metric], run: EvaluationRun, predict: Any, target_key: str
) -> int:
    import torch

    count = 0
    with torch.inference_mode():
        for batch in batches(run.require(data, "A prediction"), run.n, run.batch_size, run.progress, "images"):
            x = batch["image"].to(model.device)
            prediction = predict(x)
            target = batch[target_key].to(prediction.device)
            count += len(x)
            for metric in metrics.values():
                metric.update(prediction=prediction, target=target)
    return count


def feed_translations(model: ZooModel, data: Any, metrics: dict[str, Metric], run: EvaluationRun) -> int:
    """``image-to-image``: ``model.translate(image)`` (``prediction``) against the dataset's ``target``."""
    return _feed_predictions(model, data, metrics, run, model.translate, "target")


def feed_classifications(model: ZooModel, data: Any, metrics: dict[str, Metric], run: EvaluationRun) -> int:
    """``classification``: ``model.classify(image)`` (class scores, ``prediction``) against the dataset's ``label``."""
    return _feed_predictions(model, data, metrics, run, model.classify, "label")


# -- choosing protocols ---------------------------------------------------------------------------


def find_protocol(
    tasks: tuple[str, ...] | list[str],
    metric: str,
    inputs: tuple[str, ...],
    dataset: str | None = None,
    protocol: str | None = None,
) -> EvaluationProtocol:
    """The protocol that feeds ``metric`` (whose ``inputs`` are given) to a model of ``tasks``, or the one named.

    A protocol fits when it serves one of the model's tasks, provides every one of ``inputs``,
    serves the metric (the names it lists, else any metric declared for one of its tasks) and
    accepts the dataset; one restricted to the dataset is preferred over a general one.

    Example:
        >>> find_protocol(("unconditional", "latent"), "fid-mnist", ("fake", "real"), "mnist5k").name
        'samples'
    """
    catalog = get_catalog()
    info = catalog.metric(metric)
    base = (dataset or "").partition(":")[0]

    def fits(p: EvaluationProtocol) -> bool:
        serves = metric in p.metrics if p.metrics else (not info.tasks or bool(set(info.tasks) & set(p.tasks)))
        return bool(set(p.tasks) & set(tasks)) and set(inputs) <= set(p.provides) and serves

    if protocol is not None:
        chosen = catalog.protocols.get(protocol)
        if chosen is None:
            raise ZooError(
                f"Unknown evaluation protocol {protocol!r}; the protocols are {', '.join(catalog.protocols)}."
            )
        if not fits(chosen):
            raise ZooError(
                f"The evaluation protocol {protocol!r} cannot feed {metric!r} to a model of task {', '.join(tasks)}; "
                "leave --protocol out to let zoo pick one."
            )
        return chosen
    candidates = [p for p in catalog.protocols.values() if fits(p) and (not p.datasets or base in p.datasets)]
    candidates.sort(key=lambda p: not p.datasets)  # stable: the dataset's own first, then registration order
    if not candidates:
        declared = f"of task {' or '.join(info.tasks)}" if info.tasks else "with other inputs"
        raise ZooError(
            f"The metric {metric!r} evaluates models {declared}; no evaluation protocol feeds it to this model "
            f"({', '.join(tasks)}). Pick another metric (`zoo metrics`)."
        )
    return candidates[0]


def _protocol_text(metric: Metric, metric_name: str, options: dict[str, Any]) -> str:
    text = metric.protocol or get_catalog().metric(metric_name).description
    if options:
        text += f" [{', '.join(f'{k}={v}' for k, v in sorted(options.items()))}]"
    return text


def evaluate(
    model: str | ZooModel,
    metrics: str | list[str],
    dataset: str | None = None,
    *,
    split: str = "test",
    n: int | None = None,
    seed: int = 0,
    batch_size: int = 250,
    device: str | None = None,
    progress: bool = False,
    dataset_options: dict[str, Any] | None = None,
    metric_options: dict[str, dict[str, Any]] | None = None,
    protocol: str | None = None,
) -> list[dict[str, Any]]:
    """Evaluate ``model`` with each metric on ``dataset``'s ``split``; one metric record per reported value.

    ``n`` caps the items evaluated and is the number of samples drawn by a sampling protocol
    (default: as many as the split has images). ``metric_options`` maps a metric name to the
    keyword options it is built with (names not evaluated are ignored); ``protocol`` names the
    evaluation protocol when zoo should not pick it. Each record holds everything that
    ``reproduce_metrics`` needs to compute it again.

    Example:
        >>> import zoo_core as zoo
        >>> zoo.evaluate("srgan.x4_photos", ["psnr-y"], "photos", metric_options={"psnr-y": {"crop_border": 4}})
        [{'name': 'psnr-y', 'value': 28.3, 'unit': 'dB', 'dataset': 'photos', 'split': 'test',
          'metric_options': {'crop_border': 4}, 'evaluation': 'translation', 'samples': 3, ...}]
    """
    from ._factory import load
    from .data import load_dataset
    from .metrics import create_metric

    if isinstance(model, str):
        model = load(model, device=device)
    model.eval()
    names = [metrics] if isinstance(metrics, str) else list(dict.fromkeys(metrics))
    metric_options = {k: dict(v) for k, v in (metric_options or {}).items() if k in names and v}
    dataset_options = dict(dataset_options or {})
    built = {name: create_metric(name, **metric_options.get(name, {})) for name in names}
    tasks = tuple(model.tasks)
    chosen = {name: find_protocol(tasks, name, tuple(m.inputs), dataset, protocol) for name, m in built.items()}
    data = load_dataset(dataset, split=split, **dataset_options) if dataset else None
    run = EvaluationRun(dataset, split, n, seed, batch_size, progress, metric_options)

    records = []
    for spec in dict.fromkeys(chosen.values()):
        group = {name: built[name] for name in names if chosen[name] == spec}
        try:
            count = resolve_target(spec.feed)(model, data, group, run)
        except ValueError as exc:  # a metric refusing its inputs (shapes, ranges): the user's to fix, not a bug
            raise ZooError(f"Evaluating {', '.join(map(repr, group))} ({spec.name} protocol) failed: {exc}") from exc
        for name, metric in group.items():
            try:
                values = metric.compute()
            except ValueError as exc:  # a metric's own check (too few samples for its subsets, ...)
                raise ZooError(f"The metric {name!r} could not be computed: {exc}") from exc
            for key, value in values.items():
                record: dict[str, Any] = {
                    "name": key,
                    "value": float(value),
                    "unit": metric.unit,
                    "dataset": dataset,
                    "split": split if dataset else None,
                    "dataset_options": dataset_options if dataset else None,
                    "metric": name if key != name else None,
                    "metric_options": metric_options.get(name),
                    "evaluation": spec.name,
                    "samples": count or None,
                    "seed": seed if spec.seeded else None,
                    "protocol": _protocol_text(metric, name, metric_options.get(name, {})),
                }
                records.append({k: v for k, v in record.items() if v not in (None, "", {})})
    order = {name: i for i, name in enumerate(names)}
    records.sort(key=lambda r: order[r.get("metric", r["name"])])  # stable: in the order the metrics were asked
    return records


# -- reproducing recorded values ------------------------------------------------------------------


def _settings(record: dict[str, Any]) -> str:
    """The part of a record that decides how it is computed: records that share it are computed in one pass."""
    keys = ("dataset", "split", "dataset_options", "evaluation", "samples", "seed")
    return json.dumps({k: record.get(k) for k in keys}, sort_keys=True)


def reproduce_metrics(
    model: str | ZooModel,
    metrics: list[str] | None = None,
    *,
    records: list[dict[str, Any]] | None = None,
    n: int | None = None,
    seed: int | None = None,
    batch_size: int = 250,
    device: str | None = None,
    progress: bool = False,
) -> list[dict[str, Any]]:
    """Compute every recorded metric of a model again with its recorded protocol (``zoo eval NAME``).

    ``records`` are metric records (default: the registry entry's ``metrics`` of the model
    named ``model``; a record without ``value`` is a plan, e.g. a training step's); ``metrics``
    keeps those whose name or metric is listed. ``n`` and
    ``seed`` override the recorded sample count and seed (a quicker, different measurement).
    Each result is a new record with ``recorded``, the value it reproduces.

    Example:
        >>> [(r["name"], round(r["value"], 2), round(r["recorded"], 2)) for r in reproduce_metrics("vae.mnist")]
        [('elbo', -113.49, -113.49), ('iwae-nll', 106.17, 106.17), ('fid-mnist', 215.05, 215.05)]
    """
    from ._factory import load

    if records is None:
        if not isinstance(model, str):
            raise ZooError("Pass the metric records to reproduce (records=...) with a model object.")
        records = list(get_catalog().resolve_model(model).metrics)
        if not records:
            raise ZooError(f"{model!r} records no metrics to reproduce; name them: --metric M --dataset D.")
    if metrics:
        known = {r.get("metric", r["name"]) for r in records} | {r["name"] for r in records}
        unknown = [m for m in metrics if m not in known]
        if unknown:
            raise ZooError(
                f"No value of {unknown[0]!r} is recorded for this model (it records {', '.join(sorted(known))}); "
                "to measure it anyway, also pass --dataset."
            )
        records = [r for r in records if r["name"] in metrics or r.get("metric") in metrics]
    for record in records:
        get_catalog().metric(record.get("metric", record["name"]))  # an unknown metric fails before any download
    if isinstance(model, str):
        model = load(model, device=device)

    groups: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        groups.setdefault(_settings(record), []).append(record)
    results: list[tuple[int, dict[str, Any]]] = []
    position = {id(r): i for i, r in enumerate(records)}
    for group in groups.values():
        first = group[0]
        # records of one metric with different options (cycle-l1 both ways) need passes of their own
        passes: list[list[dict[str, Any]]] = []
        for record in group:
            name = record.get("metric", record["name"])
            target = next((p for p in passes if all(r.get("metric", r["name"]) != name for r in p)), None)
            if target is None:
                passes.append([record])
            else:
                target.append(record)
        for one_pass in passes:
            metric_names = list(dict.fromkeys(r.get("metric", r["name"]) for r in one_pass))
            options = {r.get("metric", r["name"]): r["metric_options"] for r in one_pass if r.get("metric_options")}
            measured = evaluate(
                model,
                metric_names,
                first.get("dataset"),
                split=first.get("split") or "test",
                n=n if n is not None else first.get("samples"),
                seed=seed if seed is not None else first.get("seed", 0),
                batch_size=batch_size,
                progress=progress,
                dataset_options=first.get("dataset_options"),
                metric_options=options,
                protocol=first.get("evaluation"),
            )
            for record in one_pass:
                name = record.get("metric", record["name"])
                values = [m for m in measured if m.get("metric", m["name"]) == name]
                match = next(
                    (m for m in values if m["name"] == record["name"]), values[0] if len(values) == 1 else None
                )
                if match is None:
                    raise ZooError(f"The metric {name!r} gave no value named {record['name']!r}; its record is wrong.")
                fields = {**match, "metric": name if name != record["name"] else None}
                fields["protocol"] = record.get("protocol") or match.get("protocol")  # a plan may word it
                result = {"name": record["name"], "value": match["value"]}
                result.update({k: fields[k] for k in RECORD_KEYS if fields.get(k) is not None})
                if "value" in record:
                    result["recorded"] = record["value"]
                results.append((position[id(record)], result))
    return [r for _, r in sorted(results, key=lambda x: x[0])]
