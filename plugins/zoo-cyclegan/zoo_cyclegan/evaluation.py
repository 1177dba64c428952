"""zoo-cyclegan's evaluation protocols (registered in ``plugin.py``), fed by ``zoo eval`` and the end of ``zoo train``.

- ``round-trip``: cycle consistency, ``cycle-l1`` of each image and its round trip
  ``model.reconstruct(x, direction)`` (``F(G(x))`` for ``AtoB``, ``G(F(y))`` for ``BtoA``; the
  metric's ``direction`` option, ``AtoB`` by default) over a dataset's images, e.g. the held-out
  scikit-learn digits (``--dataset digits --dataset-option size=28 --dataset-option margin=4``) or
  MNIST digits (``--dataset mnist5k --metric-option cycle-l1:direction=BtoA``);
- ``digits-mnist-translations``: on ``digits-mnist``, the translations of domain A (``fake``,
  ``model.translate(a, direction=...)`` in the dataset's ``direction``) against every image of
  domain B (``real``) and A's labels (``label``): FID-MNIST of translated scikit-learn digits
  against the held-out MNIST digits, and ``digit-agreement``, how many translations
  ``mnistnet.mnist5k`` still reads as the digit they were made from. ``n`` caps the domain A
  images translated; B is always whole.

``reference_values`` gives the same numbers for images nobody translated (what translating must
improve on, and the floor at this sample size). A ``digits-mnist`` run records its metrics at its
end (``zoo_cyclegan.training.digits_mnist_evaluation``); ``python -m zoo_cyclegan.evaluation RUN``
measures a finished run again into its ``zoo-entry.json`` and card (runs made before it did).

Example:
    $ zoo eval cyclegan.digits2mnist            # every recorded metric, with its recorded protocol
    $ zoo eval cyclegan.digits2mnist --metric fid-mnist --dataset digits-mnist --json
"""

from __future__ import annotations

import itertools
import json
import shlex
import sys
from pathlib import Path
from typing import Any

import torch

from zoo_core import ZooError
from zoo_core.evaluation import EvaluationRun, batches
from zoo_core.metrics import Metric, create_metric

from .data import DigitsMnistDataset
from .model import CycleGAN

__all__ = ["feed_digits_mnist_translations", "feed_round_trips", "main", "reference_values"]


def feed_round_trips(model: Any, data: Any, metrics: dict[str, Metric], run: EvaluationRun) -> int:
    """The ``round-trip`` protocol: each image of ``data`` (``image``) and its round trip (``reconstruction``)."""
    if not isinstance(model, CycleGAN):
        raise ZooError("Round trips need a CycleGAN with both generators; this model translates one way.")
    directions = {name: run.metric_options.get(name, {}).get("direction") or "AtoB" for name in metrics}
    count = 0
    for batch in batches(run.require(data, "A round trip"), run.n, run.batch_size, run.progress, "images"):
        x = batch["image"].to(model.device)
        count += len(x)
        with torch.inference_mode():
            trips = {d: model.reconstruct(x, d) for d in set(directions.values())}
        for name, metric in metrics.items():
            metric.update(image=x, reconstruction=trips[directions[name]])
    return count


def feed_digits_mnist_translations(model: Any, data: Any, metrics: dict[str, Metric], run: EvaluationRun) -> int:
    """The ``digits-mnist-translations`` protocol: translations of domain A, all of domain B, A's labels."""
    if not isinstance(data, DigitsMnistDataset):
        raise ZooError(
            "The digits-mnist-translations protocol reads the digits-mnist dataset (--dataset digits-mnist)."
        )
    wants_real = [m for m in metrics.values() if "real" in m.inputs]
    for batch in batches(data.domain_b, None, run.batch_size, run.progress, "domain B"):
        for metric in wants_real:
            metric.update(real=batch["image"])
    count = 0
    for batch in batches(data.domain_a, run.n, run.batch_size, run.progress, "domain A"):
        fake = model.translate(batch["image"].to(model.device), direction=data.direction).float().clamp(0, 1)
        count += len(fake)
        for metric in metrics.values():
            metric.update(fake=fake, **({"label": batch["label"]} if "label" in metric.inputs else {}))
    return count


