"""StarGAN's training step for ``zoo train``: ``Solver.train`` of yunjey/stargan ``solver.py`` (CelebA mode).

One ``zoo train`` step is one batch and one discriminator iteration, as one iteration ``i`` of the
reference; the generator updates after every ``n_critic``-th (``(i+1) % n_critic == 0``). Per batch of
images ``x`` (mapped from [0, 1] to [-1, 1]) and their binary attributes ``label_org``:

1. Target labels: ``label_trg = label_org[randperm(B)]`` (another image's attributes, from the global
   generator, which checkpoints save); multi-label, so ``c_org = label_org`` and ``c_trg = label_trg``.
2. Discriminator: ``d_loss = -mean D_src(x) + mean D_src(G(x, c_trg)) + lambda_cls * cls(D_cls(x),
   label_org) + lambda_gp * gp``, one Adam step; ``cls`` is the reference's
   ``binary_cross_entropy_with_logits(logit, target, size_average=False) / B`` (summed over attributes,
   averaged over images) and ``gp`` zoo_core's ``gradient_penalty`` (the reference's
   ``gradient_penalty``: ``mean (||grad D_src(x_hat)||_2 - 1)^2`` at ``x_hat = alpha x + (1 - alpha)
   G(x, c_trg)``, one uniform ``alpha`` per image; zoo_core adds 1e-16 before the norm).
3. Generator, when due: ``g_loss = -mean D_src(G(x, c_trg)) + lambda_rec * mean |x - G(G(x, c_trg),
   c_org)| + lambda_cls * cls(D_cls(G(x, c_trg)), label_trg)``, one Adam step. D's parameters are frozen
   for it (the reference zeroes D's gradients before D's next update instead: the same updates).

Adam ``g_lr = d_lr = 1e-4``, betas (0.5, 0.999); lambda_cls 1, lambda_rec 10, lambda_gp 10, n_critic 5,
batch 16, ``num_iters`` 200,000. The learning rates decay as the reference's loop does: after
iteration ``i`` (counted from 1) with ``i % lr_update_step == 0`` and ``i > num_iters - num_iters_decay``,
each rate loses ``lr / num_iters_decay``. With the defaults (updates every 1,000 iterations over the last
100,000) that is 100 decrements of 1e-9: the rates end at 0.99 of their start, not at 0; this is the
reference's arithmetic, kept as it is (``--train-config lr_update_step=1`` gives a linear decay to 0).
The step sets the rates in the optimisers' parameter groups as the reference's ``update_lr`` does (so they are
saved in, and resumed from, the optimisers' state); ``StarGANDecay`` is the same rule as a factor of the step.

Logged with the reference's names (``/`` written ``_``): ``D_loss_real``, ``D_loss_fake``, ``D_loss_cls``,
``D_loss_gp`` on every step; ``G_loss_fake``, ``G_loss_rec``, ``G_loss_cls`` on the steps where the
generator updates (the reference's ``loss`` dict holds them only then).

Example:
    $ zoo train stargan --dataset mnist5k-attributes --dataset-option size=32 --out runs/stargan \\
          --config image_size=32 --config channels=1 --config c_dim=3 \\
          --config 'attributes=["thick", "right_slant", "wide"]' --config 'exclusive=[]' --config d_repeat_num=5
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from zoo_core import ZooError
from zoo_core.layers.gan_losses import gradient_penalty
from zoo_core.training import InputSpec, StepParams, TrainingStep
from zoo_core.training.critic import CriticSchedule

from .model import StarGAN

__all__ = ["G_LOSSES", "StarGANDecay", "StarGANParams", "StarGANTrainingStep", "classification_loss"]

#: the generator's logged losses
G_LOSSES = ("G_loss_fake", "G_loss_rec", "G_loss_cls")


@dataclass
class StarGANParams(StepParams):
    """The reference's training options (``main.py``), e.g. ``--train-config lambda_rec=10``."""

    g_lr: float = 1e-4
    d_lr: float = 1e-4
    beta1: float = 0.5
    beta2: float = 0.999
    lambda_cls: float = 1.0
    lambda_rec: float = 10.0
    lambda_gp: float = 10.0
    n_critic: int = 5
    num_iters: int = 200_000
    num_iters_decay: int = 100_000
    lr_update_step: int = 1_000


