"""The ``pairs`` evaluation protocol: seeded pairs of a CoGAN for ``pair-agreement`` (``zoo eval``, end of training).

``n`` pairs (default 10,000, the paper's count; ``zoo eval -n``, ``zoo train --eval-samples``) are
drawn from one generator seeded with the run's seed, in batches, as ``model.sample_pairs(n,
seed=...)`` draws them; each batch goes to the metrics as ``first``, ``second`` and the model's
``config.pair`` as ``transform``. The dataset, when one is given, is not read (the metric compares
a model's own pairs).

``reference_values(pair)`` puts a value in context: real digits against the transform of
*unrelated* real digits (what a CoGAN that learnt both marginals but no correspondence would
score; about 0.80 for edges and 0.82 for negatives on mnist5k's test digits) and against their own
transform (1.0). Blank pairs also score 1.0, so read the value beside the samples.

Example:
    $ zoo eval cogan.mnist-edges --metric pair-agreement            # 10,000 pairs, seed 0
    $ zoo eval cogan.mnist-negative --metric pair-agreement -n 2000 --seed 1
"""

from __future__ import annotations

from typing import Any

import torch

from zoo_core import ZooError
from zoo_core.evaluation import EvaluationRun
from zoo_core.metrics import Metric

__all__ = ["PAPER_PAIRS", "feed_pairs", "reference_values"]

#: how many pairs the paper averages over
PAPER_PAIRS = 10_000


def feed_pairs(model: Any, data: Any, metrics: dict[str, Metric], run: EvaluationRun) -> int:
    """The ``pairs`` protocol: ``run.n`` (default 10,000) seeded pairs of ``model`` into ``metrics``."""
    draw = getattr(model, "sample_pair_batch", None)
    pair = getattr(getattr(model, "config", None), "pair", None)
    if not callable(draw) or pair is None:
        raise ZooError(
            "The pairs protocol needs a model that draws pairs of two domains (a cogan); "
            "pick another metric for this model (`zoo metrics`)."
        )
    from tqdm.auto import tqdm

    n = run.n or PAPER_PAIRS
    generator = run.generator()
    sizes = [min(run.batch_size, n - i) for i in range(0, n, run.batch_size)]
    with torch.inference_mode():
        for size in tqdm(sizes, desc="pairs", unit="batch", disable=not run.progress or len(sizes) < 2):
            first, second = draw(size, generator)
            first, second = first.float().clamp(0, 1), second.float().clamp(0, 1)
            for metric in metrics.values():
                metric.update(first=first, second=second, transform=pair)
    return n


def reference_values(pair: str, seed: int = 0) -> dict[str, float]:
    """``pair-agreement`` of real mnist5k test digits: with unrelated digits' transforms, and with their own.

    Example:
        >>> round(reference_values("edges")["unrelated"], 2), reference_values("edges")["paired"]
        (0.8, 1.0)
    """
    from zoo_core.data import load_dataset

    from .metrics import pair_agreement
    from .transforms import apply_pair_transform

    digits = load_dataset("mnist5k", split="test").tensors()
    order = torch.randperm(len(digits), generator=torch.Generator().manual_seed(seed))
    return {
        "unrelated": pair_agreement(digits, apply_pair_transform(digits[order], pair), pair).double().mean().item(),
        "paired": pair_agreement(digits, apply_pair_transform(digits, pair), pair).double().mean().item(),
    }
