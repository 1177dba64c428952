"""WGAN-GP's training step for ``zoo train``: the loop of igul222/improved_wgan_training ``gan_mnist.py``.

One ``zoo train`` step is one batch, and so one critic iteration, as in the reference (l. 224-231:
each critic iteration takes the next batch; the generator's update, l. 217-218, takes none):

1. Critic iteration (l. 136-148): ``disc_cost = mean D(G(z)) - mean D(x) + lambda * GP``, with
   z ~ N(0, I) ``(B, 128)``, G frozen, and the gradient penalty ``GP`` = mean over the batch of
   ``(||grad D(x_hat)||_2 - 1)^2`` at random interpolates of real and fake images (one uniform
   ``alpha`` per image); Adam step. The losses are zoo_core's: ``GANLoss("wgangp")`` (-mean D(x),
   +mean D(G(z))) and ``gradient_penalty`` (``alpha * real + (1 - alpha) * fake``: the reference's
   ``real + alpha * (fake - real)`` with ``alpha`` and ``1 - alpha`` exchanged, the same
   distribution; it adds 1e-16 to the gradients before the norm, which the reference does not).
2. After every ``n_critic`` (5) critic iterations, the generator's update (l. 135):
   ``gen_cost = -mean D(G(z))`` on fresh noise, Adam step. The reference runs its generator
   first in each of its iterations but skips it in iteration 0 (``if iteration > 0``): the same
   order, critic x5, generator, critic x5 ... No warm-up (unlike WGAN's 100 critic iterations).

Adam lr 1e-4, betas (0.5, 0.9) for both networks (l. 150-159). The issue that asked for this
plugin says (0, 0.9), the paper's Algorithm 1 default; ``gan_mnist.py``, the MNIST reference,
sets ``beta1=0.5``, and that is the default here (``--train-config beta1=0`` gives the paper's).
Batch 50 (``BATCH_SIZE``), lambda 10 (``LAMBDA``), n_critic 5 (``CRITIC_ITERS``). The reference
trains 200,000 generator iterations (``ITERS``): 1,000,000 critic batches, ``--steps 1000000``.

Logged every step: ``loss_D`` (``disc_cost``, the penalty included: the reference's "train disc
cost"), ``gradient_penalty`` (lambda * GP), ``wasserstein`` = mean D(x) - mean D(G(z)): the
critic's estimate of the Wasserstein distance, positive when the critic works (this critic scores
real images *high*, unlike WGAN's reference); ``loss_G`` (``gen_cost`` of the latest generator
update; before the first, ``-mean D(G(z))`` of the step's fakes) and ``generator_iters``.

Final metrics: ``fid-mnist`` on mnist5k's test split (the networks take 28x28 grey digits only).

Example:
    $ zoo train wgan-gp --dataset mnist5k --out runs/wgan-gp-mnist --steps 100000
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from zoo_core import ZooError
from zoo_core.layers.gan_losses import GANLoss, gradient_penalty
from zoo_core.training import InputSpec, StepParams
from zoo_core.training.critic import CriticSchedule, CriticTrainingStep

from .model import IMAGE_SIZE, WGANGP

__all__ = ["WGANGPParams", "WGANGPTrainingStep"]


@dataclass
class WGANGPParams(StepParams):
    """``gan_mnist.py``'s hyper-parameters (l. 24-26, 150-159), e.g. ``--train-config lambda_gp=10``."""

    lr: float = 1e-4
    beta1: float = 0.5
    beta2: float = 0.9
    lambda_gp: float = 10.0
    n_critic: int = 5


