"""PixelCNN's training step for ``zoo train``: the PixelRNN paper's recipe on binarized images.

Per batch: binary images (``--dataset-option binarize=stochastic`` on ``mnist5k``: the paper's
binarized MNIST), the network's logits, and the negative log-likelihood of every pixel under its
Bernoulli (``binary_cross_entropy_with_logits``), summed over the pixels of an image and averaged
over the batch; one RMSProp step (the paper trains all its models with RMSProp; the learning
rate is ours, 1e-3: the paper gives none for MNIST; ``--train-config lr=... alpha=...``).
Logged: ``nll``, the batch's nats per image. Grey images are refused in one sentence
(``zoo_core.modeling.check_density_images``).

Final metric: ``nll-binarized`` on the dataset's test split (mnist5k's 500 held-out digits,
binarized as the run's data).

Example:
    $ zoo train pixelcnn --dataset mnist5k --dataset-option binarize=stochastic --out runs/pixelcnn --epochs 20
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from zoo_core.modeling import check_density_images
from zoo_core.training import StepParams, TrainingStep

from .model import PixelCNN

__all__ = ["PixelCNNParams", "PixelCNNTrainingStep"]


@dataclass
class PixelCNNParams(StepParams):
    """RMSProp (the paper's optimiser), lr 1e-3, torch's alpha 0.99 and eps 1e-8."""

    lr: float = 1e-3
    alpha: float = 0.99
    eps: float = 1e-8


class PixelCNNTrainingStep(TrainingStep):
    """One RMSProp step on the mean over the batch of each image's negative log-likelihood in nats.

    Example:
        >>> zoo_core.training.train("pixelcnn", "mnist5k", "runs/p", epochs=1,
        ...     dataset_options={"binarize": "stochastic"}, config={"n_residual": 4})
    """

    model: PixelCNN
    params_class = PixelCNNParams
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
        "reference_code": "https://github.com/EugenHotaj/pytorch-generative",
    }
    license = "mit"
    tags = ("autoregressive", "likelihood", "binarized")
    recipe = "summed per-pixel Bernoulli NLL (nats per image, batch mean), RMSProp lr 1e-3 (the paper's optimiser)"

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        p = self.params
        return {"rmsprop": torch.optim.RMSprop(self.model.parameters(), lr=p.lr, alpha=p.alpha, eps=p.eps)}

    def train_step(self, batch: dict[str, Any], step: int) -> dict[str, torch.Tensor]:
        x = batch["image"]
        c = self.model.config
        check_density_images(x, pixel_levels=2, channels=c.channels, size=(c.image_size, c.image_size), what="PixelCNN")
        optimizer = self.opts["rmsprop"]
        optimizer.zero_grad()
        with self.autocast():
            logits = self.nets["model"](x)
        nll = F.binary_cross_entropy_with_logits(logits.float(), x, reduction="none").flatten(1).sum(1).mean()
        self.global_loss(nll, "mean").backward()
        optimizer.step()
        return {"nll": nll.detach()}
