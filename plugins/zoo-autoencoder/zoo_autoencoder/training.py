"""The autoencoder's training step for ``zoo train``: lazyprogrammer's ``unsupervised_class3/autoencoder_tf.py``.

Per batch: sigmoid cross-entropy with logits summed over pixels and batch (the reference's
``reduce_sum``), one RMSProp step, lr 1e-3, decay (torch's ``alpha``) 0.9 and epsilon 1e-10 as
``tf.train.RMSPropOptimizer``'s defaults; batch 64. The reference trains 30 epochs over about
42,000 Kaggle MNIST digits (about 19,700 steps); over mnist5k's 4,500 training digits the same
number of steps is 280 epochs, the default here.

After every epoch the held-out reconstruction error (``recon-mse`` on the 500 test digits,
reported only) is appended to ``held_out.jsonl`` in the run folder: the card's training curve.
After the last step the Gaussian that sampling decodes is fitted to the codes of the training
digits (``Autoencoder.fit_prior``).

Example:
    $ zoo train autoencoder --dataset mnist5k --out runs/autoencoder-mnist --seed 1
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from zoo_core import ZooError
from zoo_core.training import StepParams, TrainingStep

from .model import Autoencoder, reconstruction_loss

__all__ = ["AutoencoderParams", "AutoencoderTrainingStep"]

CURVE_NAME = "held_out.jsonl"


@dataclass
class AutoencoderParams(StepParams):
    """RMSProp as ``tf.train.RMSPropOptimizer(learning_rate=0.001)``: decay 0.9, epsilon 1e-10."""

    lr: float = 1e-3
    decay: float = 0.9
    eps: float = 1e-10


class AutoencoderTrainingStep(TrainingStep):
    """One RMSProp step on the summed cross-entropy of a batch; logs ``loss`` in nats per image.

    Example:
        >>> zoo_core.training.train("autoencoder", "mnist5k", "runs/ae", seed=1)  # 280 epochs, batch 64
    """

    model: Autoencoder
    params_class = AutoencoderParams
    default_batch_size = 64
    default_epochs = 280
    eval_metrics = ("recon-mse", "fid-mnist")
    eval_split = "test"
    dataset_kinds = ("images", "labelled")
    paper: dict[str, Any] = {  # noqa: RUF012 (read-only class data)
        "title": "Deep Learning: GANs and Variational Autoencoders (course code): autoencoder_tf.py",
        "authors": "LazyProgrammer",
        "year": 2017,
        "url": "https://github.com/lazyprogrammer/machine_learning_examples/blob/master/unsupervised_class3/"
        "autoencoder_tf.py",
        "reference_code": "https://github.com/lazyprogrammer/machine_learning_examples/tree/master/unsupervised_class3",
    }
    license = "mit"
    tags = ("autoencoder", "mnist")
    recipe = (
        "summed sigmoid cross-entropy, RMSProp lr 1e-3 (decay 0.9, eps 1e-10), as lazyprogrammer "
        "unsupervised_class3/autoencoder_tf.py; then a Gaussian fitted to the training codes for sampling"
    )

    def __init__(self, model: Autoencoder, train_config: Any, world_size: int = 1) -> None:
        super().__init__(model, train_config, world_size)
        self._ready = False
        self.train_images: torch.Tensor | None = None
        self.test_images: torch.Tensor | None = None
        self.per_epoch = 0
        self.total = 0

    def _setup(self) -> None:
        """The train and test digits (for the prior and the curve), and the run's steps per epoch and in all."""
        from zoo_core.data import load_dataset
        from zoo_core.training.batches import batches_per_epoch

        self._ready = True
        cfg = self.train_config
        options = dict(cfg.dataset_options or {})
        try:
            train = load_dataset(cfg.dataset, split=cfg.split, **options)
            test = load_dataset(cfg.dataset, split="test", **options)
        except ZooError:  # a data set without splits (the conformance kit's random batch)
            return
        self.train_images, self.test_images = train.tensors(), test.tensors()
        if cfg.batch_size:
            self.per_epoch = batches_per_epoch(len(train), cfg.batch_size, self.world_size)
            epochs = cfg.epochs or (None if cfg.steps else self.default_epochs)
            self.total = cfg.steps if cfg.steps is not None else int(epochs or 0) * self.per_epoch

    @torch.no_grad()
    def _held_out_mse(self) -> float:
        with self.eval_mode():
            x = self.test_images.to(self.device)
            return float((self.model.decode(self.model.encode(x)) - x).double().pow(2).mean())

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        p = self.params
        return {"rmsprop": torch.optim.RMSprop(self.model.parameters(), lr=p.lr, alpha=p.decay, eps=p.eps)}

    def train_step(self, batch: dict[str, Any], step: int) -> dict[str, torch.Tensor]:
        if not self._ready:
            self._setup()
        x = batch["image"]
        optimizer = self.opts["rmsprop"]
        optimizer.zero_grad()
        with self.autocast():
            logits = self.nets["model"](x)
        loss = reconstruction_loss(logits.float(), x)  # summed: unsafe in bf16, so in float32
        self.global_loss(loss, "sum").backward()
        optimizer.step()
        done = step + 1
        if self.per_epoch and done % self.per_epoch == 0 and self.test_images is not None and self.rank == 0:
            out = Path(self.train_config.out)
            out.mkdir(parents=True, exist_ok=True)
            line = {"epoch": done // self.per_epoch, "test_recon_mse": round(self._held_out_mse(), 6)}
            with open(out / CURVE_NAME, "a", encoding="utf-8") as handle:  # an append-only log, as log.jsonl
                handle.write(json.dumps(line) + "\n")
        if self.total and done == self.total and self.train_images is not None:
            with self.eval_mode():
                self.model.fit_prior(self.train_images)  # the Gaussian that sampling decodes
        return {"loss": loss.detach() / len(x)}
