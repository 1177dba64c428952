"""``auroc`` and the ``anomaly-scores`` evaluation protocol of the task ``anomaly-detection``.

``auroc(method="encoder", steps=None)``: the area under the ROC curve of ``model.score(x, method=...)``
against the dataset's ``anomaly`` marks (1 = anomaly = positive), by the rank formula
(Mann-Whitney U): with the scores ranked 1..n (ties get their average rank) and R the sum of the
positives' ranks, ``AUROC = (R - P (P + 1) / 2) / (P N)`` for P positives and N negatives; 0.5 is
chance, 1 a perfect detector. ``steps`` (latent search only) overrides the model's Γ.

The protocol ``anomaly-scores`` feeds it: the dataset's items in order, in batches, scored with
the metric's ``method`` (one scoring pass per distinct (method, steps)); a latent search draws its
starting codes from the run's ``seed`` (the same codes in every batch: row i of each batch starts
from the same z0, which says nothing about the image).

Example:
    $ zoo eval anogan.mnist-no0 --metric auroc
    $ zoo eval anogan.mnist-no0 --metric auroc --dataset mnist5k-anomaly --dataset-option digit=0 \\
          --metric-option auroc:method=latent-search --metric-option auroc:steps=100
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any, ClassVar

import torch

from zoo_core import ZooError
from zoo_core.metrics import Metric

from .tasks import SCORE_METHODS

if TYPE_CHECKING:
    from zoo_core.evaluation import EvaluationRun

__all__ = ["AUROC", "auroc", "feed_anomaly_scores"]


def auroc(scores: torch.Tensor, anomalies: torch.Tensor) -> float:
    """The AUROC of ``scores`` (higher = more anomalous) for the 0/1 ``anomalies``, by the rank formula.

    Example:
        >>> auroc(torch.tensor([0.1, 0.4, 0.35, 0.8]), torch.tensor([0, 0, 1, 1]))
        0.75
    """
    s = torch.as_tensor(scores).detach().double().flatten().cpu()
    y = torch.as_tensor(anomalies).detach().flatten().cpu()
    if len(s) != len(y):
        raise ValueError(f"{len(s)} scores but {len(y)} anomaly marks")
    if not bool(((y == 0) | (y == 1)).all()):
        raise ValueError("the anomaly marks must be 0 (normal) or 1 (anomaly)")
    if not bool(torch.isfinite(s).all()):
        raise ValueError("some anomaly scores are not finite")
    positive = y.bool()
    p, n = int(positive.sum()), int((~positive).sum())
    if p == 0 or n == 0:
        raise ValueError(f"AUROC needs both anomalies and normal images, got {p} anomalies and {n} normal images")
    _, inverse, counts = torch.unique(s, sorted=True, return_inverse=True, return_counts=True)
    last = counts.cumsum(0).double()  # the rank of the last member of each group of tied scores (1-based)
    average = last - (counts.double() - 1) / 2  # the average rank of the group
    rank_sum = float(average[inverse][positive].sum())
    return (rank_sum - p * (p + 1) / 2) / (p * n)


class AUROC(Metric):
    """Streaming AUROC of anomaly scores (``score``) against 0/1 marks (``anomaly``); see the module docstring.

    Example:
        >>> metric = AUROC()
        >>> metric.update(score=torch.tensor([0.2, 0.9]), anomaly=torch.tensor([0, 1]))
        >>> metric.compute()
        {'auroc': 1.0}
    """

    name: ClassVar[str] = "auroc"
    inputs: ClassVar[tuple[str, ...]] = ("score", "anomaly")
    higher_is_better: ClassVar[bool] = True
    unit: ClassVar[str] = ""

    def __init__(self, method: str = "encoder", steps: int | None = None) -> None:
        if method not in SCORE_METHODS:
            raise ZooError(f"The metric 'auroc' scores with method {' or '.join(SCORE_METHODS)}, not {method!r}.")
        if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int) or steps < 0):
            raise ZooError(f"The metric 'auroc' takes steps as a whole number of at least 0, not {steps!r}.")
        if steps is not None and method != "latent-search":
            raise ZooError("The metric 'auroc' takes steps only with method=latent-search; drop steps.")
        self.method, self.steps = method, steps
        gamma = steps if steps is not None else "search_steps"
        search = f", steps={gamma}" if method == "latent-search" else ""
        self.protocol = f"AUROC of score(x, method={method}{search}) over the split, anomalies positive (rank formula)"
        super().__init__()

    def reset(self) -> None:
        self._scores: list[torch.Tensor] = []
        self._marks: list[torch.Tensor] = []

    def update(self, **inputs: Any) -> None:
        score, anomaly = torch.as_tensor(inputs["score"]), torch.as_tensor(inputs["anomaly"])
        if score.shape != anomaly.shape or score.dim() != 1:
            raise ValueError(f"scores {tuple(score.shape)} and anomaly marks {tuple(anomaly.shape)} must be (N,) both")
        self._scores.append(score.detach().float().cpu())
        self._marks.append(anomaly.detach().long().cpu())

    def compute(self) -> dict[str, float]:
        if not self._scores:
            raise ValueError("no images were scored")
        return {"auroc": auroc(torch.cat(self._scores), torch.cat(self._marks))}


def feed_anomaly_scores(model: Any, data: Any, metrics: dict[str, Metric], run: EvaluationRun) -> int:
    """``anomaly-detection``: ``model.score(image, method=...)`` (``score``) and the items' ``anomaly`` marks.

    Example:
        >>> zoo.evaluate("anogan.mnist-no0", ["auroc"], "mnist5k-anomaly", dataset_options={"digit": 0})
    """
    from zoo_core.evaluation import batches

    data = run.require(data, "AUROC")
    if len(data) == 0 or "anomaly" not in data[0]:
        raise ZooError(
            f"The dataset {getattr(data, 'name', '')!r} does not mark anomalies; score on one whose items have "
            "'anomaly' (e.g. --dataset mnist5k-anomaly --dataset-option digit=K)."
        )
    groups: dict[tuple[str, int | None], list[Metric]] = {}
    for metric in metrics.values():
        key = (getattr(metric, "method", "encoder"), getattr(metric, "steps", None))
        groups.setdefault(key, []).append(metric)
    takes_steps = "steps" in inspect.signature(model.score).parameters
    count = 0
    for batch in batches(data, run.n, run.batch_size, run.progress, "scoring"):
        x, marks = batch["image"].to(model.device), batch["anomaly"]
        count += len(x)
        for (method, steps), group in groups.items():
            options: dict[str, Any] = {"method": method, "seed": run.seed}
            if steps is not None:
                if not takes_steps:
                    raise ZooError("This model's score takes no steps; drop the metric option auroc:steps.")
                options["steps"] = steps
            scores = model.score(x, **options)
            for metric in group:
                metric.update(score=scores, anomaly=marks)
    return count
