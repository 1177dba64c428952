"""zoo-stargan's evaluation protocol ``attribute-flips`` (registered in ``plugin.py``), run by ``zoo eval``.

For each of the first ``n`` digits x of an attributed split (all by default), with its binary attributes c
and its digit label:

- for each attribute i in turn, ``model.translate(x, attributes=c')`` with c' = c and attribute i reversed (the
  reference's ``create_labels`` for attributes that are not hair colours): ``translated``, ``requested`` (c'),
  ``flipped`` (i) and ``label``, for ``attribute-agreement``;
- ``model.translate(that translation, attributes=c)``, the way back: ``reconstruction`` against ``image`` (x),
  for the core's ``cycle-l1`` (StarGAN's reconstruction loss ``|x - G(G(x, c'), c)|``, in [0, 1]).

Deterministic: not seeded.

Example:
    $ zoo eval runs/stargan/model --metric attribute-agreement --metric cycle-l1 --dataset mnist5k-attributes \\
          --dataset-option size=32
"""

from __future__ import annotations

from typing import Any

import torch

from zoo_core import ZooError
from zoo_core.evaluation import EvaluationRun, batches
from zoo_core.metrics import Metric

__all__ = ["feed_attribute_flips"]


def feed_attribute_flips(model: Any, data: Any, metrics: dict[str, Metric], run: EvaluationRun) -> int:
    """The ``attribute-flips`` protocol: every digit with each attribute flipped, and back."""
    data = run.require(data, "An attribute translation")
    if getattr(data, "kind", None) != "attributed":
        raise ZooError(
            "The attribute-flips protocol reads images with binary attributes, e.g. --dataset mnist5k-attributes."
        )
    names = tuple(getattr(data, "attributes", ()))
    if names != tuple(model.attributes):
        raise ZooError(
            f"The dataset labels {', '.join(names)} but the model translates {', '.join(model.attributes)}; "
            "evaluate it on data with its own attributes."
        )
    agreement = [m for m in metrics.values() if "translated" in m.inputs]
    reconstruction = [m for m in metrics.values() if "reconstruction" in m.inputs]
    count = 0
    for batch in batches(data, run.n, run.batch_size, run.progress, "digits"):
        x, c = batch["image"].to(model.device), batch["attributes"].float()
        label = torch.as_tensor(batch["label"]).long()
        count += len(x)
        with torch.inference_mode():
            for i in range(c.shape[1]):
                target = c.clone()
                target[:, i] = 1 - target[:, i]
                translated = model.translate(x, attributes=target)
                flipped = torch.full((len(x),), i, dtype=torch.long)
                for metric in agreement:
                    metric.update(translated=translated, requested=target, flipped=flipped, label=label)
                if reconstruction:
                    back = model.translate(translated, attributes=c)
                    for metric in reconstruction:
                        metric.update(image=x.cpu(), reconstruction=back.cpu())
    return count
