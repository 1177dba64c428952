"""WGAN's training step for ``zoo train``: the loop of martinarjovsky/WassersteinGAN ``main.py`` (l. 167-233).

One ``zoo train`` step is one batch, and so one critic iteration, as in the reference (each of
its critic iterations takes the next batch; the generator's update takes none):

1. Critic iteration: clamp every critic parameter to ``[clamp_lower, clamp_upper]`` (-0.01, 0.01;
   l. 185-186), then ``errD_real`` = mean D(x) (``backward(one)``), z ~ N(0, I) ``(B, nz, 1, 1)``,
   ``errD_fake`` = mean D(G(z)) with G frozen (``backward(mone)``), RMSProp step. The critic
   thus *minimises* ``errD = errD_real - errD_fake`` (l. 211): the reference's critic scores
   real images low and fakes high (the shared critic loss ``GANLoss("wgangp")``, -mean + mean,
   with the roles of real and fake exchanged; the sign is immaterial, f and -f are both
   0.01-clipped critics, and we keep the reference's so that its checkpoints train on).
2. When the critic has had its iterations, the generator's update (l. 215-227): with the critic's
   parameters frozen, ``errG`` = mean D(G(z)) on fresh noise, ``backward(one)``, RMSProp step.

The critic iterations per generator iteration (``Diters``, l. 176-179): 100 for the first 25
generator iterations and for every 500th, else 5 (``zoo_core.training.critic.CriticSchedule``;
its counters are checkpointed). One deviation: the reference also cuts a critic run short at
the end of each epoch (``while j < Diters and i < len(dataloader)``); ours runs across epochs.

Logged every step: ``loss_D`` (``errD``, the reference's ``Loss_D``), ``loss_D_real``,
``loss_D_fake``, and ``wasserstein`` = ``errD_fake - errD_real`` = ``-Loss_D``: the critic's
estimate of the Wasserstein distance, positive when the critic works, which the paper plots
against sample quality (the README: "plot the value -Loss_D"). ``loss_G`` is ``errG`` of the
latest generator update (before the first one, the step's ``errD_fake``, the same quantity:
mean D(G(z))), and ``generator_iters`` the generator iterations so far.

Hyper-parameters (``--train-config``): ``lr_d`` / ``lr_g`` 5e-5 (``--lrD`` / ``--lrG``),
``clamp_lower`` / ``clamp_upper`` (``--clamp_lower`` / ``--clamp_upper``), ``n_critic`` 5
(``--Diters``), ``warmup_n_critic`` 100, ``warmup_generator_iters`` 25, ``warmup_every`` 500,
``adam`` false (``--adam``, then Adam with betas (``beta1`` 0.5, 0.999)). Batch 64, 25 epochs.

Final metrics: ``fid-mnist`` on mnist5k's test split when the training set is MNIST-like, as dcgan.

Example:
    $ zoo train wgan --dataset mnist5k --dataset-option size=32 --out runs/wgan-mnist \\
          --config image_size=32 --config channels=1
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from zoo_core import ZooError
from zoo_core.layers.gan_losses import GANLoss
from zoo_core.training import StepParams, trains_on_digits
from zoo_core.training.critic import CriticSchedule, CriticTrainingStep, clip_parameters_

from .model import WGAN

__all__ = ["WGANParams", "WGANTrainingStep"]


@dataclass
class WGANParams(StepParams):
    """The reference's hyper-parameters (``main.py`` l. 33-48), e.g. ``--train-config n_critic=5``."""

    lr_d: float = 5e-5
    lr_g: float = 5e-5
    clamp_lower: float = -0.01
    clamp_upper: float = 0.01
    n_critic: int = 5
    warmup_n_critic: int = 100
    warmup_generator_iters: int = 25
    warmup_every: int = 500
    adam: bool = False
    beta1: float = 0.5


