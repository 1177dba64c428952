"""Gated PixelCNN's training step for ``zoo train``: the readable reference's recipe on binarized images.

Per batch: binary images (``--dataset-option binarize=stochastic`` on ``mnist5k``), the network's
logits, and the negative log-likelihood of every pixel under its Bernoulli (or, with
``--config pixel_levels=256``, of 8-bit images under the 256-way softmax), summed over the
pixels of an image and averaged over the batch; one Adam step, lr 1e-3 multiplied by 0.9999
after every step: EugenHotaj/pytorch-generative's ``gated_pixel_cnn.py`` ``reproduce`` (the paper
trains on CIFAR-10 and ImageNet and gives no MNIST recipe; ``--train-config lr=... lr_decay=...``).
Logged: ``nll``, the batch's nats per image. Grey images are refused in one sentence
(``zoo_core.modeling.check_density_images``).

Final metric: ``nll-binarized`` on the dataset's test split (mnist5k's 500 held-out digits).

Example:
    $ zoo train gated-pixelcnn --dataset mnist5k --dataset-option binarize=stochastic --out runs/gated --epochs 20
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from zoo_core.modeling import check_density_images
from zoo_core.training import StepParams, TrainingStep

from .model import GatedPixelCNN, pixel_nll

__all__ = ["GatedPixelCNNParams", "GatedPixelCNNTrainingStep"]


@dataclass
class GatedPixelCNNParams(StepParams):
    """The reference's optimiser: Adam lr 1e-3 (betas 0.9 / 0.999), lr x 0.9999 after every step."""

    lr: float = 1e-3
    lr_decay: float = 0.9999


class GatedPixelCNNTrainingStep(TrainingStep):
    """One Adam step on the mean over the batch of each image's negative log-likelihood in nats.

    Example:
        >>> zoo_core.training.train("gated-pixelcnn", "mnist5k", "runs/g", epochs=1,
        ...     dataset_options={"binarize": "stochastic"}, config={"n_gated": 4, "gated_channels": 32})
    """

    model: GatedPixelCNN
    params_class = GatedPixelCNNParams
    default_batch_size = 128  # the reference's
    default_epochs = 457  # the reference's n_epochs; give --epochs
    scheduler_interval = "step"
    eval_metrics = ("nll-binarized",)
    eval_split = "test"
    dataset_kinds = ("images", "labelled")
    paper: dict[str, Any] = {  # noqa: RUF012 (read-only class data)
        "title": "Conditional Image Generation with PixelCNN Decoders",
        "authors": "Aaron van den Oord, Nal Kalchbrenner, Oriol Vinyals, Lasse Espeholt, Alex Graves, "
        "Koray Kavukcuoglu",
        "year": 2016,
        "url": "https://arxiv.org/abs/1606.05328",
        "reference_code": "https://github.com/EugenHotaj/pytorch-generative",
    }
    license = "mit"
    tags = ("autoregressive", "likelihood", "binarized")
    recipe = (
        "summed per-pixel Bernoulli NLL (nats per image, batch mean), Adam lr 1e-3, lr x 0.9999 per step, "
        "as EugenHotaj/pytorch-generative"
    )

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"adam": torch.optim.Adam(self.model.parameters(), lr=self.params.lr)}

    def schedulers(self) -> dict[str, Any]:
        return {"lr": torch.optim.lr_scheduler.ExponentialLR(self.opts["adam"], gamma=self.params.lr_decay)}

    def train_step(self, batch: dict[str, Any], step: int) -> dict[str, torch.Tensor]:
        x = batch["image"]
        c = self.model.config
        check_density_images(
            x,
            pixel_levels=c.pixel_levels,
            channels=c.channels,
            size=(c.image_size, c.image_size),
            what="Gated PixelCNN",
        )
        optimizer = self.opts["adam"]
        optimizer.zero_grad()
        with self.autocast():
            logits = self.nets["model"](x)
        nll = pixel_nll(logits.float(), x, c.pixel_levels).mean()
        self.global_loss(nll, "mean").backward()
        optimizer.step()
        return {"nll": nll.detach()}
