"""``zoo eval``: feed a model's outputs and a dataset's images to registered metrics.

What a metric is fed follows its ``inputs`` (see ``zoo_core.metrics.Metric``):

- ``("fake", "real")`` or ``("fake",)``: ``n`` samples of the model (seeded, in batches) and the
  images of the dataset split (FID, KID, Inception Score);
- ``("model", "images")``: the model itself and the dataset's images (ELBO, NLL, bits/dim);
- ``("prediction", "target")``: ``model.translate(image)`` against the dataset's ``target``
  (PSNR, SSIM, per-pixel accuracy), or a classifier's ``classify(image)`` against its ``label``;
- ``("image", "reconstruction")``: the dataset's images and their round trips
  ``model.reconstruct(image)`` (cycle-consistency L1); a metric's ``direction`` option picks the
  round trip (``"AtoB"``: F(G(x)), ``"BtoA"``: G(F(y))).

Text-to-image models draw their ``fake`` images from the dataset's captions, one image per
item, in dataset order (``n`` caps the number of items); a metric that also takes ``label``
receives the label of the item whose caption drew each image (caption agreement).

``metric_options`` passes keyword options to a metric, e.g. ``{"psnr-y": {"crop_border": 2}}``
for an x2 super-resolution model (``zoo eval ... --metric-option psnr-y:crop_border=2``).

Example:
    >>> import zoo_core as zoo
    >>> zoo.evaluate("vae.mnist", ["elbo", "fid-mnist"], "mnist5k")
    [{'name': 'elbo', 'value': -113.9, ...}, {'name': 'fid-mnist', 'value': ..., ...}]
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch

from ._catalog import get_catalog
from ._errors import ZooError
from .metrics import Metric, create_metric
from .modeling import ZooModel

__all__ = ["evaluate"]


def _batches(dataset: Any, n: int | None, batch_size: int, progress: bool, desc: str) -> Iterator[dict[str, Any]]:
    from torch.utils.data import DataLoader, Subset
    from tqdm.auto import tqdm

    if getattr(dataset, "image_size", ()) is None:  # images of different sizes (whole photos) batch one by one
        batch_size = 1
    if n is not None:
        dataset = Subset(dataset, range(min(n, len(dataset))))
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False)
    yield from tqdm(loader, desc=desc, unit="batch", disable=not progress or len(loader) < 2)


def _samples(model: ZooModel, n: int, seed: int, batch_size: int, progress: bool) -> Iterator[torch.Tensor]:
    from tqdm.auto import tqdm

    # One seeded stream, cut into batches: the same n and seed give the same images as model.sample(n, seed=...).
    generator = torch.Generator().manual_seed(seed)
    sizes = [min(batch_size, n - i) for i in range(0, n, batch_size)]
    with torch.inference_mode():
        for size in tqdm(sizes, desc="sampling", unit="batch", disable=not progress or len(sizes) < 2):
            yield model.sample_batch(size, generator).float().clamp_(0, 1)


def _feed_captioned_samples(
    model: ZooModel,
    group: list[Metric],
    data: Any,
    inputs: tuple[str, ...],
    n: int | None,
    seed: int,
    batch_size: int,
    progress: bool,
) -> int:
    """Feed a text-to-image model's images, one per dataset caption, and the dataset's images and labels.

    The noise is one seeded stream over all captions, so the same ``n`` and ``seed`` give the same images.
    """
    if data is None or getattr(data, "kind", "") != "captioned":
        raise ZooError(
            f"A text-to-image model draws {group[0].name!r}'s images from captions: pass a captioned dataset "
            "(--dataset, e.g. mnist5k-captions)."
        )
    generator = torch.Generator().manual_seed(seed)
    count = 0
    for batch in _batches(data, n, batch_size, progress, "captions"):
        with torch.inference_mode():
            fake = model.sample(len(batch["caption"]), text=list(batch["caption"]), generator=generator)
        count += len(fake)
        for metric in group:
            values: dict[str, Any] = {"fake": fake.float().clamp(0, 1)}
            if "real" in inputs:
                values["real"] = batch["image"]
            if "label" in inputs:
                values["label"] = batch["label"]
            metric.update(**values)
    return count


def _check_task(model: ZooModel, name: str) -> None:
    tasks = get_catalog().metric(name).tasks
    if tasks and not set(tasks) & set(model.tasks):
        raise ZooError(
            f"The metric {name!r} evaluates models of task {' or '.join(tasks)}; this model serves "
            f"{', '.join(model.tasks)}. Pick another metric (`zoo metrics`)."
        )


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
) -> list[dict[str, Any]]:
    """Evaluate ``model`` with each metric on ``dataset``'s ``split``; one result dict per reported value.

    ``n`` is the number of samples drawn for sample-based metrics (default: as many as the split
    has images) and caps the number of dataset images otherwise. ``metric_options`` maps a metric
    name to the keyword options it is built with (names not evaluated are ignored).

    Example:
        >>> import zoo_core as zoo
        >>> zoo.evaluate("srgan.x2_imagenet", ["psnr-y"], "photos-sr",
        ...              dataset_options={"scale": 2}, metric_options={"psnr-y": {"crop_border": 2}})
        [{'name': 'psnr-y', 'value': ..., ...}]
    """
    from ._factory import load
    from .data import load_dataset

    if isinstance(model, str):
        model = load(model, device=device)
    model.eval()
    names = [metrics] if isinstance(metrics, str) else list(metrics)
    metric_options = metric_options or {}
    built: dict[str, Metric] = {}
    for name in names:
        _check_task(model, name)
        built[name] = create_metric(name, **metric_options.get(name, {}))
    data = load_dataset(dataset, split=split, **(dataset_options or {})) if dataset else None
    needs_data = [m for m in built.values() if set(m.inputs) & {"real", "images", "target", "image", "label"}]
    if needs_data and data is None:
        raise ZooError(f"The metric {needs_data[0].name!r} compares with real images: pass a dataset (--dataset).")

    by_inputs: dict[tuple[str, ...], list[Metric]] = {}
    for metric in built.values():
        by_inputs.setdefault(tuple(sorted(metric.inputs)), []).append(metric)
    n_images = None
    for inputs, group in by_inputs.items():
        if "fake" in inputs and "text-to-image" in model.tasks:
            n_images = _feed_captioned_samples(model, group, data, inputs, n, seed, batch_size, progress)
        elif "fake" in inputs:
            if "real" in inputs:
                for batch in _batches(data, n, batch_size, progress, "real images"):
                    for metric in group:
                        metric.update(real=batch["image"])
            n_images = n or (len(data) if data is not None else None)
            if n_images is None:
                raise ZooError("Say how many samples to draw (-n) when no dataset is given.")
            for fake in _samples(model, n_images, seed, batch_size, progress):
                for metric in group:
                    metric.update(fake=fake)
        elif inputs == ("images", "model"):
            with torch.inference_mode():
                for batch in _batches(data, n, batch_size, progress, "images"):
                    for metric in group:
                        metric.update(model=model, images=batch["image"].to(model.device))
        elif inputs == ("prediction", "target"):
            # a classifier's prediction is its class scores against the labels; a translator's, its image
            classifier = "classification" in model.tasks
            if not classifier and not hasattr(model, "translate"):
                raise ZooError(f"{group[0].name!r} compares predictions with targets; this model makes none.")
            with torch.inference_mode():
                for batch in _batches(data, n, batch_size, progress, "images"):
                    x = batch["image"].to(model.device)
                    prediction = model.classify(x) if classifier else model.translate(x)
                    target = batch["label" if classifier else "target"].to(prediction.device)
                    for metric in group:
                        metric.update(prediction=prediction, target=target)
        elif inputs == ("image", "reconstruction"):
            if not hasattr(model, "reconstruct"):
                raise ZooError(f"{group[0].name!r} compares images with their round trips; this model makes none.")
            with torch.inference_mode():
                for batch in _batches(data, n, batch_size, progress, "images"):
                    x = batch["image"].to(model.device)
                    for metric in group:
                        direction = getattr(metric, "direction", None)
                        reconstruction = model.reconstruct(x, direction) if direction else model.reconstruct(x)
                        metric.update(image=x, reconstruction=reconstruction)
        else:
            raise ZooError(f"zoo eval cannot feed the inputs {inputs} of metric {group[0].name!r}.")

    results = []
    for name, metric in built.items():
        for key, value in metric.compute().items():
            result = {
                "name": key,
                "value": float(value),
                "unit": getattr(metric, "unit", ""),
                "dataset": dataset or "",
                "split": split if dataset else "",
                "protocol": getattr(metric, "protocol", "") or get_catalog().metric(name).description,
            }
            if "fake" in metric.inputs:
                result["samples"] = n_images
                result["seed"] = seed
            if metric_options.get(name):
                options = ", ".join(f"{k}={v}" for k, v in sorted(metric_options[name].items()))
                result["protocol"] = f"{result['protocol']} [{options}]"
            results.append(result)
    return results