class WGANTrainingStep(CriticTrainingStep):
    """Weight-clipped critic iterations and generator updates with RMSProp, as ``main.py``.

    Example:
        >>> zoo_core.training.train("wgan", "mnist5k", "runs/wgan", steps=1000,
        ...     dataset_options={"size": 32}, config={"image_size": 32, "channels": 1})
    """

    params_class = WGANParams
    default_batch_size = 64
    default_epochs = 25  # the reference's --niter
    eval_metrics: tuple[str, ...] = ("fid-mnist",)
    eval_dataset = "mnist5k"
    eval_split = "test"
    dataset_kinds = ("images", "labelled")
    paper: dict[str, Any] = {  # noqa: RUF012 (read-only class data)
        "title": "Wasserstein GAN",
        "authors": "Martin Arjovsky, Soumith Chintala, Léon Bottou",
        "year": 2017,
        "url": "https://arxiv.org/abs/1701.07875",
        "reference_code": "https://github.com/martinarjovsky/WassersteinGAN/blob/master/main.py",
    }
    license = "bsd-3-clause"
    tags = ("gan", "wgan")
    recipe = (
        "critic clipped to [-0.01, 0.01], 5 critic iterations per generator step (100 for the first 25 "
        "and every 500th), RMSProp 5e-5, as martinarjovsky/WassersteinGAN"
    )

    def __init__(self, model: WGAN, train_config: Any, world_size: int = 1) -> None:
        super().__init__(model, train_config, world_size)
        if getattr(model, "critic", None) is None:
            raise ZooError(
                "This WGAN holds a generator only (with_critic=false) and cannot be trained; "
                "train one with with_critic=true."
            )
        p = self.params
        if p.clamp_lower >= p.clamp_upper:
            raise ZooError(f"clamp_lower ({p.clamp_lower}) must be below clamp_upper ({p.clamp_upper}).")
        if p.n_critic < 1 or p.warmup_n_critic < 1:
            raise ZooError("n_critic and warmup_n_critic must be at least 1 critic iteration per generator step.")
        self.schedule = CriticSchedule(p.n_critic, p.warmup_n_critic, p.warmup_generator_iters, p.warmup_every)
        self.criterion = GANLoss("wgangp")
        if not trains_on_digits(train_config):
            self.eval_metrics = ()  # FID in a digit classifier's features says nothing about faces or photos

    def check_dataset(self, dataset: Any) -> None:
        """The engine's checks, with the fix for a size mismatch that a WGAN can take (a resize)."""
        self.check_square_size(dataset, self.model.config.image_size)
        super().check_dataset(dataset)

    def networks(self) -> dict[str, nn.Module]:
        return {"g": self.model.generator, "d": self.model.critic}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        p, g, d = self.params, self.model.generator.parameters(), self.model.critic.parameters()
        if p.adam:
            return {
                "d": torch.optim.Adam(d, lr=p.lr_d, betas=(p.beta1, 0.999)),
                "g": torch.optim.Adam(g, lr=p.lr_g, betas=(p.beta1, 0.999)),
            }
        return {"d": torch.optim.RMSprop(d, lr=p.lr_d), "g": torch.optim.RMSprop(g, lr=p.lr_g)}

    def train_step(self, batch: dict[str, Any], step: int) -> dict[str, torch.Tensor]:
        net_g, net_d = self.nets["g"], self.nets["d"]
        opt_g, opt_d = self.opts["g"], self.opts["d"]
        critic, nz = self.model.critic, self.model.config.nz
        real = batch["image"] * 2 - 1  # [0, 1] -> [-1, 1], the reference's Normalize(0.5, 0.5)

        # (1) a critic iteration
        clip_parameters_(critic, self.params.clamp_lower, self.params.clamp_upper)
        opt_d.zero_grad()
        with self.autocast():
            out_real = net_d(real)
        err_d_real = out_real.float().mean()
        self.global_loss(self.criterion(out_real.float(), False), "mean").backward()  # + mean D(x)
        with torch.no_grad(), self.autocast():
            fake = net_g(self.global_randn(nz, 1, 1))  # G frozen: "totally freeze netG"
        with self.autocast():
            out_fake = net_d(fake)
        err_d_fake = out_fake.float().mean()
        self.global_loss(self.criterion(out_fake.float(), True), "mean").backward()  # - mean D(G(z))
        opt_d.step()
        err_d_real, err_d_fake = err_d_real.detach(), err_d_fake.detach()

        # (2) the generator's update, when the critic has had its iterations
        if self.schedule.critic_step_done():
            critic.requires_grad_(False)  # "to avoid computation"
            try:
                opt_g.zero_grad()
                with self.autocast():
                    out = net_d(net_g(self.global_randn(nz, 1, 1)))
                err_g = self.criterion(out.float(), False)  # errG = mean D(G(z)), minimised
                self.global_loss(err_g, "mean").backward()
                opt_g.step()
            finally:
                critic.requires_grad_(True)
            self.generator_updated(err_g)
        return {
            "loss_D": err_d_real - err_d_fake,
            "loss_D_real": err_d_real,
            "loss_D_fake": err_d_fake,
            "wasserstein": err_d_fake - err_d_real,
            "loss_G": self.logged_generator_loss(err_d_fake),
            "generator_iters": float(self.schedule.generator_iters),
        }
