"""CoGAN's training step for ``zoo train``: the loop of ``cogan_pytorch/src/trainer_cogan_mnistedge.py``.

One ``zoo train`` step is one batch of unpaired digits (``image``: domain 1, ``target``: domain 2,
from two disjoint halves of the data: ``mnist-edges``, ``mnist-negative``) and, as the reference's
``train_cogan_mnistedge.py`` loop, one discriminator update then one generator update:

1. ``dis_update``: the discriminators score the real pair of batches (``dis(images_a, images_b)``,
   ``2B`` rows) against label 1 and a generated pair ``gen(z)`` (z ~ N(0, I) ``(B, 100)``) against
   label 0; ``loss_D`` = CE(real, 1) + CE(fake, 0), each a 2-way softmax cross-entropy averaged over
   the ``2B`` rows of both domains (a 2-logit softmax is a sigmoid of the logit difference: the
   paper's binary GAN losses, ``log f1(x1) + log f2(x2) + log(1 - f1(g1(z))) + log(1 - f2(g2(z)))``).
   The shared layers (``conv1``, ``conv2``, ``prelu2``, ``conv3``) get the gradient of both domains.
2. ``gen_update``: fresh noise, ``loss_G`` = CE(dis(gen(z)), 1) (the non-saturating loss) for both
   domains at once; the shared ``dconv0..3`` get both domains' gradients.

Optimisers (``trainer_cogan_mnistedge.py`` l. 14-15; the Caffe solver ``mnist.edge.cogan.solver.ptt``
agrees): Adam lr 2e-4, betas (0.5, 0.999), weight decay 5e-4, one for ``dis`` and one for ``gen``.
Batch 64, ``max_iter`` 5000 (``exps/mnistedge_cogan.yaml``; Caffe: batch 128, 50,000 iterations):
``default_epochs`` 143 is about 5,000 steps of 64 over 2,250 domain-1 digits. ``--train-config``:
``lr``, ``beta1``, ``beta2``, ``weight_decay``.

Logged every step: ``loss_D``, ``loss_D_real``, ``loss_D_fake``, ``loss_G`` and ``accuracy``, the
discriminators' accuracy on real and generated rows (``0.5 * (true_acc + fake_acc)``, the reference's
only logged value).

Final metrics: ``pair-agreement`` (10,000 seeded pairs, ``--eval-samples``), with the model's ``pair``.

Example:
    $ zoo train cogan --dataset mnist-edges --config pair=edges --out runs/cogan-edges --steps 5000
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from zoo_core import ZooError
from zoo_core.training import InputSpec, StepParams, TrainingStep

from .data import DATASET_NAMES
from .model import IMAGE_SIZE, CoGAN

__all__ = ["CoGANParams", "CoGANTrainingStep"]


@dataclass
class CoGANParams(StepParams):
    """The reference's optimiser (``trainer_cogan_mnistedge.py``), e.g. ``--train-config weight_decay=0``."""

    lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    weight_decay: float = 5e-4


