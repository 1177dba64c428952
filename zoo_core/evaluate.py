"""``zoo eval``: feed a model's outputs and a dataset's images to registered metrics.

What a metric is fed follows its ``inputs`` (see ``zoo_core.metrics.Metric``):

- ``("fake", "real")`` or ``("fake",)``: ``n`` samples of the model (seeded, in batches) and the
  images of the dataset split (FID, KID, Inception Score);
- ``("model", "images")``: the model itself and the dataset's images (ELBO, NLL, bits/dim);
- ``("prediction", "target")``: ``model.translate(image)`` against the dataset's ``target``
  (PSNR, SSIM, per-pixel accuracy), or a classifier's ``classify(image)`` against its ``label``.

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
) -> list[dict[str, Any]]:
    """Evaluate ``model`` with each metric on ``dataset``'s ``split``; one result dict per reported value.

    ``n`` is the number of samples drawn for sample-based metrics (default: as many as the split
    has images) and caps the number of dataset images otherwise.
    """
    from ._factory import load
    from .data import load_dataset

    if isinstance(model, str):
        model = load(model, device=device)
    model.eval()
    names = [metrics] if isinstance(metrics, str) else list(metrics)
    built: dict[str, Metric] = {}
    for name in names:
        _check_task(model, name)
        built[name] = create_metric(name)
    data = load_dataset(dataset, split=split, **(dataset_options or {})) if dataset else None
    needs_data = [m for m in built.values() if set(m.inputs) & {"real", "images", "target"}]
    if needs_data and data is None:
        raise ZooError(f"The metric {needs_data[0].name!r} compares with real images: pass a dataset (--dataset).")

    by_inputs: dict[tuple[str, ...], list[Metric]] = {}
    for metric in built.values():
        by_inputs.setdefault(tuple(sorted(metric.inputs)), []).append(metric)
    n_images = None
    for inputs, group in by_inputs.items():
        if "fake" in inputs:
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
            results.append(result)
    return results
