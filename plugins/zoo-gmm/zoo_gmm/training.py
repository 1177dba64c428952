"""The GMM's fit as a ``closed_form`` training step of ``zoo train``: EM (or its variational form) to convergence.

A step fits every class's mixture to the batch's images of that class, from k-means++ to
convergence (``tol`` on the bound, at most ``max_iter`` iterations, scikit-learn's defaults 1e-3
and 100) and sets the prior p(y) = n_y / n. EM needs every image at every iteration, so the batch
must be the whole split: the default batch is the 4,500 training digits and one epoch is one step.
No optimiser, no gradient.

``reg_covar`` is scikit-learn's 1e-6 unless ``reg_covar_grid`` is given: then the step first
chooses it on a validation split of the training split, never on the test split
(``zoo_gmm.selection``): the last ``val_per_class`` images of each class in file order (50, i.e.
500 of mnist5k's 4,500 digits) are held out, the mixtures are fitted on the rest once per grid
value, and the value with the best validation accuracy wins (ties: the higher validation mean
log p(x)); then the mixtures are fitted on the whole split with it. The chosen value is in the
recipe (the card's notes) and the log; every value's validation scores are in
``validation.jsonl`` in the run folder.

Example:
    $ zoo train gmm --dataset mnist5k --out runs/gmm --name gmm.mnist
    $ zoo train gmm --dataset mnist5k --out runs/gmm --train-config reg_covar=1e-3 --train-config max_iter=50
    $ zoo train gmm --dataset mnist5k --out runs/gmm --train-config 'reg_covar_grid=[1e-6,1e-4,1e-3,1e-2,1e-1]'
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from zoo_core import ZooError
from zoo_core._atomic import atomic_write_text
from zoo_core.training import StepParams, TrainingStep

from .selection import select_reg_covar, validation_mask

__all__ = ["GMMParams", "GMMTrainingStep"]

VALIDATION_NAME = "validation.jsonl"


@dataclass
class GMMParams(StepParams):
    """scikit-learn's fitting defaults (``--train-config key=value``), and the optional choice of ``reg_covar``.

    ``reg_covar_grid`` empty (the default): fit with ``reg_covar``. Otherwise ``reg_covar`` is ignored and
    the grid value with the best accuracy on the validation split (``val_per_class`` images a class) is used.
    """

    reg_covar: float = field(default=1e-6, metadata={"range": (0.0, 10.0)})
    max_iter: int = field(default=100, metadata={"range": (1, 10000)})
    tol: float = field(default=1e-3, metadata={"range": (0.0, 1e6)})
    reg_covar_grid: tuple[float, ...] = field(default=(), metadata={"range": (0.0, 10.0)})
    val_per_class: int = field(default=50, metadata={"range": (1, 100000)})


class GMMTrainingStep(TrainingStep):
    """Fit every class's mixture on the whole batch (the whole split); logs the mean bound and the iterations.

    With ``reg_covar_grid``, first chooses ``reg_covar`` on a validation split (``choose_reg_covar``) and logs it.
    """

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
        chosen = ""
        if p.reg_covar_grid:
            grid = ", ".join(f"{v:g}" for v in p.reg_covar_grid)
            picked = "?" if self.chosen is None else f"{self.chosen:g}"
            chosen = (
                f"reg_covar chosen from {grid} by the accuracy on a validation split (the last {p.val_per_class} "
                f"training images of each class, fitted on the others; ties: the higher mean log p(x)): {picked}, "
                "then "
            )
        return (
            f"closed form: {chosen}per-class {self.model.config.inference} fit from k-means++, reg_covar "
            f"{self.reg_covar:g}, tol {p.tol:g} on the bound, at most {p.max_iter} iterations (scikit-learn's "
            "updates); no optimiser"
        )

    @property
    def reg_covar(self) -> float:
        """The value the fit uses: the one chosen on the validation split, else ``--train-config reg_covar``."""
        return self.params.reg_covar if self.chosen is None else self.chosen

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.dataset_size: int | None = None
        self.dataset: Any = None
        #: the reg_covar chosen on the validation split, and every grid value's validation scores
        self.chosen: float | None = None
        self.validation: list[dict[str, float]] = []

    def check_dataset(self, dataset: Any) -> None:
        super().check_dataset(dataset)
        self.dataset_size = len(dataset)
        self.dataset = dataset  # the training split in file order: where the validation split is carved
        labels = getattr(dataset, "labels", None)
        if self.params.reg_covar_grid and labels is not None:  # a split that cannot be carved fails before the run
            classes = torch.as_tensor(labels) if self.model.config.num_classes > 1 else torch.zeros(len(dataset))
            validation_mask(classes, self.params.val_per_class)

    def choose_reg_covar(self, batch: dict[str, Any], seed: int) -> float:
        """The grid value with the best validation accuracy; fits on, and scores, the training split only.

        The split in file order when the step was given the data set (``check_dataset``), else the batch's order.
        """
        p = self.params
        data = self.dataset
        if data is not None and callable(getattr(data, "tensors", None)):
            x, labels = data.tensors(), getattr(data, "labels", None)
        else:
            x, labels = batch["image"], batch.get("label")
        labels = labels if self.model.config.num_classes > 1 else None
        self.chosen, self.validation = select_reg_covar(
            self.model.config, x, labels, p.reg_covar_grid, per_class=p.val_per_class, max_iter=p.max_iter,
            tol=p.tol, seed=seed,
        )  # fmt: skip
        if self.rank == 0:
            out = Path(self.train_config.out)
            out.mkdir(parents=True, exist_ok=True)
            lines = [json.dumps({**row, "chosen": row["reg_covar"] == self.chosen}) for row in self.validation]
            atomic_write_text(out / VALIDATION_NAME, "\n".join(lines) + "\n")
        return self.chosen

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
        if p.reg_covar_grid:
            self.choose_reg_covar(batch, seed + step)
        result = self.model.fit(x, labels, reg_covar=self.reg_covar, max_iter=p.max_iter, tol=p.tol, seed=seed + step)
        if p.reg_covar_grid:
            result["reg_covar"] = self.reg_covar
        return {k: torch.tensor(float(v)) for k, v in result.items()}

    def extra_state(self) -> dict[str, Any]:
        return {"chosen": self.chosen, "validation": self.validation}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        self.chosen = state.get("chosen")
        self.validation = list(state.get("validation", []))