class WGANGPTrainingStep(CriticTrainingStep):
    """Gradient-penalised critic iterations and generator updates with Adam, as ``gan_mnist.py``.

    Example:
        >>> zoo_core.training.train("wgan-gp", "mnist5k", "runs/wgan-gp", steps=1000)
    """

    params_class = WGANGPParams
    default_batch_size = 50  # BATCH_SIZE
    default_epochs = 1
    eval_metrics: tuple[str, ...] = ("fid-mnist",)
    eval_dataset = "mnist5k"
    eval_split = "test"
    dataset_kinds = ("images", "labelled")
    paper: dict[str, Any] = {  # noqa: RUF012 (read-only class data)
        "title": "Improved Training of Wasserstein GANs",
        "authors": "Ishaan Gulrajani, Faruk Ahmed, Martin Arjovsky, Vincent Dumoulin, Aaron Courville",
        "year": 2017,
        "url": "https://arxiv.org/abs/1704.00028",
        "reference_code": "https://github.com/igul222/improved_wgan_training/blob/master/gan_mnist.py",
    }
    license = "mit"
    tags = ("gan", "wgan-gp")
    recipe = (
        "gradient penalty lambda 10, 5 critic iterations per generator step, Adam 1e-4 betas (0.5, 0.9), "
        "batch 50, no batch norm, as igul222/improved_wgan_training gan_mnist.py"
    )

    def __init__(self, model: WGANGP, train_config: Any, world_size: int = 1) -> None:
        super().__init__(model, train_config, world_size)
        if getattr(model, "critic", None) is None:
            raise ZooError(
                "This WGAN-GP holds a generator only (with_critic=false) and cannot be trained; "
                "train one with with_critic=true."
            )
        if self.params.n_critic < 1:
            raise ZooError("n_critic must be at least 1 critic iteration per generator step.")
        self.schedule = CriticSchedule(self.params.n_critic, warmup_generator_iters=0, warmup_every=0)
        self.criterion = GANLoss("wgangp")

    def input_spec(self) -> InputSpec:
        """28x28 grey images: the only input of the reference's networks."""
        return InputSpec(1, (IMAGE_SIZE, IMAGE_SIZE), tuple(self.dataset_kinds))

    def check_dataset(self, dataset: Any) -> None:
        """The engine's checks, with the fix for another image size: these networks take 28x28 only.

        Example:
            >>> step.check_dataset(load_dataset("mnist5k", size=32))
            ZooError: The dataset 'mnist5k' has 32x32 images but wgan-gp's networks take 28x28 only; ...
        """
        size = getattr(dataset, "image_size", None)
        if size and tuple(size) != (IMAGE_SIZE, IMAGE_SIZE):
            name = getattr(dataset, "name", "") or type(dataset).__name__
            raise ZooError(
                f"The dataset {name!r} has {size[0]}x{size[1]} images but wgan-gp's networks take "
                f"{IMAGE_SIZE}x{IMAGE_SIZE} only (gan_mnist.py); drop --dataset-option size or resize the data to 28."
            )
        super().check_dataset(dataset)

    def networks(self) -> dict[str, nn.Module]:
        return {"g": self.model.generator, "d": self.model.critic}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        p = self.params
        betas = (p.beta1, p.beta2)
        return {
            "d": torch.optim.Adam(self.model.critic.parameters(), lr=p.lr, betas=betas),
            "g": torch.optim.Adam(self.model.generator.parameters(), lr=p.lr, betas=betas),
        }

    def train_step(self, batch: dict[str, Any], step: int) -> dict[str, torch.Tensor]:
        net_g, net_d = self.nets["g"], self.nets["d"]
        opt_g, opt_d = self.opts["g"], self.opts["d"]
        critic, nz = self.model.critic, self.model.config.nz
        real = batch["image"]  # [0, 1], as tflib.mnist feeds the reference's critic

        # (1) a critic iteration
        opt_d.zero_grad()
        with torch.no_grad(), self.autocast():
            fake = net_g(self.global_randn(nz)).float()
        with self.autocast():
            out_real, out_fake = net_d(real), net_d(fake)
        penalty, _ = gradient_penalty(net_d, real, fake, "mixed", 1.0, self.params.lambda_gp)
        wasserstein_loss = self.criterion(out_real.float(), True) + self.criterion(out_fake.float(), False)
        loss_d = wasserstein_loss + penalty
        self.global_loss(loss_d, "mean").backward()
        opt_d.step()

        # (2) the generator's update, after every n_critic critic iterations
        if self.schedule.critic_step_done():
            critic.requires_grad_(False)
            try:
                opt_g.zero_grad()
                with self.autocast():
                    out = net_d(net_g(self.global_randn(nz)))
                loss_g = self.criterion(out.float(), True)  # gen_cost = -mean D(G(z))
                self.global_loss(loss_g, "mean").backward()
                opt_g.step()
            finally:
                critic.requires_grad_(True)
            self.generator_updated(loss_g)
        return {
            "loss_D": loss_d.detach(),
            "gradient_penalty": penalty.detach(),
            "wasserstein": -wasserstein_loss.detach(),
            "loss_G": self.logged_generator_loss(-out_fake.detach().float().mean()),
            "generator_iters": float(self.schedule.generator_iters),
        }
