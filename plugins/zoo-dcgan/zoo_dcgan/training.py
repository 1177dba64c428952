"""The DCGAN's training step for ``zoo train``: the loop of pytorch/examples ``dcgan/main.py``.

Per batch (real images mapped from [0, 1] to [-1, 1], the reference's ``Normalize(0.5, 0.5)``):

1. D step: BCE of D(x) against label 1, backward; z ~ N(0, I) ``(B, nz, 1, 1)``, fake = G(z);
   BCE of D(fake.detach()) against label 0, backward; Adam step on D.
2. G step: BCE of D(fake) against label 1, backward; Adam step on G.

Adam lr 2e-4, betas (0.5, 0.999) for both networks, batch 64, as the reference's defaults
(``--train-config lr=... beta1=...``). Logged as the reference prints them: ``loss_D``
(errD_real + errD_fake), ``loss_G``, ``D_x`` (mean D(x)), ``D_G_z1`` (mean D(G(z)) before the
D update) and ``D_G_z2`` (after it).

Distributed runs: z is drawn for the global batch with ``global_randn``, so N processes draw
the codes one process draws, and the mean BCE losses go through ``global_loss(.., "mean")``.
BatchNorm statistics are those of each process's shard (as the reference's own multi-GPU
``data_parallel``); an N-process run therefore follows a one-process run closely, not bit
for bit.

Final metrics: ``fid-mnist`` on mnist5k's test split, declared only when the training set is
of handwritten digits (``zoo_core.training.trains_on_digits``). The metric resizes samples to 28x28
and averages RGB to grey, so 32x32 or 64x64 models are compared with the real 28x28 digits.
On other data (faces, photos, your folders) the run ends with no metric rather than a
meaningless one. When the classifier behind FID-MNIST cannot be fetched the engine skips it
with a warning.

Datasets must match ``channels`` and ``image_size``: mnist5k's digits are 28x28, so resize them
with the dataset option ``size``.

Example:
    $ zoo train dcgan --dataset mnist5k --dataset-option size=32 --out runs/dcgan-mnist \\
          --config image_size=32 --config channels=1 --epochs 25
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from zoo_core import ZooError
from zoo_core.training import StepParams, TrainingStep, trains_on_digits

from .model import DCGAN

__all__ = ["DCGANParams", "DCGANTrainingStep"]


REAL_LABEL = 1.0
FAKE_LABEL = 0.0


@dataclass
class DCGANParams(StepParams):
    """Hyper-parameters of the reference (``--train-config lr=2e-4 --train-config beta1=0.5``)."""

    lr: float = 2e-4
    beta1: float = 0.5


class DCGANTrainingStep(TrainingStep):
    """Alternating D and G updates with BCE, as pytorch/examples ``dcgan/main.py``.

    Example:
        >>> zoo_core.training.train("dcgan", "mnist5k", "runs/dcgan", steps=1000,
        ...     dataset_options={"size": 32}, config={"image_size": 32, "channels": 1})
    """

    params_class = DCGANParams
    default_batch_size = 64
    default_epochs = 25  # the reference's --niter
    eval_metrics: tuple[str, ...] = ("fid-mnist",)
    eval_dataset = "mnist5k"
    eval_split = "test"
    dataset_kinds = ("images", "labelled")
    paper: dict[str, Any] = {  # noqa: RUF012 (read-only class data)
        "title": "Unsupervised Representation Learning with Deep Convolutional Generative Adversarial Networks",
        "authors": "Alec Radford, Luke Metz, Soumith Chintala",
        "year": 2015,
        "url": "https://arxiv.org/abs/1511.06434",
        "reference_code": "https://github.com/pytorch/examples/blob/main/dcgan/main.py",
    }
    license = "mit"
    tags = ("gan",)
    recipe = "BCE, D on real then fake, G with real labels; Adam 2e-4, betas (0.5, 0.999), as pytorch/examples"

    def __init__(self, model: DCGAN, train_config: Any, world_size: int = 1) -> None:
        super().__init__(model, train_config, world_size)
        if getattr(model, "discriminator", None) is None:
            raise ZooError(
                "This DCGAN holds a generator only (with_discriminator=false) and cannot be trained; "
                "train one with with_discriminator=true."
            )
        if not trains_on_digits(train_config):
            self.eval_metrics = ()  # FID in a digit classifier's features says nothing about faces or photos

    def check_dataset(self, dataset: Any) -> None:
        """The engine's checks, with the fix for a size mismatch that a DCGAN can take (a resize).

        Example:
            >>> step.check_dataset(load_dataset("mnist5k"))  # 28x28 for a 32x32 DCGAN
            ZooError: The dataset 'mnist5k' has 28x28 images but this dcgan takes 32x32; ...
        """
        self.check_square_size(dataset, self.model.config.image_size)
        super().check_dataset(dataset)

    def networks(self) -> dict[str, nn.Module]:
        return {"g": self.model.generator, "d": self.model.discriminator}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        betas = (self.params.beta1, 0.999)
        return {
            "d": torch.optim.Adam(self.model.discriminator.parameters(), lr=self.params.lr, betas=betas),
            "g": torch.optim.Adam(self.model.generator.parameters(), lr=self.params.lr, betas=betas),
        }

    def train_step(self, batch: dict[str, Any], step: int) -> dict[str, torch.Tensor]:
        net_g, net_d = self.nets["g"], self.nets["d"]
        opt_g, opt_d = self.opts["g"], self.opts["d"]
        real = batch["image"] * 2 - 1  # [0, 1] -> [-1, 1], the reference's Normalize((0.5,), (0.5,))
        label = torch.full((real.shape[0],), REAL_LABEL, dtype=torch.float32, device=real.device)

        # (1) Update D: maximise log(D(x)) + log(1 - D(G(z)))
        opt_d.zero_grad()
        with self.autocast():
            output = net_d(real)
        # binary_cross_entropy is unsafe under bf16 autocast: losses in float32
        err_d_real = F.binary_cross_entropy(output.float(), label)
        self.global_loss(err_d_real, "mean").backward()
        d_x = output.detach().float().mean()

        noise = self.global_randn(self.model.config.nz, 1, 1)
        with self.autocast():
            fake = net_g(noise)
            output = net_d(fake.detach())
        label.fill_(FAKE_LABEL)
        err_d_fake = F.binary_cross_entropy(output.float(), label)
        self.global_loss(err_d_fake, "mean").backward()
        d_g_z1 = output.detach().float().mean()
        opt_d.step()

        # (2) Update G: maximise log(D(G(z)))
        opt_g.zero_grad()
        label.fill_(REAL_LABEL)  # fake labels are real for the generator cost
        with self.autocast():
            output = net_d(fake)
        err_g = F.binary_cross_entropy(output.float(), label)
        self.global_loss(err_g, "mean").backward()
        d_g_z2 = output.detach().float().mean()
        opt_g.step()

        return {
            "loss_D": (err_d_real + err_d_fake).detach(),
            "loss_G": err_g.detach(),
            "D_x": d_x,
            "D_G_z1": d_g_z1,
            "D_G_z2": d_g_z2,
        }
