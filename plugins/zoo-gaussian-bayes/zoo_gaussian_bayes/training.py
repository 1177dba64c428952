"""The closed-form fit of the Bayes-classifier sampler, as a ``closed_form`` training step of ``zoo train``.

Each step adds its batch to per-class sufficient statistics (count, sum, sum of outer products,
in float64) and sets the model from everything seen so far (``GaussianBayes.fit_statistics``).
So one epoch is the whole fit, whatever ``--batch-size``: the default batch is the whole train
split (4,500 digits), one step. No optimiser, no gradient. The statistics are the step's extra
state, so a resumed run continues exactly.

Example:
    $ zoo train gaussian-bayes --dataset mnist5k --out runs/gaussian-bayes --name gaussian-bayes.mnist
"""

from __future__ import annotations

from typing import Any

import torch

from zoo_core import ZooError
from zoo_core.training import TrainingStep

__all__ = ["GaussianBayesTrainingStep"]


class GaussianBayesTrainingStep(TrainingStep):
    """Accumulate each batch's per-class statistics and refit in closed form; logs the batch's mean log p(x, y)."""

    closed_form = True
    default_batch_size = 4500
    default_epochs = 1
    dataset_kinds = ("labelled",)
    eval_metrics = ("accuracy", "fid-mnist")
    eval_dataset = "mnist5k"
    eval_split = "test"
    paper: dict[str, Any] = {  # noqa: RUF012 (read-only class data)
        "title": "Bayes classifier sampler (Deep Learning: GANs and Variational Autoencoders, unsupervised_class3)",
        "authors": "LazyProgrammer",
        "url": "https://github.com/lazyprogrammer/machine_learning_examples/blob/master/unsupervised_class3/"
        "bayes_classifier_gaussian.py",
        "reference_code": "https://github.com/lazyprogrammer/machine_learning_examples/blob/master/unsupervised_class3/"
        "bayes_classifier_gaussian.py",
    }
    license = "mit"
    tags = ("mnist", "explicit-density")
    recipe = (
        "closed form: per-class mean, covariance as np.cov (n - 1) + reg_covar I, prior n_k / n; "
        "no optimiser (a closed_form step)"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        c = self.model.config
        k, d = c.num_classes, self.model.dims
        self.count = torch.zeros(k, dtype=torch.float64)
        self.total = torch.zeros(k, d, dtype=torch.float64)
        shape = (k, d, d) if c.covariance_type == "full" else (k, d)
        self.scatter = torch.zeros(shape, dtype=torch.float64)

    def train_step(self, batch: dict[str, Any], step: int) -> dict[str, torch.Tensor]:
        model = self.model
        c = model.config
        x, y = batch["image"].flatten(1).cpu(), batch["label"].cpu().long()
        if len(y) and (int(y.min()) < 0 or int(y.max()) >= c.num_classes):
            raise ZooError(
                f"gaussian-bayes has {c.num_classes} classes but the data has label {int(y.max())}; "
                f"pass --config num_classes={int(y.max()) + 1}."
            )
        count, total, scatter = model.statistics(x, y, c.num_classes, c.covariance_type)
        self.count += count
        self.total += total
        self.scatter += scatter
        model.fit_statistics(self.count, self.total, self.scatter)
        with torch.no_grad():
            joint = model.classify(batch["image"]).double()  # log p(x, y = k)
            log_joint = joint.gather(1, y[:, None].to(joint.device)).mean()
            accuracy = (joint.argmax(1).cpu() == y).double().mean()
        return {"log_p_xy": log_joint, "train_accuracy": accuracy}

    def extra_state(self) -> dict[str, Any]:
        return {"count": self.count, "total": self.total, "scatter": self.scatter}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        if state:
            self.count, self.total, self.scatter = (state[k].double().cpu() for k in ("count", "total", "scatter"))
