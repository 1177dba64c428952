"""PixelCNN++'s training step for ``zoo train``: the recipe of openai/pixel-cnn ``train.py``.

Per batch: images on [0, 1] read as 8-bit levels and scaled to [-1, 1], the network's mixture
parameters, and the discretised logistic mixture's negative log-likelihood summed over the
batch (``discretized_mix_logistic_loss``); one Adam step. Adam lr 1e-3 with betas (0.95,
0.9995) and the learning rate multiplied by 0.999995 after every step, as openai/pixel-cnn
(``--train-config lr=... lr_decay=... beta1=... beta2=...``). Dropout 0.5 is part of the
model config. Logged: ``bpd``, the batch's bits per dimension.

Not done, and said in the card: openai/pixel-cnn's Polyak averaging of the weights (0.9995)
and its data-dependent initialisation; pclucas14/pixel-cnn-pp, which reaches 2.95 bits/dim
on CIFAR-10, has neither.

Distributed runs: the loss is a sum over images, so it goes through ``global_loss(.., "sum")``.

Final metric: ``bpd`` on the dataset's test split (mnist5k's 500 held-out digits by default).

Example:
    $ zoo train pixelcnnpp --dataset mnist5k --out runs/pixelcnnpp-mnist \\
          --config image_size=28 --config channels=1 --config nr_resnet=2 --config nr_filters=32
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from zoo_core.training import StepParams, TrainingStep

from .likelihood import mixture_log_prob, quantize
from .model import PixelCNNPP

__all__ = ["PixelCNNPPParams", "PixelCNNPPTrainingStep"]


@dataclass
class PixelCNNPPParams(StepParams):
    """openai/pixel-cnn's optimiser: Adam (lr 1e-3, betas 0.95 / 0.9995), lr x 0.999995 per step."""

    lr: float = 1e-3
    lr_decay: float = 0.999995
    beta1: float = 0.95
    beta2: float = 0.9995


class PixelCNNPPTrainingStep(TrainingStep):
    """One Adam step on the summed negative log-likelihood of a batch; logs bits per dimension.

    Example:
        >>> zoo_core.training.train("pixelcnnpp", "mnist5k", "runs/p", epochs=1,
        ...     config={"image_size": 28, "channels": 1, "nr_resnet": 1, "nr_filters": 16})
    """

    model: PixelCNNPP
    params_class = PixelCNNPPParams
    default_batch_size = 16  # openai/pixel-cnn's per-GPU batch (it trains on 8 GPUs)
    default_epochs = 5000  # openai/pixel-cnn's --max_epochs; give --epochs
    scheduler_interval = "step"
    eval_metrics = ("bpd",)
    eval_split = "test"
    dataset_kinds = ("images", "labelled")
    paper: dict[str, Any] = {  # noqa: RUF012 (read-only class data)
        "title": "PixelCNN++: Improving the PixelCNN with Discretized Logistic Mixture Likelihood "
        "and Other Modifications",
        "authors": "Tim Salimans, Andrej Karpathy, Xi Chen, Diederik P. Kingma",
        "year": 2017,
        "url": "https://arxiv.org/abs/1701.05517",
        "reference_code": "https://github.com/openai/pixel-cnn",
    }
    license = "mit"
    tags = ("autoregressive", "likelihood")
    recipe = (
        "summed discretised-logistic-mixture NLL, Adam lr 1e-3 betas (0.95, 0.9995), lr x 0.999995 per step, "
        "dropout 0.5, as openai/pixel-cnn (no Polyak averaging, no data-dependent init)"
    )

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        p = self.params
        return {"adam": torch.optim.Adam(self.model.parameters(), lr=p.lr, betas=(p.beta1, p.beta2))}

    def schedulers(self) -> dict[str, Any]:
        return {"lr": torch.optim.lr_scheduler.ExponentialLR(self.opts["adam"], gamma=self.params.lr_decay)}

    def train_step(self, batch: dict[str, Any], step: int) -> dict[str, torch.Tensor]:
        x = quantize(batch["image"] * 2 - 1)
        optimizer = self.opts["adam"]
        optimizer.zero_grad()
        with self.autocast():
            params = self.nets["model"](x)
        nll = -mixture_log_prob(x, params.float()).sum()
        self.global_loss(nll, "sum").backward()
        optimizer.step()
        return {"bpd": nll.detach() / (x.numel() * 0.6931471805599453)}
