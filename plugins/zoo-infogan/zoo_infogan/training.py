"""InfoGAN's training step for ``zoo train``: ``infogan/algos/infogan_trainer.py`` of openai/InfoGAN.

The reference builds two losses from one prior draw ``z`` = [noise, category, continuous] and
runs the D trainer, then the G trainer, on each batch (``train``: ``sess.run([discriminator_trainer]
+ log_vars)``, then ``sess.run(generator_trainer)``; every ``sess.run`` draws a fresh ``z``).
With ``D(x) = sigmoid(logit)`` and ``TINY`` = 1e-8 (``init_opt``):

- ``discriminator_loss`` = -mean(log(D(x) + TINY) + log(1 - D(G(z)) + TINY)) - λ MI;
- ``generator_loss`` = -mean(log(D(G(z)) + TINY)) - λ MI (non-saturating);
- MI = MI_disc + MI_cont, the variational lower bound on I(c; G(z)) with Q's posterior on the fakes:
  ``MI_disc`` = H(c) - CrossEnt_disc, H(c) = -log(1/categories + TINY) (the prior's ``logli_prior``) and
  CrossEnt_disc = mean(-sum(log(softmax(Q logits) + TINY) * onehot(c)));
  ``MI_cont`` = mean(-log N(c; 0, 1)) - CrossEnt_cont, CrossEnt_cont = mean(-sum_j log N(c_j; mean_j,
  std_j)) with std 1 (``fix_std``; ``Gaussian.logli`` with ``+ TINY`` on std), summed over the
  continuous codes. The entropies are constants: only the cross-entropies have gradients.

λ is ``info_reg_coeff`` = 1.0 for both kinds of code (``run_mnist_exp.py``; ``--train-config
lambda_categorical=...`` / ``lambda_continuous=...`` weight them apart). Variables are split by
scope: ``d_vars`` (``d_net``: the shared body, the D head *and Q*) go to Adam(2e-4, beta1 0.5),
``g_vars`` to Adam(1e-3, beta1 0.5) (TF's beta2 0.999, epsilon 1e-8). So Q is trained by the
discriminator's optimiser on the D loss's MI term, and the generator by its own MI term. Batch
128; the reference trains 50 epochs of 100 updates (5,000).

One deviation, which changes no training computation: D's BatchNorm running averages (used only
in eval mode) follow the real batches only (``bn_stats_from_real``, default true). In train mode
every pass normalises with its own batch statistics, as the reference; but the reference's EMA
also averages the statistics of the fake batches (two of every three passes), and Q in eval mode
then classifies real digits with statistics of a mixture (a 150-step run: code-accuracy 0.18 with
those averages, 0.43 with real-only ones, 0.42 with the test batch's own statistics).
``--train-config bn_stats_from_real=false`` keeps the reference's EMA over all passes. Under
``torchrun`` BatchNorm statistics are each process's shard's (as zoo-dcgan).

One ``zoo train`` step = the D update (G's forward without gradient, BatchNorm in train mode on
the real batch and on the fake batch, as the reference's two ``discriminate`` calls) and the G
update on a fresh ``z``. Logged every step, as the reference's ``log_vars`` (the D run's values):
``loss_D``, ``loss_G`` (of the G update), ``MI_disc``, ``CrossEnt_disc``, ``MI_cont``,
``CrossEnt_cont``, ``MI``, ``CrossEnt``, ``D_real`` and ``D_fake`` (mean D(x), mean D(G(z))).

Final metrics on mnist5k's test split, when the training set is of handwritten digits
(``zoo_core.training.trains_on_digits``): ``code-accuracy`` (Q's categorical code as a classifier,
matched to the labels; the paper reports about 0.95 on MNIST) and ``fid-mnist``.

Example:
    $ zoo train infogan --dataset mnist5k --out runs/infogan-mnist --steps 1800 --name infogan.mnist
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from zoo_core import ZooError
from zoo_core.training import StepParams, TrainingStep, trains_on_digits

from .model import InfoGAN, split_q

__all__ = ["TINY", "InfoGANParams", "InfoGANTrainingStep", "frozen_running_stats", "infogan_losses"]

#: the reference's ``TINY`` inside every log
TINY = 1e-8


@contextlib.contextmanager
def frozen_running_stats(module: nn.Module) -> Iterator[None]:
    """Forward passes in train mode that use their batch statistics (as always) but leave the BatchNorm running
    averages of ``module`` as they are (momentum 0 for the block).

    Example:
        >>> with frozen_running_stats(model.discriminator):
        ...     model.discriminator(fake)  # normalised by the fake batch, running averages untouched
    """
    norms = [m for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    saved = [m.momentum for m in norms]
    for m in norms:
        m.momentum = 0.0
    try:
        yield
    finally:
        for m, momentum in zip(norms, saved, strict=True):
            m.momentum = momentum


@dataclass
class InfoGANParams(StepParams):
    """The reference's hyper-parameters (``run_mnist_exp.py``), e.g. ``--train-config lr_g=1e-3``."""

    lr_d: float = 2e-4
    lr_g: float = 1e-3
    beta1: float = 0.5
    beta2: float = 0.999
    lambda_categorical: float = 1.0
    lambda_continuous: float = 1.0
    bn_stats_from_real: bool = True


