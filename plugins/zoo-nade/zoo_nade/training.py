"""NADE's training step for ``zoo train``: maximum likelihood with early stopping on a validation split.

Per batch: the mean over images of ``-log p(x)`` (nats, summed over pixels), as both references
(MarcCote/NADE ``-loglikelihood.mean()``, pytorch-generative ``loss.sum(dim=1).mean()``); one
Adam step (pytorch-generative's optimiser, lr 1e-3; the paper and MarcCote/NADE use SGD, see the
card). Batch 100 (MarcCote/NADE's default minibatch).

Early stopping, as MarcCote/NADE (``at_lowest`` validation loss, parameters restored at the end):
the last ``val_per_class`` training digits of each class (in file order; 50, i.e. 500 digits by
default) are a validation split that the step never trains on (their rows are masked out of
every batch's loss), their mean NLL is measured after every epoch, the weights at the lowest
value are kept, and they are put back into the model after the last step. Every epoch's
validation NLL and test NLL (the 500 held-out digits, reported only, never used to choose) are
appended to ``held_out.jsonl`` in the run folder: the card's training curve.

Example:
    $ zoo train nade --dataset mnist5k --dataset-option binarize=stochastic --out runs/nade --epochs 60
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from zoo_core import ZooError
from zoo_core.training import StepParams, TrainingStep

from .model import NADE

__all__ = ["NADEParams", "NADETrainingStep"]

CURVE_NAME = "held_out.jsonl"


@dataclass
class NADEParams(StepParams):
    """Adam's learning rate, and the validation digits per class held out of training (0: none)."""

    lr: float = 1e-3
    val_per_class: int = 50


