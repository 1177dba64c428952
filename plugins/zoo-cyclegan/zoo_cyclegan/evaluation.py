"""Held-out metrics of a CycleGAN trained on ``digits-mnist``, and the command that puts them in its card.

``zoo eval`` measures the round trips (``zoo eval cyclegan.digits2mnist --metric cycle-l1
--dataset digits --dataset-option size=28 --dataset-option margin=4`` for A→B→A,
``--metric-option cycle-l1:direction=BtoA --dataset mnist5k`` for B→A→B, both equal to the
card's), but ``fid-mnist`` is declared for generative tasks only and cannot take translations there.
This module feeds the registered metrics by hand, on the held-out splits (each image once):

- ``cycle-l1`` A→B→A: mean ``|x - G_B(G_A(x))|`` over the 355 held-out scikit-learn digits
  (domain A), and B→A→B: mean ``|y - G_A(G_B(y))|`` over the 500 held-out MNIST digits, in [0, 1];
- ``fid-mnist``: ``G_A`` of the 355 held-out scikit-learn digits against the 500 held-out MNIST
  digits (``mnistnet.mnist5k`` features; needs its weights, e.g. ``ZOO_HUB_DIR=hub``);
- ``digit-preserved``: the fraction of those translations that ``mnistnet.mnist5k`` reads as the
  digit they were made from (a translation may look like MNIST and still change a 3 into an 8).

and, for scale, the same FID and agreement for the untranslated scikit-learn digits (what
translating must improve on) and for 355 real MNIST training digits (the floor at this sample
size).

Example:
    $ ZOO_HUB_DIR=hub python -m zoo_cyclegan.evaluation runs/cyclegan-digits2mnist
    (metrics written into runs/cyclegan-digits2mnist/zoo-entry.json and its model card)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import torch

from zoo_core import ZooError
from zoo_core.metrics import create_metric

from .data import DigitsMnistDataset
from .model import CycleGAN

__all__ = ["digits_mnist_metrics", "main", "reference_values", "translate_all"]

_FEATURES = "mnistnet.mnist5k fc1 features (128-d)"


def translate_all(model: CycleGAN, images: torch.Tensor, direction: str, batch_size: int = 100) -> torch.Tensor:
    """``model.translate`` over ``images`` in batches (eval mode, float32 in [0, 1]).

    Example:
        >>> translate_all(model, digits, "AtoB").shape
        torch.Size([355, 1, 28, 28])
    """
    chunks = [model.translate(images[i : i + batch_size], direction) for i in range(0, len(images), batch_size)]
    return torch.cat(chunks)


def _reconstruct_all(model: CycleGAN, images: torch.Tensor, direction: str, batch_size: int = 100) -> torch.Tensor:
    return torch.cat(
        [model.reconstruct(images[i : i + batch_size], direction) for i in range(0, len(images), batch_size)]
    )


def _fid(fake: torch.Tensor, real: torch.Tensor) -> float:
    metric = create_metric("fid-mnist")
    metric.update(real=real, fake=fake)
    return float(metric.compute()["fid-mnist"])


def _agreement(images: torch.Tensor, labels: torch.Tensor) -> float:
    """How many of ``images`` mnistnet.mnist5k classifies as ``labels`` (in eval mode, as the FID-MNIST features)."""
    from zoo_core.builtin.mnistnet import mnist_features
    from zoo_core.metrics.features import extract_features

    predicted = extract_features(mnist_features(), images, batch_size=250, output="logits").argmax(dim=1)
    return float((predicted == labels).double().mean())


def digits_mnist_metrics(model: CycleGAN, *, margin: int = 4) -> list[dict[str, Any]]:
    """The model's held-out metrics on ``digits-mnist`` (A = scikit-learn digits, B = MNIST), as registry entries.

    The data are prepared as for training: ``size`` = the model's ``image_size``, the digits'
    ``margin`` as given (4 by default, the dataset's default). FID-MNIST compares with the
    held-out MNIST digits at their own 28x28.

    Example:
        >>> [m["name"] for m in digits_mnist_metrics(zoo.load("cyclegan.digits2mnist"))]
        ['cycle-l1', 'cycle-l1', 'fid-mnist', 'digit-preserved']
    """
    from zoo_core.data import load_dataset

    model.eval()
    size = model.config.image_size
    data = DigitsMnistDataset("test", size=size, margin=margin)
    a, b = data.domain_a.tensors(), data.domain_b.tensors()
    labels_a = data.domain_a.labels
    mnist_test = load_dataset("mnist5k", split="test").tensors()
    where = f"{size}x{size}, digits framed with a margin of {margin}, pixels in [0, 1]"

    results = []
    for direction, images, dataset, what in (
        ("AtoB", a, "digits", f"the {len(a)} held-out scikit-learn digits"),
        ("BtoA", b, "mnist5k", f"the {len(b)} held-out MNIST digits"),
    ):
        metric = create_metric("cycle-l1")
        metric.update(image=images, reconstruction=_reconstruct_all(model, images, direction))
        trip = "x - G_B(G_A(x))" if direction == "AtoB" else "y - G_A(G_B(y))"
        results.append(
            {
                "name": "cycle-l1",
                "value": float(metric.compute()["cycle-l1"]),
                "dataset": dataset,
                "split": "test",
                "protocol": f"{direction[0]}→{direction[-1]}→{direction[0]}: mean |{trip}| over {what} ({where})",
            }
        )
    fake_b = translate_all(model, a, "AtoB")
    results.append(
        {
            "name": "fid-mnist",
            "value": _fid(fake_b, mnist_test),
            "dataset": "mnist5k",
            "split": "test",
            "protocol": f"G_A(the {len(a)} held-out scikit-learn digits) against the {len(mnist_test)} held-out "
            f"MNIST digits in {_FEATURES}",
            "samples": len(a),
        }
    )
    results.append(
        {
            "name": "digit-preserved",
            "value": _agreement(fake_b, labels_a),
            "unit": "fraction",
            "dataset": "digits",
            "split": "test",
            "protocol": f"fraction of G_A(the {len(a)} held-out scikit-learn digits) that mnistnet.mnist5k "
            "classifies as the digit they were made from",
        }
    )
    return results


def reference_values(size: int = 28, margin: int = 4, seed: int = 0) -> dict[str, float]:
    """The same FID-MNIST and agreement for images nobody translated: the baseline and the floor.

    - ``untranslated``: the held-out scikit-learn digits as they enter the model (FID, agreement);
    - ``mnist_train``: as many real MNIST training digits as there are held-out scikit-learn
      digits (``torch.randperm`` with ``seed``), against the same held-out MNIST digits.

    Example:
        >>> reference_values()["fid_untranslated"] > reference_values()["fid_mnist_train"]
        True
    """
    from zoo_core.data import load_dataset

    data = DigitsMnistDataset("test", size=size, margin=margin)
    a = data.domain_a.tensors()
    mnist_test = load_dataset("mnist5k", split="test").tensors()
    train = load_dataset("mnist5k", split="train")
    pick = torch.randperm(len(train), generator=torch.Generator().manual_seed(seed))[: len(a)]
    return {
        "fid_untranslated": _fid(a, mnist_test),
        "agreement_untranslated": _agreement(a, data.domain_a.labels),
        "fid_mnist_train": _fid(train.tensors()[pick], mnist_test),
        "agreement_mnist_train": _agreement(train.tensors()[pick], train.labels[pick]),
    }


def _dataset_options(command: str) -> dict[str, str]:
    """The ``--dataset-option KEY=VALUE`` pairs of a ``zoo train`` command line."""
    import shlex

    words = shlex.split(command)
    pairs = [words[i + 1] for i, word in enumerate(words[:-1]) if word == "--dataset-option"]
    return dict(pair.split("=", 1) for pair in pairs if "=" in pair)


def main(argv: list[str] | None = None) -> int:
    """``python -m zoo_cyclegan.evaluation RUN``: measure a finished ``digits-mnist`` run and update its entry and card.

    The metrics replace those of ``RUN/zoo-entry.json``; ``RUN/model/README.md`` is rendered again
    from it, keeping its hand-written part. Then ``zoo registry add NAME RUN`` registers it.
    """
    from zoo_core.modeling import ZooModel
    from zoo_core.publish import card_body, render_card

    parser = argparse.ArgumentParser(prog="python -m zoo_cyclegan.evaluation", description=main.__doc__)
    parser.add_argument("run", type=Path, help="the output folder of `zoo train cyclegan --dataset digits-mnist`")
    parser.add_argument("--json", action="store_true", help="print the metrics and reference values as JSON")
    args = parser.parse_args(argv)
    try:
        entry_path = args.run / "zoo-entry.json"
        if not entry_path.is_file():
            raise ZooError(f"{args.run} holds no zoo-entry.json; give the output folder of a finished `zoo train` run.")
        saved = json.loads(entry_path.read_text(encoding="utf-8"))
        entry = saved["entry"]
        if entry.get("architecture") != "cyclegan" or entry["dataset"]["name"] != "digits-mnist":
            raise ZooError(f"{args.run} is not a cyclegan run on digits-mnist; these metrics are for that data.")
        margin = int(_dataset_options(entry["made_by"]["command"]).get("margin", 4))
        model_dir = args.run / saved.get("model_dir", "model")
        model = ZooModel.from_pretrained(model_dir)
        metrics = digits_mnist_metrics(model, margin=margin)
        reference = reference_values(model.config.image_size, margin)
    except ZooError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    entry["metrics"] = metrics
    saved["entry"] = entry
    entry_path.write_text(json.dumps(saved, indent=2) + "\n", encoding="utf-8")
    card = model_dir / "README.md"
    body = card_body(card.read_text(encoding="utf-8")) if card.is_file() else ""
    card.write_text(render_card(saved["name"], entry, body), encoding="utf-8")
    if args.json:
        print(json.dumps({"metrics": metrics, "reference": reference}, indent=2))
    else:
        for m in metrics:
            print(f"{m['name']:<16} {m['value']:.4f}  ({m['dataset']} {m['split']}: {m['protocol']})")
        for key, value in reference.items():
            print(f"{key:<24} {value:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
