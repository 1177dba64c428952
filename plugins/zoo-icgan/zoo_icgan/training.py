"""IcGAN's training for ``zoo train``: the conditional GAN, then the encoders, in one run (Guim3/IcGAN).

Phase 1, steps ``0 .. gan_steps - 1``: the cGAN of ``trainGAN.lua`` (``fDx`` / ``fGx``, l. 205-290),
one D and one G update per batch of real digits x with their classes y (the +-1 one-hot vectors):

1. D (Adam 2e-4, beta1 0.5): ``BCE(D(x, y), 1)``, plus with ``train_wrong_y`` (the reference's
   ``trainWrongY = true``) ``0.5 * BCE(D(x, y_wrong), 0)`` where y_wrong is a uniformly random other
   class (``donkey_mnist.lua``), and ``BCE(D(G(z, y_f), y_f), 0)`` scaled by 0.5 with ``train_wrong_y``
   ("fake image error is shared equally between real Y and wrong Y"). z ~ N(0, I) ``(B, nz, 1, 1)``
   (``noise = 'normal'``); y_f are the batch's classes in a random order: a draw from the data's class
   frequencies, as ``sampleY`` draws from MNIST's. Three forward passes, so three BatchNorm batches,
   as the reference. Logged ``loss_D`` is the reference's ``errD`` = (real + wrong + fake) / 2.
2. G (Adam 2e-4, beta1 0.5): ``BCE(D(G(z, y_f), y_f), 1)`` on the same fakes (``loss_G``, ``errG``),
   D's parameters frozen (the reference only back-propagates through D, ``updateGradInput``).

D outputs logits and the losses are ``BCEWithLogits`` (the reference: Sigmoid + ``BCECriterion``).

Phase 2, steps ``gan_steps ..``: the encoders of ``trainEncoder.lua`` with G and D frozen (no
gradient, no BatchNorm update: G runs in eval mode). First, once, ``refresh_bn_batches`` (100)
forward passes of G in training mode without gradients re-estimate its BatchNorm statistics with the
final weights (``generateEncoderDataset.lua`` ``stabilizeBN``). Then per step:

- E_z (Adam 1e-4, beta1 0.1, MSE; ``cfg/mainConfig.lua`` option 1): ``MSE(E_z(G(z, y)), z)`` on a
  fresh batch of generated digits, z ~ N(0, I), y cycling through the classes as
  ``generateEncoderDataset.lua`` sets them (``loss_Ez``). The reference draws a fixed set of 60,000
  generated digits first and trains 15 epochs on 66 % of it; we draw new ones every step (the same
  distribution, never the same image twice).
- E_y (Adam 1e-4, beta1 0.1, MSE to the +-1 class vector; option 2): on the batch's *real* digits
  and their classes, as the reference (``readDatasetY`` reads MNIST itself; ``loss_Ey``,
  ``accuracy_Ey`` the fraction whose argmax is the class). ``encoder_y_data=generated`` trains it
  on the generated digits and the classes they were drawn with instead.

Step counts (``--train-config``): ``gan_steps`` and ``encoder_steps``, for the run's N steps
(``--steps N``, else ``--epochs`` (default 25) times the batches of an epoch): a value left out is
the rest of N; both left out, N is split in the proportion of the reference's MNIST run, 25 epochs
of 60,000 digits at batch 64 (23,440 steps) to 15 epochs of 39,600 generated digits (9,270
steps): 71.7 % GAN; both given must add up to N. One process only (no torchrun).

Measured (one thread, 32x32, ngf = ndf = 64, encoders nf 32, batch 64): 0.30 s of CPU per GAN
step and 0.12 s per encoder step (0.47 s and 0.20 s of wall time on a machine loaded by other
runs); the published ``icgan.mnist`` (``--steps 5500 --train-config gan_steps=3000``: 42 epochs of
mnist5k, then 2,500 encoder steps) takes about 20 minutes of CPU.

Final metrics (digit data): ``fid-mnist`` of class-conditional samples (random classes), and the
card's ``edit-agreement`` and ``reconstruction-l1`` on the test split (``zoo_icgan.evaluation``).

Example:
    $ zoo train icgan --dataset mnist5k --dataset-option size=32 --out runs/icgan \\
          --config image_size=32 --steps 5500 --train-config gan_steps=3000
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from zoo_core import ZooError
from zoo_core.training import StepParams, trains_on_digits
from zoo_core.training.batches import batches_per_epoch
from zoo_core.training.step import TrainingStep

from .model import IcGAN, one_hot_pm1

__all__ = ["REFERENCE_ENCODER_STEPS", "REFERENCE_GAN_STEPS", "IcGANParams", "IcGANTrainingStep", "split_steps"]

#: 25 epochs (``niter``) of MNIST's 60,000 training digits at batch 64
REFERENCE_GAN_STEPS = 25 * 938
#: 15 epochs (``nEpochs``) of 66 % (``split``) of 60,000 generated digits at batch 64
REFERENCE_ENCODER_STEPS = 15 * 618

ENCODER_Y_DATA = ("real", "generated")


@dataclass
class IcGANParams(StepParams):
    """The reference's hyper-parameters (``cfg/mainConfig.lua``), e.g. ``--train-config gan_steps=3000``."""

    gan_steps: int = REFERENCE_GAN_STEPS
    encoder_steps: int = REFERENCE_ENCODER_STEPS
    lr: float = 2e-4
    beta1: float = 0.5
    train_wrong_y: bool = True
    encoder_lr: float = 1e-4
    encoder_beta1: float = 0.1
    encoder_y_data: str = "real"
    refresh_bn_batches: int = 100