def _fid(fake: torch.Tensor, real: torch.Tensor) -> float:
    metric = create_metric("fid-mnist")
    metric.update(real=real, fake=fake)
    return float(metric.compute()["fid-mnist"])


def _agreement(images: torch.Tensor, labels: torch.Tensor) -> float:
    metric = create_metric("digit-agreement")
    metric.update(fake=images, label=labels)
    return float(metric.compute()["digit-agreement"])


def reference_values(size: int = 28, margin: int = 4, seed: int = 0) -> dict[str, float]:
    """FID-MNIST and digit agreement of images nobody translated: the baseline and the floor.

    - ``untranslated``: the held-out scikit-learn digits as they enter the model;
    - ``mnist_train``: as many real MNIST training digits as there are held-out scikit-learn
      digits (``torch.randperm`` with ``seed``), against the same held-out MNIST digits.

    Example:
        >>> reference_values()["fid_untranslated"] > reference_values()["fid_mnist_train"]
        True
    """
    from zoo_core.data import load_dataset

    data = DigitsMnistDataset("test", size=size, margin=margin)
    a = data.domain_a.tensors()
    mnist_test = data.domain_b.tensors()
    train = load_dataset("mnist5k", split="train")
    pick = torch.randperm(len(train), generator=torch.Generator().manual_seed(seed))[: len(a)]
    return {
        "fid_untranslated": _fid(a, mnist_test),
        "agreement_untranslated": _agreement(a, data.domain_a.labels),
        "fid_mnist_train": _fid(train.tensors()[pick], mnist_test),
        "agreement_mnist_train": _agreement(train.tensors()[pick], train.labels[pick]),
    }


def main(argv: list[str] | None = None) -> int:
    """``python -m zoo_cyclegan.evaluation RUN``: the final metrics of a finished ``digits-mnist`` run, again.

    The metrics (each with its protocol) replace those of ``RUN/zoo-entry.json`` and the card is
    rendered again, keeping its hand-written part; then ``zoo registry add NAME RUN`` registers it.
    """
    from zoo_core._atomic import atomic_write_text
    from zoo_core.evaluation import reproduce_metrics
    from zoo_core.modeling import ZooModel
    from zoo_core.publish import card_body, render_card

    from .training import digits_mnist_evaluation

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0].startswith("-"):
        print("usage: python -m zoo_cyclegan.evaluation RUN", file=sys.stderr)
        return 2
    run = Path(args[0])
    try:
        if not (run / "zoo-entry.json").is_file():
            raise ZooError(f"{run} holds no zoo-entry.json; give the output folder of a finished `zoo train` run.")
        saved = json.loads((run / "zoo-entry.json").read_text(encoding="utf-8"))
        entry = saved["entry"]
        if entry.get("architecture") != "cyclegan" or entry["dataset"]["name"] != "digits-mnist":
            raise ZooError(f"{run} is not a cyclegan run on digits-mnist; these metrics are for that data.")
        words = shlex.split(entry["made_by"]["command"])
        options = dict(w.split("=", 1) for p, w in itertools.pairwise(words) if p == "--dataset-option")
        model_dir = run / saved.get("model_dir", "model")
        model = ZooModel.from_pretrained(model_dir)
        entry["metrics"] = reproduce_metrics(
            model, records=list(digits_mnist_evaluation(model.config.image_size, options))
        )
    except ZooError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    atomic_write_text(run / "zoo-entry.json", json.dumps({**saved, "entry": entry}, indent=2) + "\n")
    card = model_dir / "README.md"
    body = card_body(card.read_text(encoding="utf-8")) if card.is_file() else ""
    atomic_write_text(card, render_card(saved["name"], entry, body))
    for m in entry["metrics"]:
        print(f"{m['name']:<16} {m['value']:.4f}  ({m['dataset']} {m['split']}: {m['protocol']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
