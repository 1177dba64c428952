"""zoo-discogan's evaluation protocol ``discogan-round-trip``, and where the other card metrics come from.

- ``discogan-round-trip``: ``cycle-l1`` of each image and its round trip ``model.reconstruct(x,
  direction)`` (``ABA = generator_A(generator_B(x))`` for ``AtoB``, ``BAB`` for ``BtoA``; the metric's
  ``direction`` option, ``AtoB`` by default): the same computation as zoo-cyclegan's ``round-trip``,
  whose feed accepts CycleGANs only. It feeds any model with both directions and a ``reconstruct``.
- FID-MNIST and ``digit-agreement`` of the translated held-out scikit-learn digits come from
  zoo-cyclegan's ``digits-mnist-translations`` protocol unchanged (it needs only ``translate``).

So ``zoo eval discogan.digits2mnist`` measures exactly what ``zoo eval cyclegan.digits2mnist`` does.

Example:
    $ zoo eval discogan.digits2mnist       # every recorded metric, with its recorded protocol
    $ zoo eval RUN/model --metric cycle-l1 --dataset mnist5k --protocol discogan-round-trip \\
          --metric-option cycle-l1:direction=BtoA
"""

from __future__ import annotations

from typing import Any

import torch

from zoo_core import ZooError
from zoo_core.evaluation import EvaluationRun, batches
from zoo_core.metrics import Metric

__all__ = ["feed_round_trips"]


def feed_round_trips(model: Any, data: Any, metrics: dict[str, Metric], run: EvaluationRun) -> int:
    """The ``discogan-round-trip`` protocol: each image of ``data`` (``image``) and its round trip (``reconstruction``).

    Example:
        >>> evaluate(model, ["cycle-l1"], "mnist5k", protocol="discogan-round-trip",
        ...          metric_options={"cycle-l1": {"direction": "BtoA"}})
    """
    if not callable(getattr(model, "reconstruct", None)) or len(getattr(model, "directions", ())) < 2:
        raise ZooError("Round trips need a model with both generators and a reconstruct(x, direction) verb.")
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
