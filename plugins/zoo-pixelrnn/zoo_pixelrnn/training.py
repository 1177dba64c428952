"""PixelRNN's training step for ``zoo train``: the paper's recipe on binarized images.

Per batch: binary images (``--dataset-option binarize=stochastic`` on ``mnist5k``: the paper's
binarized MNIST), the network's logits, and the negative log-likelihood of every pixel under its
Bernoulli (``binary_cross_entropy_with_logits``). One RMSProp step (the paper: "RMSProp gives best
convergence performance and is used for all experiments") on the mean NLL per pixel, with every
gradient element clipped to [-1, 1], as both readable references do (igul222/pixel_rnn,
carpedm20/pixel-rnn-tensorflow: lr 1e-3, clip 1); ``--train-config lr=... grad_clip=...``.
Logged: ``nll``, the batch's nats per image. Grey images are refused in one sentence
(``zoo_core.modeling.check_density_images``).

Final metric: ``nll-binarized`` on the dataset's test split (mnist5k's 500 held-out digits,
binarized as the run's data).

Example:
    $ zoo train pixelrnn --dataset mnist5k --dataset-option binarize=stochastic --out runs/pixelrnn --epochs 20
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from zoo_core.modeling import check_density_images
from zoo_core.training import StepParams, TrainingStep

from .model import PixelRNN

__all__ = ["PixelRNNParams", "PixelRNNTrainingStep"]


@dataclass
class PixelRNNParams(StepParams):
    """RMSProp (the paper's optimiser), lr 1e-3 and elementwise gradient clipping at 1 (the references')."""

    lr: float = 1e-3
    alpha: float = 0.99
    eps: float = 1e-8
    grad_clip: float = 1.0


class PixelRNNTrainingStep(TrainingStep):
    """One RMSProp step on the mean NLL per pixel (gradients clipped elementwise); logs nats per image.

    Example:
        >>> zoo_core.training.train("pixelrnn", "mnist5k", "runs/p", epochs=1,
        ...     dataset_options={"binarize": "stochastic"}, config={"layer": "row-lstm"})
    """

    model: PixelRNN
    params_class = PixelRNNParams
    default_batch_size = 32
    default_epochs = 20
    eval_metrics = ("nll-binarized",)
    eval_split = "test"
    dataset_kinds = ("images", "labelled")
    paper: dict[str, Any] = {  # noqa: RUF012 (read-only class data)
        "title": "Pixel Recurrent Neural Networks",
        "authors": "Aaron van den Oord, Nal Kalchbrenner, Koray Kavukcuoglu",
        "year": 2016,
        "url": "https://arxiv.org/abs/1601.06759",
        "reference_code": "https://github.com/igul222/pixel_rnn",
    }
    license = "mit"
    tags = ("autoregressive", "likelihood", "binarized", "recurrent")
    recipe = (
        "per-pixel Bernoulli NLL (mean per pixel), RMSProp lr 1e-3 (the paper's optimiser), gradients clipped "
        "elementwise at 1 (igul222/pixel_rnn, carpedm20/pixel-rnn-tensorflow)"
    )

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        p = self.params
        return {"rmsprop": torch.optim.RMSprop(self.model.parameters(), lr=p.lr, alpha=p.alpha, eps=p.eps)}

    def train_step(self, batch: dict[str, Any], step: int) -> dict[str, torch.Tensor]:
        x = batch["image"]
        size = self.model.config.image_size
        check_density_images(x, pixel_levels=2, channels=1, size=(size, size), what="PixelRNN")
        optimizer = self.opts["rmsprop"]
        optimizer.zero_grad()
        with self.autocast():
            logits = self.nets["model"](x)
        per_pixel = F.binary_cross_entropy_with_logits(logits.float(), x, reduction="none").flatten(1)
        self.global_loss(per_pixel.mean(), "mean").backward()
        torch.nn.utils.clip_grad_value_(self.model.parameters(), self.params.grad_clip)
        optimizer.step()
        return {"nll": per_pixel.sum(1).mean().detach()}
