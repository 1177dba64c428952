"""The GMM's fit as a ``closed_form`` training step of ``zoo train``: EM (or its variational form) to convergence.

A step fits every class's mixture to the batch's images of that class, from k-means++ to
convergence (``tol`` on the bound, at most ``max_iter`` iterations, scikit-learn's defaults 1e-3
and 100) and sets the prior p(y) = n_y / n. EM needs every image at every iteration, so the batch
must be the whole split: the default batch is the 4,500 training digits and one epoch is one step.
No optimiser, no gradient.

Example:
    $ zoo train gmm --dataset mnist5k --out runs/gmm --name gmm.mnist
    $ zoo train gmm --dataset mnist5k --out runs/gmm --train-config reg_covar=1e-3 --train-config max_iter=50
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from zoo_core import ZooError
from zoo_core.training import StepParams, TrainingStep

__all__ = ["GMMParams", "GMMTrainingStep"]


@dataclass
class GMMParams(StepParams):
    """scikit-learn's fitting defaults (``--train-config key=value``)."""

    reg_covar: float = field(default=1e-6, metadata={"range": (0.0, 10.0)})
    max_iter: int = field(default=100, metadata={"range": (1, 10000)})
    tol: float = field(default=1e-3, metadata={"range": (0.0, 1e6)})


class GMMTrainingStep(TrainingStep):
    """Fit every class's mixture on the whole batch (the whole split); logs the mean bound and the iterations."""

    params_class = GMMParams
    closed_form = True
    default_batch_size = 4500
    default_epochs = 1
    dataset_kinds = ("labelled", "images")
    eval_metrics = ("accuracy", "fid-mnist")
    eval_dataset = "mnist5k"
    eval_split = "test"
    paper: dict[str, Any] = {  # noqa: RUF012 (read-only class data)
        "title": "Gaussian mixture models (EM; variational inference with a Dirichlet process prior)",
        "authors": "Dempster, Laird, Rubin 1977; Blei, Jordan 2006; scikit-learn",
        "url": "https://scikit-learn.org/stable/modules/mixture.html",
        "reference_code": "https://github.com/lazyprogrammer/machine_learning_examples/blob/master/unsupervised_class3/"
        "bayes_classifier_gmm.py",
    }
    license = "mit"
    tags = ("mnist", "explicit-density")

    @property
    def recipe(self) -> str:  # type: ignore[override]
        p = self.params
        return (
            f"closed form: per-class {self.model.config.inference} fit from k-means++, reg_covar {p.reg_covar:g}, "
            f"tol {p.tol:g} on the bound, at most {p.max_iter} iterations (scikit-learn's updates); no optimiser"
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.dataset_size: int | None = None

    def check_dataset(self, dataset: Any) -> None:
        super().check_dataset(dataset)
        self.dataset_size = len(dataset)

    def train_step(self, batch: dict[str, Any], step: int) -> dict[str, Any]:
        x = batch["image"]
        if self.dataset_size is not None and len(x) * self.world_size < self.dataset_size:
            raise ZooError(
                f"EM iterates over the whole split, but a batch holds {len(x)} of its {self.dataset_size} images; "
                f"pass --batch-size {self.dataset_size} (the default is 4500, mnist5k's train split)."
            )
        labels = batch.get("label") if self.model.config.num_classes > 1 else None
        p = self.params
        seed = self.train_config.seed or 0
        result = self.model.fit(x, labels, reg_covar=p.reg_covar, max_iter=p.max_iter, tol=p.tol, seed=seed + step)
        return {k: torch.tensor(float(v)) for k, v in result.items()}