class CoGANTrainingStep(TrainingStep):
    """One discriminator and one generator update of both coupled GANs per batch, as the reference.

    Example:
        >>> zoo_core.training.train("cogan", "mnist-negative", "runs/cogan-neg", steps=5000,
        ...     config={"pair": "negative"})
    """

    params_class = CoGANParams
    default_batch_size = 64
    default_epochs = 143  # ~5,000 iterations (exps/mnistedge_cogan.yaml max_iter) over 2,250 digits
    eval_metrics: tuple[str, ...] = ("pair-agreement",)
    dataset_kinds = ("unpaired",)
    paper: dict[str, Any] = {  # noqa: RUF012 (read-only class data)
        "title": "Coupled Generative Adversarial Networks",
        "authors": "Ming-Yu Liu, Oncel Tuzel",
        "year": 2016,
        "url": "https://arxiv.org/abs/1606.07536",
        "reference_code": "https://github.com/mingyuliutw/CoGAN/tree/master/cogan_pytorch",
    }
    license = "mit"
    tags = ("gan", "unpaired", "weight-sharing")
    recipe = (
        "two GANs, generators sharing all but their last layer and discriminators all but their first, trained on "
        "unpaired digits of two domains (disjoint halves); 2-way softmax GAN losses, Adam 2e-4 (0.5, 0.999), "
        "weight decay 5e-4, batch 64, as mingyuliutw/CoGAN's PyTorch port"
    )

    def __init__(self, model: CoGAN, train_config: Any, world_size: int = 1) -> None:
        super().__init__(model, train_config, world_size)
        p = self.params
        if p.lr <= 0 or not (0 <= p.beta1 < 1 and 0 <= p.beta2 < 1) or p.weight_decay < 0:
            raise ZooError(
                "CoGAN's lr must be positive, beta1 and beta2 in [0, 1) and weight_decay at least 0; "
                "e.g. --train-config lr=0.0002."
            )

    def input_spec(self) -> InputSpec:
        return InputSpec(1, (IMAGE_SIZE, IMAGE_SIZE), tuple(self.dataset_kinds))

    def check_dataset(self, dataset: Any) -> None:
        """The engine's checks (unpaired 28x28 grey digits), and the model's pair against the dataset's."""
        super().check_dataset(dataset)
        pair, wanted = getattr(dataset, "pair", None), self.model.config.pair
        if pair is not None and pair != wanted:
            raise ZooError(
                f"The dataset {DATASET_NAMES.get(pair, pair)!r} pairs digits with their {pair} but this CoGAN's "
                f"pair is {wanted!r}; pass --config pair={pair} or --dataset {DATASET_NAMES[wanted]}."
            )

    def networks(self) -> dict[str, nn.Module]:
        return {"gen": self.model.gen, "dis": self.model.dis}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        p = self.params
        options = {"lr": p.lr, "betas": (p.beta1, p.beta2), "weight_decay": p.weight_decay}
        return {
            "dis": torch.optim.Adam(self.model.dis.parameters(), **options),
            "gen": torch.optim.Adam(self.model.gen.parameters(), **options),
        }

    def _noise(self) -> torch.Tensor:
        latent = self.model.config.latent_dims
        if self.model.config.noise == "uniform":
            noise = torch.rand(self.global_batch_size, latent) * 2 - 1
            if self.world_size > 1:
                noise = noise[self.batch_slice]
            return noise.to(self.device)
        return self.global_randn(latent)

    def train_step(self, batch: dict[str, Any], step: int) -> dict[str, torch.Tensor]:
        gen, dis = self.nets["gen"], self.nets["dis"]
        opt_gen, opt_dis = self.opts["gen"], self.opts["dis"]
        images_a, images_b = batch["image"], batch["target"]  # [0, 1], as the reference's ToTensor()

        # dis_update: real pairs -> 1, generated pairs -> 0 (both domains' rows in one batch)
        opt_dis.zero_grad()
        with self.autocast():
            true_outputs = dis(images_a, images_b).float()
        true_labels = torch.ones(len(true_outputs), dtype=torch.long, device=true_outputs.device)
        true_loss = F.cross_entropy(true_outputs, true_labels)
        self.global_loss(true_loss, "mean").backward()  # one backward per forward (DDP); the gradients add up
        with torch.no_grad(), self.autocast():
            fake_a, fake_b = gen(self._noise())  # the reference does not detach; gen's grads are zeroed anyway
        with self.autocast():
            fake_outputs = dis(fake_a, fake_b).float()
        fake_loss = F.cross_entropy(fake_outputs, torch.zeros_like(true_labels[: len(fake_outputs)]))
        self.global_loss(fake_loss, "mean").backward()
        d_loss = (true_loss + fake_loss).detach()  # d_loss = true_loss + fake_loss, as dis_update
        opt_dis.step()
        with torch.no_grad():
            true_acc = (true_outputs.argmax(1) == 1).float().mean()
            fake_acc = (fake_outputs.argmax(1) == 0).float().mean()

        # gen_update: fresh noise, generated pairs -> 1
        self.model.dis.requires_grad_(False)
        try:
            opt_gen.zero_grad()
            with self.autocast():
                outputs = dis(*gen(self._noise())).float()
            g_loss = F.cross_entropy(outputs, torch.ones(len(outputs), dtype=torch.long, device=outputs.device))
            self.global_loss(g_loss, "mean").backward()
            opt_gen.step()
        finally:
            self.model.dis.requires_grad_(True)
        return {
            "loss_D": d_loss,
            "loss_D_real": true_loss.detach(),
            "loss_D_fake": fake_loss.detach(),
            "loss_G": g_loss.detach(),
            "accuracy": 0.5 * (true_acc + fake_acc),
        }
