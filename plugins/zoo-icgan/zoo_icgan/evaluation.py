"""zoo-icgan's evaluation protocol ``edits`` (registered in ``plugin.py``), fed by ``zoo eval`` and ``zoo train``.

For each of the first ``n`` digits x of a labelled split (all by default), with its label y:

- ``reconstruction``: ``model.edit(x, y)``, the digit redrawn as its own class (``image``: x);
- ``edited`` / ``target``: ``model.edit(x, t)`` for every class t other than y, in the order
  t = y + 1, y + 2, ... (mod the number of classes): 9 edits per MNIST digit.

No randomness: an edit is deterministic, so the protocol is not seeded.

Example:
    $ zoo eval icgan.mnist --metric edit-agreement --metric reconstruction-l1
"""

from __future__ import annotations

from typing import Any

import torch

from zoo_core import ZooError
from zoo_core.evaluation import EvaluationRun, batches
from zoo_core.metrics import Metric

__all__ = ["feed_edits"]


def feed_edits(model: Any, data: Any, metrics: dict[str, Metric], run: EvaluationRun) -> int:
    """The ``edits`` protocol: each digit's reconstruction, and its edits to every other class."""
    data = run.require(data, "An edit")
    if getattr(data, "kind", None) != "labelled":
        raise ZooError(
            "The edits protocol reads a labelled dataset (digits and their classes), e.g. --dataset mnist5k."
        )
    wants_edits = [m for m in metrics.values() if "edited" in m.inputs]
    wants_reconstructions = [m for m in metrics.values() if "reconstruction" in m.inputs]
    classes = int(model.num_classes)
    count = 0
    for batch in batches(data, run.n, run.batch_size, run.progress, "digits"):
        x, y = batch["image"].to(model.device), batch["label"].long()
        count += len(x)
        with torch.inference_mode():
            if wants_reconstructions:
                reconstruction = model.edit(x, y).cpu()
                for metric in wants_reconstructions:
                    metric.update(image=x.cpu(), reconstruction=reconstruction)
            for shift in range(1, classes) if wants_edits else ():
                target = (y + shift) % classes
                edited = model.edit(x, target)
                for metric in wants_edits:
                    metric.update(edited=edited, target=target)
    return count