class NADETrainingStep(TrainingStep):
    """One Adam step on the mean NLL of a batch (validation digits masked out); logs ``nll`` in nats.

    Example:
        >>> zoo_core.training.train("nade", "mnist5k", "runs/n", epochs=2, dataset_options={"binarize": "stochastic"})
    """

    model: NADE
    params_class = NADEParams
    default_batch_size = 100
    default_epochs = 100
    eval_metrics = ("nll-binarized",)
    eval_dataset = None  # the training data set with the run's options (binarize=stochastic)
    eval_split = "test"
    eval_metric_options: dict[str, dict[str, Any]] = {}  # noqa: RUF012 (read-only class data)
    dataset_kinds = ("images", "labelled")
    paper: dict[str, Any] = {  # noqa: RUF012 (read-only class data)
        "title": "The Neural Autoregressive Distribution Estimator",
        "authors": "Hugo Larochelle, Iain Murray",
        "year": 2011,
        "url": "https://proceedings.mlr.press/v15/larochelle11a.html",
        "reference_code": "https://github.com/MarcCote/NADE",
    }
    license = "mit"
    tags = ("autoregressive", "likelihood", "binarized-mnist")
    recipe = (
        "mean NLL per image (nats), Adam lr 1e-3, batch 100, early stopping: the weights of the epoch with the "
        "lowest NLL on a validation split (the last 50 training digits of each class, never trained on)"
    )

    def __init__(self, model: NADE, train_config: Any, world_size: int = 1) -> None:
        super().__init__(model, train_config, world_size)
        self._ready = False
        self.validation: torch.Tensor | None = None
        self.test: torch.Tensor | None = None
        self.held_out_keys: set[bytes] = set()
        self.per_epoch = 0
        self.total = 0
        self.best: dict[str, Any] = {"nll": None, "epoch": 0}
        self.best_state: dict[str, torch.Tensor] = {}

    # -- the validation split ------------------------------------------------------------
    def _setup(self) -> None:
        """Load the validation and test digits (when the data set is mnist5k-like); count the epoch's steps."""
        from zoo_core.data import load_dataset
        from zoo_core.training.batches import batches_per_epoch

        self._ready = True
        cfg = self.train_config
        options = dict(cfg.dataset_options or {})
        try:
            train = load_dataset(cfg.dataset, split=cfg.split, **options)
            test = load_dataset(cfg.dataset, split="test", **options)
        except ZooError:  # a data set without splits (the conformance kit's random batch): no early stopping
            return
        if cfg.batch_size:
            self.per_epoch = batches_per_epoch(len(train), cfg.batch_size, self.world_size)
            epochs = cfg.epochs or (None if cfg.steps else self.default_epochs)
            self.total = cfg.steps if cfg.steps is not None else int(epochs or 0) * self.per_epoch
        labels = getattr(train, "labels", None)
        if self.params.val_per_class and labels is not None:
            keep = []
            for digit in labels.unique().tolist():
                keep += torch.nonzero(labels == digit).flatten()[-self.params.val_per_class :].tolist()
            images = train.tensors()[sorted(keep)]
            self.validation = images
            self.held_out_keys = {_key(x) for x in images}
        self.test = test.tensors()

    def _train_mask(self, x: torch.Tensor) -> torch.Tensor:
        """True for the rows of ``x`` that are not validation digits."""
        if not self.held_out_keys:
            return torch.ones(len(x), dtype=torch.bool, device=x.device)
        return torch.tensor([_key(row) not in self.held_out_keys for row in x.cpu()], device=x.device)

    @torch.no_grad()
    def _mean_nll(self, images: torch.Tensor) -> float:
        total = 0.0
        with self.eval_mode():
            for chunk in images.split(250):
                total += float(self.model.nll(chunk.to(self.device)).double().sum())
        return total / len(images)

    def _end_of_epoch(self, epoch: int) -> None:
        if self.validation is None:
            return
        val = self._mean_nll(self.validation)
        test = self._mean_nll(self.test) if self.test is not None else None
        if self.best["nll"] is None or val < self.best["nll"]:
            self.best = {"nll": val, "epoch": epoch}
            self.best_state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        if self.rank == 0:
            out = Path(self.train_config.out)
            out.mkdir(parents=True, exist_ok=True)
            line = {"epoch": epoch, "val_nll": round(val, 4), "test_nll": None if test is None else round(test, 4)}
            with open(out / CURVE_NAME, "a", encoding="utf-8") as handle:  # an append-only log, as log.jsonl
                handle.write(json.dumps({**line, "best_epoch": self.best["epoch"]}) + "\n")

    # -- the recipe ----------------------------------------------------------------------
    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"adam": torch.optim.Adam(self.model.parameters(), lr=self.params.lr)}

    def train_step(self, batch: dict[str, Any], step: int) -> dict[str, torch.Tensor]:
        if not self._ready:
            self._setup()
        x = batch["image"]
        mask = self._train_mask(x)
        optimizer = self.opts["adam"]
        optimizer.zero_grad()
        with self.autocast():
            logits = self.nets["model"](x).float()
        flat = x.reshape(len(x), -1).to(logits.dtype)
        nll = F.binary_cross_entropy_with_logits(logits, flat, reduction="none").sum(1)
        loss = (nll * mask).sum() / mask.sum().clamp(min=1)
        self.global_loss(loss, "mean").backward()
        optimizer.step()
        done = step + 1
        if self.per_epoch and done % self.per_epoch == 0:
            self._end_of_epoch(done // self.per_epoch)
        if self.total and done == self.total and self.best_state:
            self.model.load_state_dict(self.best_state)  # early stopping: the lowest validation NLL
        return {"nll": loss.detach()}

    def extra_state(self) -> dict[str, Any]:
        return {"best": dict(self.best), **{f"best_state.{k}": v for k, v in self.best_state.items()}}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        self.best = dict(state.get("best", self.best))
        self.best_state = {k[len("best_state.") :]: v for k, v in state.items() if k.startswith("best_state.")}


def _key(image: torch.Tensor) -> bytes:
    """A digit's identity: its binary pixels, packed (the validation digits are recognised in any batch)."""
    return np.packbits((image.flatten() > 0.5).numpy()).tobytes()