def infogan_losses(
    real_logit: torch.Tensor | None,
    fake_logit: torch.Tensor,
    q_flat: torch.Tensor,
    category: torch.Tensor,
    continuous: torch.Tensor,
    *,
    categories: int,
    fix_std: bool = True,
    lambda_categorical: float = 1.0,
    lambda_continuous: float = 1.0,
) -> dict[str, torch.Tensor]:
    """The reference's losses (``init_opt``) from D's logits and Q's flat output on the fakes of codes
    (``category`` ``(N,)``, ``continuous`` ``(N, K)``): ``loss_D`` (needs ``real_logit``), ``loss_G`` and the MI
    terms, all 0-d tensors.

    Example:
        >>> out = infogan_losses(torch.zeros(2), torch.zeros(2), torch.zeros(2, 14), torch.tensor([0, 1]),
        ...                      torch.zeros(2, 2), categories=10)
        >>> round(float(out["MI_disc"]), 6)  # Q uniform over 10 categories: no information
        0.0
    """
    fake_d = torch.sigmoid(fake_logit)
    onehot = F.one_hot(category.long(), categories).to(q_flat.dtype)
    q = split_q(q_flat, categories, continuous.shape[1], fix_std)
    log_q_c = (torch.log(torch.softmax(q["logits"], 1) + TINY) * onehot).sum(1)
    cross_ent_disc = (-log_q_c).mean()
    ent_disc = -math.log(1.0 / categories + TINY)  # -logli_prior: the uniform prior's log-probability
    mi_disc = ent_disc - cross_ent_disc
    half_log_2pi = 0.5 * math.log(2 * math.pi)
    eps = (continuous - q["mean"]) / (q["std"] + TINY)
    log_q_cont = (-half_log_2pi - torch.log(q["std"] + TINY) - 0.5 * eps.square()).sum(1)
    cross_ent_cont = (-log_q_cont).mean()
    prior = continuous / (1.0 + TINY)  # logli_prior: N(0, 1), the Gaussian that Uniform inherits
    ent_cont = (half_log_2pi + math.log(1.0 + TINY) + 0.5 * prior.square()).sum(1).mean()
    mi_cont = ent_cont - cross_ent_cont
    info = lambda_categorical * mi_disc + lambda_continuous * mi_cont
    out = {
        "loss_G": -torch.log(fake_d + TINY).mean() - info,
        "MI_disc": mi_disc,
        "CrossEnt_disc": cross_ent_disc,
        "MI_cont": mi_cont,
        "CrossEnt_cont": cross_ent_cont,
        "MI": mi_disc + mi_cont,
        "CrossEnt": cross_ent_disc + cross_ent_cont,
        "D_fake": fake_d.mean(),
    }
    if real_logit is not None:
        real_d = torch.sigmoid(real_logit)
        out["loss_D"] = -(torch.log(real_d + TINY) + torch.log(1.0 - fake_d + TINY)).mean() - info
        out["D_real"] = real_d.mean()
    return out