@dataclass
class StarGANDecay:
    """The learning-rate factor after ``step`` iterations, as the reference's loop decays it (module docstring).

    Example:
        >>> rule = StarGANDecay(num_iters=10, num_iters_decay=4, lr_update_step=2)
        >>> [rule(i) for i in (0, 6, 7, 8, 10)]
        [1.0, 1.0, 1.0, 0.75, 0.5]
    """

    num_iters: int = 200_000
    num_iters_decay: int = 100_000
    lr_update_step: int = 1_000

    def __call__(self, step: int) -> float:
        if self.num_iters_decay <= 0:
            return 1.0
        u = self.lr_update_step
        start = self.num_iters - self.num_iters_decay  # decrements at multiples of u above start, up to step
        decrements = max(0, step // u - max(0, start) // u)
        return 1.0 - decrements / float(self.num_iters_decay)


def classification_loss(logit: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The reference's CelebA ``classification_loss``: BCE with logits summed over attributes, mean over images.

    Example:
        >>> round(float(classification_loss(torch.zeros(2, 5), torch.ones(2, 5))), 4)  # 5 * ln 2
        3.4657
    """
    return F.binary_cross_entropy_with_logits(logit, target, reduction="sum") / logit.size(0)


class StarGANTrainingStep(TrainingStep):
    """D every step, G every ``n_critic`` steps, as the reference's ``Solver.train`` (see the module docstring).

    Example:
        >>> zoo_core.training.train("stargan", "mnist5k-attributes", "runs/stargan", steps=100, config={...})
    """

    params_class = StarGANParams
    default_batch_size = 16
    default_epochs = 1
    dataset_kinds = ("attributed",)
    eval_metrics: tuple[str | dict[str, Any], ...] = ()
    paper: dict[str, Any] = {  # noqa: RUF012 (read-only class data)
        "title": "StarGAN: Unified Generative Adversarial Networks for Multi-Domain Image-to-Image Translation",
        "authors": "Yunjey Choi, Minje Choi, Munyoung Kim, Jung-Woo Ha, Sunghun Kim, Jaegul Choo",
        "year": 2018,
        "url": "https://arxiv.org/abs/1711.09020",
        "reference_code": "https://github.com/yunjey/stargan",
    }
    license = "mit"
    tags = ("gan", "stargan")

    def __init__(self, model: StarGAN, train_config: Any, world_size: int = 1) -> None:
        super().__init__(model, train_config, world_size)
        p = self.params
        if model.D is None:
            raise ZooError(
                "This StarGAN holds no discriminator (a converted generator) and cannot be trained; "
                "train one with with_discriminator=true."
            )
        if p.n_critic < 1:
            raise ZooError("n_critic must be at least 1 discriminator iteration per generator update.")
        if p.lr_update_step < 1:
            raise ZooError("lr_update_step must be at least 1 iteration.")
        self.schedule = CriticSchedule(p.n_critic, warmup_generator_iters=0, warmup_every=0)
        self.recipe = (
            f"WGAN-GP (lambda_gp {p.lambda_gp:g}), domain classification BCE x {p.lambda_cls:g}, reconstruction L1 x "
            f"{p.lambda_rec:g}; {p.n_critic} D iterations per G update; Adam G {p.g_lr:g} / D {p.d_lr:g}, betas "
            f"({p.beta1:g}, {p.beta2:g}); the reference's decay over the last {p.num_iters_decay} of {p.num_iters} "
            f"iterations every {p.lr_update_step}; as yunjey/stargan solver.py"
        )
        if str(train_config.dataset).partition(":")[0] == "mnist5k-attributes":
            size = model.config.image_size
            options = {"size": size} if size != 28 else {}
            self.eval_metrics = tuple(
                {"name": name, "dataset": "mnist5k-attributes", "split": "test", "dataset_options": options,
                 "evaluation": "attribute-flips", **({"metric": metric} if metric != name else {})}
                for name, metric in (("attribute-agreement", "attribute-agreement"),
                                     ("attribute-agreement-flipped", "attribute-agreement"), ("cycle-l1", "cycle-l1"))
            )  # fmt: skip

    # -- the data -----------------------------------------------------------------------------
    def input_spec(self) -> InputSpec:
        c = self.model.config
        return InputSpec(c.channels, (c.image_size, c.image_size), tuple(self.dataset_kinds))

    def check_dataset(self, dataset: Any) -> None:
        """The engine's checks (attributed data, channels, size), and the attribute names against the config's.

        Example:
            >>> step.check_dataset(load_dataset("mnist5k-attributes", size=32))  # a CelebA-configured model
            ZooError: The dataset 'mnist5k-attributes' labels thick, right_slant, wide but this StarGAN's ...
        """
        super().check_dataset(dataset)
        names = tuple(getattr(dataset, "attributes", ()) or ())
        if names and names != self.model.attributes:
            name = getattr(dataset, "name", "") or type(dataset).__name__
            raise ZooError(
                f"The dataset {name!r} labels {', '.join(names)} but this StarGAN's attributes are "
                f"{', '.join(self.model.attributes)}; pass --config c_dim={len(names)} --config "
                f"'attributes={json.dumps(list(names))}' --config 'exclusive=[]'."
            )

    # -- the recipe ---------------------------------------------------------------------------
    def networks(self) -> dict[str, nn.Module]:
        return {"G": self.model.G, "D": self.model.D}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        m, p = self.model, self.params
        betas = (p.beta1, p.beta2)
        return {
            "G": torch.optim.Adam(m.G.parameters(), lr=p.g_lr, betas=betas),
            "D": torch.optim.Adam(m.D.parameters(), lr=p.d_lr, betas=betas),
        }

    def train_step(self, batch: dict[str, Any], step: int) -> dict[str, torch.Tensor]:
        if "attributes" not in batch:
            raise ZooError("StarGAN trains on images with binary attributes (a batch with 'attributes').")
        net_g, net_d = self.nets["G"], self.nets["D"]
        opt_g, opt_d = self.opts["G"], self.opts["D"]
        p = self.params
        x_real = batch["image"] * 2 - 1
        label_org = batch["attributes"].to(x_real.device, torch.float32)
        label_trg = label_org[torch.randperm(label_org.size(0))]
        c_org, c_trg = label_org, label_trg

        # (2) the discriminator
        with self.autocast():
            out_src, out_cls = net_d(x_real)
        d_loss_real = -out_src.float().mean()
        d_loss_cls = classification_loss(out_cls.float(), label_org)
        with torch.no_grad(), self.autocast():
            x_fake = net_g(x_real, c_trg).float()
        with self.autocast():
            out_src, _ = net_d(x_fake)
        d_loss_fake = out_src.float().mean()
        d_loss_gp, _ = gradient_penalty(lambda x: net_d(x)[0], x_real, x_fake, "mixed", 1.0, 1.0)
        d_loss = d_loss_real + d_loss_fake + p.lambda_cls * d_loss_cls + p.lambda_gp * d_loss_gp
        opt_d.zero_grad()
        self.global_loss(d_loss, "mean").backward()
        opt_d.step()
        logged = {
            "D_loss_real": d_loss_real.detach(),
            "D_loss_fake": d_loss_fake.detach(),
            "D_loss_cls": d_loss_cls.detach(),
            "D_loss_gp": d_loss_gp.detach(),
        }

        # (3) the generator, after every n_critic discriminator iterations
        if self.schedule.critic_step_done():
            raw_d = self.model.D
            raw_d.requires_grad_(False)
            try:
                with self.autocast():
                    x_fake = net_g(x_real, c_trg)
                    out_src, out_cls = raw_d(x_fake)
                    x_reconst = net_g(x_fake, c_org)
                g_loss_fake = -out_src.float().mean()
                g_loss_cls = classification_loss(out_cls.float(), label_trg)
                g_loss_rec = (x_real - x_reconst.float()).abs().mean()
                g_loss = g_loss_fake + p.lambda_rec * g_loss_rec + p.lambda_cls * g_loss_cls
                opt_g.zero_grad()
                self.global_loss(g_loss, "mean").backward()
                opt_g.step()
            finally:
                raw_d.requires_grad_(True)
            logged.update(zip(G_LOSSES, (g_loss_fake.detach(), g_loss_rec.detach(), g_loss_cls.detach()), strict=True))

        # (4) the reference's decay, after iteration step + 1: its update_lr, in its float arithmetic
        done = step + 1
        if done % p.lr_update_step == 0 and done > p.num_iters - p.num_iters_decay and p.num_iters_decay > 0:
            for opt, lr in ((opt_g, p.g_lr), (opt_d, p.d_lr)):
                for group in opt.param_groups:
                    group["lr"] -= lr / float(p.num_iters_decay)
        return logged

    def samples(self, n: int, seed: int) -> torch.Tensor | None:
        """Rows of 8 held-out images (test split, else training images): the images, then each with one attribute
        flipped in turn, as the reference's sample grid (``create_labels``: hair colours set, others reversed)."""
        from zoo_core.data import load_dataset

        cfg = self.train_config
        try:
            data = load_dataset(cfg.dataset, split="test", **(cfg.dataset_options or {}))
        except Exception:  # no test split
            data = load_dataset(cfg.dataset, split=cfg.split, **(cfg.dataset_options or {}))
        k = min(8, len(data))
        items = [data[i] for i in torch.linspace(0, len(data) - 1, k).round().long().tolist()]
        x = torch.stack([item["image"] for item in items])
        labels = torch.stack([item["attributes"] for item in items]).float()
        rows = [x]
        names = self.model.attributes
        for i in range(self.model.config.c_dim):
            target = labels.clone()
            group = next((g for g in self.model.config.exclusive if names[i] in g), None)
            if group is None:
                target[:, i] = 1 - target[:, i]
            else:  # a hair colour: set it, the others of its group off
                target[:, [names.index(name) for name in group]] = 0.0
                target[:, i] = 1.0
            rows.append(self.model.translate(x, attributes=target).cpu())
        return torch.cat(rows)[:n] if n < sum(len(r) for r in rows) else torch.cat(rows)

    # -- resume -------------------------------------------------------------------------------
    def extra_state(self) -> dict[str, Any]:
        return dict(self.schedule.state())

    def load_extra_state(self, state: dict[str, Any]) -> None:
        self.schedule.load_state(state)