def split_steps(total: int | None, given: dict[str, Any], gan: int, encoder: int) -> tuple[int, int]:
    """``(gan_steps, encoder_steps)`` for a run of ``total`` steps (``None``: as given), or one sentence.

    Example:
        >>> split_steps(1000, {"gan_steps": 800}, 800, 9270)
        (800, 200)
        >>> split_steps(1000, {}, 23440, 9270)
        (717, 283)
    """
    if total is None:
        return gan, encoder
    has_gan, has_encoder = "gan_steps" in given, "encoder_steps" in given
    if has_gan and has_encoder:
        if gan + encoder != total:
            raise ZooError(
                f"gan_steps ({gan}) and encoder_steps ({encoder}) add up to {gan + encoder}, not --steps {total}; "
                "give one of them, or --steps equal to their sum."
            )
        return gan, encoder
    if has_gan or has_encoder:
        part = gan if has_gan else encoder
        if part > total:
            raise ZooError(f"{'gan_steps' if has_gan else 'encoder_steps'} ({part}) exceeds --steps {total}.")
        return (gan, total - gan) if has_gan else (total - encoder, encoder)
    share = REFERENCE_GAN_STEPS / (REFERENCE_GAN_STEPS + REFERENCE_ENCODER_STEPS)
    return round(total * share), total - round(total * share)


