"""The GAN's training step for ``zoo train``: ``mnist.yaml``'s ``AdversaryCost2`` and SGD of ``goodfeli/adversarial``.

One step on a batch of ``m`` real digits ``x`` (flattened, in [0, 1]) and ``m`` noise vectors
z ~ U(-sqrt 3, sqrt 3)^100 (``noise: 'uniform'``), as ``AdversaryCost2.get_samples_and_objectives`` / ``get_gradients``:

- ``S = G(z)``; the discriminator sees ``x`` and ``S`` with dropout (``dropout_fprop``): the input
  of ``h0`` kept with probability 0.8 and scaled by 1.25, the inputs of ``h1`` and ``y`` kept
  with probability 0.5 and scaled by 2 (``discriminator_input_include_probs`` / ``_input_scales``
  and their defaults).
- ``d_obj = 0.5 (BCE(D(x), 1) + BCE(D(S), 0))``; ``g_obj = BCE(D(S), 1)``: the non-saturating
  ``-log D(G(z))`` of the paper's section 3, on the *same* dropped-out ``D(S)``.
- The gradients of ``d_obj`` w.r.t. D's parameters and of ``g_obj`` w.r.t. G's parameters are
  taken at the same point and both networks are updated in the one SGD step (k = 1;
  ``scale_grads: 0``). Here ``g_obj`` goes through the same network on detached parameters
  with the same dropout masks, so one backward pass gives exactly those two gradients.

Optimiser (``algorithm`` of ``mnist.yaml``): batch 100, SGD with pylearn2's momentum rule
(``v <- mu v - lr g``, ``p <- p + v``), learning rate 0.1 divided by 1.000004 after every update
down to 1e-6 (``ExponentialDecay``), momentum 0.5 rising linearly to 0.7 between the reference's
epochs 1 and 250 (``MomentumAdjustor``). The reference's epoch is 500 updates (50,000 MNIST
digits, batch 100); the schedule here is kept in updates (``reference_epoch_steps``), so step k
has the reference's learning rate and momentum, although an epoch of mnist5k is 45 updates.

Final metrics: ``fid-mnist`` (500 samples) and ``parzen-ll`` (the paper's Parzen-window
log-likelihood: 10,000 samples, sigma chosen on the last 500 training digits, the 500 test digits).

Example:
    $ zoo train gan --dataset mnist5k --out runs/gan-mnist --epochs 100
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from zoo_core import ZooError
from zoo_core.training import StepParams, TrainingStep, trains_on_digits

from .model import GAN

__all__ = [
    "PARZEN_RECORD",
    "PARZEN_SE_RECORD",
    "GANParams",
    "GANTrainingStep",
    "Pylearn2Momentum",
    "learning_rate",
    "momentum",
]

#: the Parzen-window record the run ends with (and `zoo eval gan.mnist` reruns): the paper's protocol on mnist5k
PARZEN_RECORD: dict[str, Any] = {
    "name": "parzen-ll",
    "dataset": "mnist5k",
    "split": "test",
    "evaluation": "samples",
    "samples": 10000,
    "seed": 0,
}
#: its standard error, from the same computation (a record of its own, as ``zoo eval`` reproduces each value)
PARZEN_SE_RECORD: dict[str, Any] = {**PARZEN_RECORD, "name": "parzen-ll-se", "metric": "parzen-ll"}


@dataclass
class GANParams(StepParams):
    """``mnist.yaml``'s optimiser and dropout (``--train-config lr=0.1 final_momentum=0.7 ...``)."""

    lr: float = 0.1
    lr_decay: float = 1.000004
    min_lr: float = 1e-6
    init_momentum: float = 0.5
    final_momentum: float = 0.7
    momentum_start: int = 1
    momentum_saturate: int = 250
    reference_epoch_steps: int = 500
    d_input_include_prob: float = 0.8
    d_input_scale: float = 1.25
    d_hidden_include_prob: float = 0.5
    d_hidden_scale: float = 2.0