class InfoGANTrainingStep(TrainingStep):
    """D (with Q) then G updates with the reference's losses and optimisers.

    Example:
        >>> zoo_core.training.train("infogan", "mnist5k", "runs/infogan", steps=1800)
    """

    params_class = InfoGANParams
    default_batch_size = 128
    default_epochs = 142  # the reference's 5,000 updates of 128: 142 epochs of mnist5k's 4,500 training digits
    eval_metrics: tuple[str, ...] = ("code-accuracy", "fid-mnist")
    eval_dataset = "mnist5k"
    eval_split = "test"
    dataset_kinds = ("images", "labelled")
    paper: dict[str, Any] = {  # noqa: RUF012 (read-only class data)
        "title": "InfoGAN: Interpretable Representation Learning by Information Maximizing Generative Adversarial Nets",
        "authors": "Xi Chen, Yan Duan, Rein Houthooft, John Schulman, Ilya Sutskever, Pieter Abbeel",
        "year": 2016,
        "url": "https://arxiv.org/abs/1606.03657",
        "reference_code": "https://github.com/openai/InfoGAN/blob/master/infogan/algos/infogan_trainer.py",
    }
    license = "mit"
    tags = ("gan", "infogan")
    recipe = (
        "BCE D loss and non-saturating G loss minus the MI lower bound (λ 1, categorical cross-entropy + "
        "Gaussian log-likelihood of the continuous codes, Q trained with D); Adam D 2e-4, G 1e-3, beta1 0.5, "
        "as openai/InfoGAN"
    )

    def __init__(self, model: InfoGAN, train_config: Any, world_size: int = 1) -> None:
        super().__init__(model, train_config, world_size)
        p = self.params
        if min(p.lr_d, p.lr_g) <= 0 or not (0 <= p.beta1 < 1 and 0 <= p.beta2 < 1):
            raise ZooError("InfoGAN needs positive learning rates (lr_d, lr_g) and beta1, beta2 in [0, 1).")
        if not trains_on_digits(train_config):
            self.eval_metrics = ()  # digit labels and a digit classifier say nothing about faces or photos

    def check_dataset(self, dataset: Any) -> None:
        """The engine's checks, with the resize an InfoGAN of another size can take."""
        self.check_square_size(dataset, self.model.config.image_size)
        super().check_dataset(dataset)

    def networks(self) -> dict[str, nn.Module]:
        return {"g": self.model.generator, "d": self.model.discriminator}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        p, betas = self.params, (self.params.beta1, self.params.beta2)
        return {  # Q's parameters are in d_net: d_vars, the discriminator's optimiser
            "d": torch.optim.Adam(self.model.discriminator.parameters(), lr=p.lr_d, betas=betas, eps=1e-8),
            "g": torch.optim.Adam(self.model.generator.parameters(), lr=p.lr_g, betas=betas, eps=1e-8),
        }

    def draw(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """A prior draw for this process's rows of the global batch: (z, category, continuous) on the device."""
        model = self.model
        # the whole global batch from the global CPU generator, then this process's rows (as global_randn)
        codes = model.draw_codes(self.global_batch_size, torch.default_generator)
        if self.world_size > 1:
            codes = {k: v[self.batch_slice] for k, v in codes.items()}
        z = model.latent(codes["noise"], codes["category"], codes["continuous"])
        return z, codes["category"].to(self.device), codes["continuous"].to(self.device)

    def _losses(self, real_logit: Any, fake_logit: Any, q_flat: Any, category: Any, cont: Any) -> dict[str, Any]:
        c, p = self.model.config, self.params
        return infogan_losses(
            None if real_logit is None else real_logit.float(), fake_logit.float(), q_flat.float(), category,
            cont.float(), categories=c.categories, fix_std=c.fix_std,
            lambda_categorical=p.lambda_categorical, lambda_continuous=p.lambda_continuous,
        )  # fmt: skip

    def fake_pass(self) -> contextlib.AbstractContextManager[Any]:
        """Where D sees fakes: with ``bn_stats_from_real``, D's BatchNorm running averages are left alone."""
        if self.params.bn_stats_from_real:
            return frozen_running_stats(self.model.discriminator)
        return contextlib.nullcontext()

    def train_step(self, batch: dict[str, Any], step: int) -> dict[str, torch.Tensor]:
        net_g, net_d = self.nets["g"], self.nets["d"]
        opt_g, opt_d = self.opts["g"], self.opts["d"]
        real = batch["image"]  # [0, 1]: the reference's MNIST floats

        # (1) the discriminator trainer: d_vars (the body, the D head and Q) on discriminator_loss
        z, category, cont = self.draw()
        with torch.no_grad(), self.autocast():
            fake = torch.sigmoid(net_g(z))  # MeanBernoulli: the image is p
        opt_d.zero_grad()
        with self.autocast():
            real_logit, _ = net_d(real)
            with self.fake_pass():
                fake_logit, q_flat = net_d(fake)
        logged = self._losses(real_logit, fake_logit, q_flat, category, cont)
        self.global_loss(logged["loss_D"], "mean").backward()
        opt_d.step()

        # (2) the generator trainer: g_vars on generator_loss, a fresh z
        z, category, cont = self.draw()
        self.model.discriminator.requires_grad_(False)
        try:
            opt_g.zero_grad()
            with self.autocast():
                fake = torch.sigmoid(net_g(z))
                with self.fake_pass():
                    fake_logit, q_flat = net_d(fake)
            loss_g = self._losses(None, fake_logit, q_flat, category, cont)["loss_G"]
            self.global_loss(loss_g, "mean").backward()
            opt_g.step()
        finally:
            self.model.discriminator.requires_grad_(True)
        logged = {k: v.detach() for k, v in logged.items()}
        logged["loss_G"] = loss_g.detach()
        order = ("loss_D", "loss_G", "MI_disc", "CrossEnt_disc", "MI_cont", "CrossEnt_cont", "MI", "CrossEnt")
        return {k: logged[k] for k in (*order, "D_real", "D_fake")}