class IcGANTrainingStep(TrainingStep):
    """The conditional GAN's D and G updates, then the encoders' with G frozen (see the module docstring).

    Example:
        >>> zoo_core.training.train("icgan", "mnist5k", "runs/icgan", steps=5500, dataset_options={"size": 32},
        ...     config={"image_size": 32}, step_config={"gan_steps": 3000})
    """

    params_class = IcGANParams
    default_batch_size = 64
    default_epochs = 25  # the reference's niter
    #: FID-MNIST against the 28x28 test digits, as every GAN of the zoo (dcgan, wgan ... the README's table); the
    #: editing metrics on the test digits at the training size (the encoders take the model's image size)
    eval_metrics: tuple[Any, ...] = (
        {"name": "fid-mnist", "dataset": "mnist5k", "split": "test", "evaluation": "samples"},
        "edit-agreement",
        "reconstruction-l1",
    )
    eval_split = "test"
    dataset_kinds = ("labelled",)
    paper: dict[str, Any] = {  # noqa: RUF012 (read-only class data)
        "title": "Invertible Conditional GANs for image editing",
        "authors": "Guim Perarnau, Joost van de Weijer, Bogdan Raducanu, Jose M. Álvarez",
        "year": 2016,
        "url": "https://arxiv.org/abs/1611.06355",
        "reference_code": "https://github.com/Guim3/IcGAN",
    }
    license = "mit"
    tags = ("gan", "conditional-gan", "icgan", "image-editing")
    recipe = (
        "conditional DCGAN (y at G's input and after D's first convolution, real/wrong-y/fake D loss) with Adam "
        "2e-4 beta1 0.5, then encoders E_z (on generated digits) and E_y (on real digits), MSE, Adam 1e-4 "
        "beta1 0.1, G frozen, as Guim3/IcGAN"
    )

    def __init__(self, model: IcGAN, train_config: Any, world_size: int = 1) -> None:
        super().__init__(model, train_config, world_size)
        p = self.params
        if p.encoder_y_data not in ENCODER_Y_DATA:
            raise ZooError(f"encoder_y_data must be 'real' or 'generated', not {p.encoder_y_data!r}.")
        if world_size > 1:
            raise ZooError(
                "icgan trains in one process (each phase freezes networks that DistributedDataParallel would have "
                "to synchronise); run `zoo train` without torchrun."
            )
        self.given = {k: getattr(p, k) for k in ("gan_steps", "encoder_steps") if k in (train_config.step_config or {})}
        p.gan_steps, p.encoder_steps = split_steps(
            getattr(train_config, "steps", None), self.given, p.gan_steps, p.encoder_steps
        )
        self.bn_refreshed = False
        if not trains_on_digits(train_config):
            self.eval_metrics = ("reconstruction-l1",)  # the mnistnet metrics say nothing about other data
        self.set_phase(encoders=p.gan_steps == 0)

    # -- the phases ---------------------------------------------------------------------------
    def set_phase(self, *, encoders: bool) -> None:
        """Let gradients reach the networks of one phase only: G and D, or the two encoders."""
        m = self.model
        m.generator.requires_grad_(not encoders)
        m.discriminator.requires_grad_(not encoders)
        m.encoder_z.requires_grad_(encoders)
        m.encoder_y.requires_grad_(encoders)

    def networks(self) -> dict[str, nn.Module]:
        m = self.model
        return {"g": m.generator, "d": m.discriminator, "ez": m.encoder_z, "ey": m.encoder_y}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        p, m = self.params, self.model
        gan, enc = (p.beta1, 0.999), (p.encoder_beta1, 0.999)
        return {
            "d": torch.optim.Adam(m.discriminator.parameters(), lr=p.lr, betas=gan),
            "g": torch.optim.Adam(m.generator.parameters(), lr=p.lr, betas=gan),
            "ez": torch.optim.Adam(m.encoder_z.parameters(), lr=p.encoder_lr, betas=enc),
            "ey": torch.optim.Adam(m.encoder_y.parameters(), lr=p.encoder_lr, betas=enc),
        }

    def extra_state(self) -> dict[str, Any]:
        return {"bn_refreshed": self.bn_refreshed}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        self.bn_refreshed = bool(state.get("bn_refreshed", False))

    def samples(self, n: int, seed: int) -> torch.Tensor:
        """The grids: every class in turn (0, 1, ... 9, 0, 1, ...), reading the grid row by row."""
        return self.model.sample(n, labels=[i % self.model.num_classes for i in range(n)], seed=seed)

    def check_dataset(self, dataset: Any) -> None:
        """The engine's checks; a run counted in epochs (``--epochs``, or the default 25) splits its steps here."""
        self.check_square_size(dataset, self.model.config.image_size)
        super().check_dataset(dataset)
        cfg, p = self.train_config, self.params
        if getattr(cfg, "steps", None) is None:
            batch = getattr(cfg, "batch_size", None) or self.default_batch_size
            total = (getattr(cfg, "epochs", None) or self.default_epochs) * batches_per_epoch(len(dataset), batch)
            p.gan_steps, p.encoder_steps = split_steps(total, self.given, p.gan_steps, p.encoder_steps)

    def train_step(self, batch: dict[str, Any], step: int) -> dict[str, torch.Tensor]:
        if step < self.params.gan_steps:
            self.set_phase(encoders=False)
            return self.gan_step(batch)
        self.set_phase(encoders=True)
        return self.encoder_step(batch)

    # -- phase 1: the conditional GAN ---------------------------------------------------------
    def gan_step(self, batch: dict[str, Any]) -> dict[str, torch.Tensor]:
        net_g, net_d = self.nets["g"], self.nets["d"]
        opt_g, opt_d = self.opts["g"], self.opts["d"]
        ny, nz, p = self.model.num_classes, self.model.config.nz, self.params
        real = batch["image"].to(self.device) * 2 - 1  # [0, 1] -> [-1, 1], as donkey_mnist.lua
        labels = batch["label"].to(self.device).long()
        n = len(labels)
        y_real = one_hot_pm1(labels, ny)
        y_wrong = one_hot_pm1((labels + torch.randint(1, ny, (n,)).to(self.device)) % ny, ny)
        y_fake = y_real[torch.randperm(n).to(self.device)]
        z = self.global_randn(nz, 1, 1)
        bce = F.binary_cross_entropy_with_logits

        opt_d.zero_grad()
        with self.autocast():
            fake = net_g(z, y_fake)
            out_real = net_d(real, y_real).float()
        err_real = bce(out_real, torch.ones_like(out_real))
        err_wrong = torch.zeros((), device=self.device)
        if p.train_wrong_y:
            with self.autocast():
                out_wrong = net_d(real, y_wrong).float()
            err_wrong = 0.5 * bce(out_wrong, torch.zeros_like(out_wrong))
        with self.autocast():
            out_fake = net_d(fake.detach(), y_fake).float()
        err_fake = bce(out_fake, torch.zeros_like(out_fake)) * (0.5 if p.train_wrong_y else 1.0)
        self.global_loss(err_real + err_wrong + err_fake, "mean").backward()
        opt_d.step()

        self.model.discriminator.requires_grad_(False)  # the reference only back-propagates through D
        try:
            opt_g.zero_grad()
            with self.autocast():
                out = net_d(fake, y_fake).float()
            err_g = bce(out, torch.ones_like(out))
            self.global_loss(err_g, "mean").backward()
            opt_g.step()
        finally:
            self.model.discriminator.requires_grad_(True)
        return {
            "loss_D": ((err_real + err_wrong + err_fake) / 2).detach(),
            "loss_D_real": err_real.detach(),
            "loss_D_wrong_y": err_wrong.detach(),
            "loss_D_fake": err_fake.detach(),
            "loss_G": err_g.detach(),
        }

    # -- phase 2: the encoders ----------------------------------------------------------------
    def refresh_batch_norm(self) -> None:
        """``stabilizeBN``: forward passes of G in training mode (no gradient) re-estimate its BatchNorm statistics."""
        generator, ny, nz = self.model.generator, self.model.num_classes, self.model.config.nz
        n = self.global_batch_size or self.default_batch_size
        y = one_hot_pm1(torch.arange(n, device=self.device) % ny, ny)
        generator.train()
        with torch.no_grad():
            for _ in range(self.params.refresh_bn_batches):
                generator(torch.randn(n, nz, 1, 1, device=self.device), y)
        self.bn_refreshed = True

    def encoder_step(self, batch: dict[str, Any]) -> dict[str, torch.Tensor]:
        m, p = self.model, self.params
        ny, nz = m.num_classes, m.config.nz
        if not self.bn_refreshed:
            self.refresh_batch_norm()
        m.generator.eval()  # frozen: no BatchNorm update either
        m.discriminator.eval()
        n = len(batch["image"])
        labels = torch.arange(n, device=self.device) % ny  # generateEncoderDataset.lua's Y
        z = self.global_randn(nz, 1, 1)
        with torch.no_grad(), self.autocast():
            generated = self.nets["g"](z, one_hot_pm1(labels, ny)).float()

        opt_z = self.opts["ez"]
        opt_z.zero_grad()
        with self.autocast():
            z_hat = self.nets["ez"](generated).float()
        loss_z = F.mse_loss(z_hat, z.view(n, nz))
        self.global_loss(loss_z, "mean").backward()
        opt_z.step()

        if p.encoder_y_data == "real":
            x, y_labels = batch["image"].to(self.device) * 2 - 1, batch["label"].to(self.device).long()
        else:
            x, y_labels = generated, labels
        opt_y = self.opts["ey"]
        opt_y.zero_grad()
        with self.autocast():
            y_hat = self.nets["ey"](x).float()
        loss_y = F.mse_loss(y_hat, one_hot_pm1(y_labels, ny))
        self.global_loss(loss_y, "mean").backward()
        opt_y.step()
        return {
            "loss_Ez": loss_z.detach(),
            "loss_Ey": loss_y.detach(),
            "accuracy_Ey": (y_hat.detach().argmax(1) == y_labels).float().mean(),
        }