def learning_rate(step: int, params: GANParams) -> float:
    """The learning rate of update ``step`` (0-based): ``lr / lr_decay**step``, at least ``min_lr``.

    Example:
        >>> learning_rate(0, GANParams()), round(learning_rate(100_000, GANParams()), 5)
        (0.1, 0.06703)
    """
    return max(params.lr / params.lr_decay**step, params.min_lr)


def momentum(step: int, params: GANParams) -> float:
    """The momentum of update ``step``: pylearn2's ``MomentumAdjustor`` over reference epochs.

    Example:
        >>> momentum(0, GANParams()), momentum(500 * 125, GANParams()), momentum(10**6, GANParams())
        (0.5, 0.6, 0.7)
    """
    p = params
    epoch = step // p.reference_epoch_steps  # epochs the reference would have finished before this update
    width = p.momentum_saturate - p.momentum_start
    alpha = 1.0 if width <= 0 else min(max((epoch + 1 - p.momentum_start) / width, 0.0), 1.0)
    return p.init_momentum * (1 - alpha) + p.final_momentum * alpha


class Pylearn2Momentum(torch.optim.Optimizer):
    """SGD with pylearn2's ``Momentum`` rule: ``v <- momentum v - lr g``, then ``p <- p + v``.

    (torch's SGD scales the velocity by the current learning rate instead; the two differ once
    the learning rate decays.)

    Example:
        >>> opt = Pylearn2Momentum(model.parameters(), lr=0.1, momentum=0.5)
    """

    def __init__(self, params: Iterable[nn.Parameter], lr: float, momentum: float) -> None:
        if not lr > 0 or not 0 <= momentum < 1:
            raise ZooError(f"SGD needs lr > 0 and 0 <= momentum < 1, not lr={lr} and momentum={momentum}.")
        super().__init__(params, {"lr": lr, "momentum": momentum})

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> None:  # type: ignore[override]
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if "velocity" not in state:
                    state["velocity"] = torch.zeros_like(p)
                v = state["velocity"]
                v.mul_(group["momentum"]).add_(p.grad, alpha=-group["lr"])
                p.add_(v)


class GANTrainingStep(TrainingStep):
    """``AdversaryCost2`` with simultaneous D and G updates and ``mnist.yaml``'s SGD.

    Example:
        >>> zoo_core.training.train("gan", "mnist5k", "runs/gan", epochs=100)
    """

    params_class = GANParams
    default_batch_size = 100
    default_epochs = 100
    eval_metrics: tuple[Any, ...] = ("fid-mnist", PARZEN_RECORD, PARZEN_SE_RECORD)
    eval_dataset = "mnist5k"
    eval_split = "test"
    dataset_kinds = ("images", "labelled")
    paper: dict[str, Any] = {  # noqa: RUF012 (read-only class data)
        "title": "Generative Adversarial Nets",
        "authors": "Ian J. Goodfellow, Jean Pouget-Abadie, Mehdi Mirza, Bing Xu, David Warde-Farley, Sherjil Ozair, "
        "Aaron Courville, Yoshua Bengio",
        "year": 2014,
        "url": "https://arxiv.org/abs/1406.2661",
        "reference_code": "https://github.com/goodfeli/adversarial/blob/master/mnist.yaml",
    }
    license = "mit"
    tags = ("gan",)
    recipe = (
        "AdversaryCost2 of goodfeli/adversarial: D and G updated together, G on -log D(G(z)), dropout in D "
        "(input 0.8, hidden 0.5); SGD lr 0.1 / 1.000004 per update, momentum 0.5 -> 0.7 over 250 reference "
        "epochs of 500 updates, batch 100, as mnist.yaml"
    )

    def __init__(self, model: GAN, train_config: Any, world_size: int = 1) -> None:
        super().__init__(model, train_config, world_size)
        p = self.params
        for name in ("d_input_include_prob", "d_hidden_include_prob"):
            if not 0 < getattr(p, name) <= 1:
                raise ZooError(f"The GAN's {name} is a probability in (0, 1], not {getattr(p, name)}.")
        if not trains_on_digits(train_config):
            self.eval_metrics = ()  # FID-MNIST and the Parzen window on mnist5k say nothing about other data

    def check_dataset(self, dataset: Any) -> None:
        """The engine's checks, then the generator's output bias from the data (``init_sigmoid_bias_from_marginals``).

        The engine calls this before it restores a checkpoint, so a resumed run keeps its trained bias.

        Example:
            >>> step.check_dataset(load_dataset("mnist5k"))
        """
        super().check_dataset(dataset)
        images = torch.stack([dataset[i]["image"] for i in range(len(dataset))])
        self.model.set_output_bias_from_marginals(images)

    def networks(self) -> dict[str, nn.Module]:
        return {"g": self.model.generator, "d": self.model.discriminator}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        p = self.params
        parameters = [*self.model.generator.parameters(), *self.model.discriminator.parameters()]
        return {"sgd": Pylearn2Momentum(parameters, lr=p.lr, momentum=p.init_momentum)}

    def _masks(self, rows: int, device: torch.device) -> list[torch.Tensor]:
        p = self.params
        probs = (p.d_input_include_prob, p.d_hidden_include_prob, p.d_hidden_include_prob)
        scales = (p.d_input_scale, p.d_hidden_scale, p.d_hidden_scale)
        sizes = self.model.discriminator.input_sizes()
        return [
            torch.empty(rows, size, device=device).bernoulli_(prob).mul_(scale)
            for size, prob, scale in zip(sizes, probs, scales, strict=True)
        ]

    def _global_noise(self) -> torch.Tensor:
        """The model's noise for this process's rows of the global batch (drawn whole, as ``global_randn``)."""
        noise = self.model.noise(self.global_batch_size)
        if self.world_size > 1:
            noise = noise[self.batch_slice]
        return noise.to(self.device)

    def train_step(self, batch: dict[str, Any], step: int) -> dict[str, torch.Tensor]:
        net_g, net_d = self.nets["g"], self.nets["d"]
        opt = self.opts["sgd"]
        lr, mu = learning_rate(step, self.params), momentum(step, self.params)
        for group in opt.param_groups:
            group["lr"], group["momentum"] = lr, mu
        x = batch["image"].flatten(1)
        m = x.shape[0]
        z = self._global_noise()[:m]
        opt.zero_grad()
        with self.autocast():
            fake = net_g(z)
            real_logit = net_d(x, self._masks(m, x.device))
            masks = self._masks(m, x.device)  # one mask for D(S) in both objectives, as AdversaryCost2's y_hat0
            fake_logit = net_d(fake.detach(), masks)
            fake_logit_g = self.model.discriminator(fake, masks, frozen=True)
        real_logit, fake_logit, fake_logit_g = real_logit.float(), fake_logit.float(), fake_logit_g.float()
        ones, zeros = torch.ones_like(real_logit), torch.zeros_like(real_logit)
        d_obj = 0.5 * (
            F.binary_cross_entropy_with_logits(real_logit, ones) + F.binary_cross_entropy_with_logits(fake_logit, zeros)
        )
        g_obj = F.binary_cross_entropy_with_logits(fake_logit_g, ones)
        self.global_loss(d_obj + g_obj, "mean").backward()
        opt.step()
        return {
            "objective_d": d_obj.detach(),
            "objective_g": g_obj.detach(),
            "D_x": torch.sigmoid(real_logit.detach()).mean(),
            "D_G_z": torch.sigmoid(fake_logit.detach()).mean(),
            "lr": torch.tensor(lr),
            "momentum": torch.tensor(mu),
        }
