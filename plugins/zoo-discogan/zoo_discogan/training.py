"""DiscoGAN's training step for ``zoo train``: the loop of SKTBrain/DiscoGAN ``discogan/image_translation.py``.

Per batch of unpaired images (``{"image": A, "target": B}`` in [0, 1], padded with black to
``image_size`` when smaller, e.g. 28x28 digits to 32x32), with ``iters`` the global step:

1. Forward, every step: ``AB = generator_B(A)``, ``BA = generator_A(B)``, ``ABA = generator_A(AB)``,
   ``BAB = generator_B(BA)``; ``discriminator_A`` on ``A`` and on ``BA``, ``discriminator_B`` on ``B``
   and on ``AB`` (four separate calls: BatchNorm sees each batch alone, as in the reference).
2. Losses (``discogan_losses``): ``recon_A = MSE(ABA, A)``, ``recon_B = MSE(BAB, B)``;
   ``dis_A = 0.5 BCE(D_A(A), 1) + 0.5 BCE(D_A(BA), 0)``, ``gen_A = BCE(D_A(BA), 1)`` (``_B`` alike);
   ``fm_A = sum over the feature maps of mean((mean_batch(real) - mean_batch(fake))**2)`` (the
   reference's ``HingeEmbeddingLoss`` against ones is the plain mean of its non-negative input);
   ``rate = starting_rate`` while ``iters < gan_curriculum``, then ``default_rate``;
   ``gen_A_total = (gen_B * 0.1 + fm_B * 0.9) * (1 - rate) + recon_A * rate``,
   ``gen_B_total = (gen_A * 0.1 + fm_A * 0.9) * (1 - rate) + recon_B * rate``;
   ``gen = gen_A_total + gen_B_total``, ``dis = dis_A + dis_B``.
3. One update per step, as the reference's ``update_interval``: when ``iters % update_interval == 0``
   the discriminators take an Adam step on ``dis``, otherwise the generators on ``gen`` (so with the
   default 3, one D step for two G steps). ``update_interval=0`` updates both every step, D then G on
   fresh forward passes, as carpedm20/DiscoGAN-pytorch's ``trainer.py`` orders them.

Settings: the reference's defaults, every one a ``--train-config`` key: Adam lr 2e-4, betas
(0.5, 0.999), weight decay 1e-5 for both optimisers; ``gan_curriculum`` 10000, ``starting_rate``
0.01, ``default_rate`` 0.5, ``update_interval`` 3; batch 64; the 0.1 / 0.9 weights of the GAN and
feature-matching terms are ``gan_weight`` / ``fm_weight``. Logged: ``dis_A``, ``dis_B``,
``gen_A``, ``gen_B``, ``fm_A``, ``fm_B``, ``recon_A``, ``recon_B`` and ``rate``.

Faithful in outcome, not in wasted work: at a D step the generators run under ``no_grad`` (the
reference backpropagates ``dis`` into them too and throws those gradients away), and at a G step
the discriminators' ``requires_grad`` is off (the reference's D gradients of that step are zeroed
before they are used). Both networks stay in train mode throughout, as in the reference, so every
forward pass updates the BatchNorm running statistics. BCE is ``zoo_core.layers.GANLoss("vanilla")``
on the logit (``BCEWithLogits``), equal to the reference's ``BCELoss`` on the sigmoid except where the
latter clamps ``log`` at -100. Data order: the engine's (``digits-mnist`` pairs each A with a
random B) instead of the reference's two shuffled lists cut to the shorter one. Under ``torchrun``
the feature-matching means are over each process's shard (one process is the reference).

Final metrics of a ``digits-mnist`` run (``digits_mnist_evaluation``): the same four records as
``cyclegan.digits2mnist`` (cycle-L1 both ways, FID-MNIST of the translations and the digits they
keep), so the two models' cards compare line for line; cycle-L1 goes through
``discogan-round-trip`` (zoo-cyclegan's ``round-trip`` feeds CycleGANs only), the others through
zoo-cyclegan's ``digits-mnist-translations``.

Example:
    $ zoo train discogan --dataset digits-mnist --out runs/discogan-digits2mnist \\
          --config input_nc=1 --config output_nc=1 --config image_size=32 --steps 600 --seed 1
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from zoo_cyclegan.training import digits_mnist_evaluation as cyclegan_digits_mnist_evaluation

from zoo_core import ZooError
from zoo_core.layers import GANLoss
from zoo_core.training import InputSpec, StepParams, TrainingStep
from zoo_core.training.previews import TranslationPreview

from .model import DiscoDiscriminator, DiscoGAN, pad_to

__all__ = [
    "LOSS_NAMES",
    "DiscoGANParams",
    "DiscoGANTrainingStep",
    "DiscriminatorLogits",
    "digits_mnist_evaluation",
    "discogan_losses",
    "feature_matching_loss",
    "rate_at",
]

#: what each step logs (the reference prints the same eight losses)
LOSS_NAMES = ("dis_A", "dis_B", "gen_A", "gen_B", "fm_A", "fm_B", "recon_A", "recon_B")


@dataclass
class DiscoGANParams(StepParams):
    """The reference's training options (``--train-config gan_curriculum=2000 ...``)."""

    lr: float = 2e-4  # the reference's --learning_rate
    beta1: float = 0.5
    beta2: float = 0.999
    weight_decay: float = 1e-5
    gan_curriculum: int = 10000  # the reference's option names from here on
    starting_rate: float = 0.01
    default_rate: float = 0.5
    update_interval: int = 3  # 0: a D step then a G step every step (carpedm20/DiscoGAN-pytorch's trainer)
    gan_weight: float = 0.1  # fixed in the reference's script: (gen * 0.1 + fm * 0.9)
    fm_weight: float = 0.9


def rate_at(step: int, params: DiscoGANParams) -> float:
    """The weight of reconstruction at ``step``: ``starting_rate`` for ``gan_curriculum`` steps, then ``default_rate``.

    Example:
        >>> rate_at(9999, DiscoGANParams()), rate_at(10000, DiscoGANParams())
        (0.01, 0.5)
    """
    return params.starting_rate if step < params.gan_curriculum else params.default_rate


def feature_matching_loss(real_feats: list[torch.Tensor], fake_feats: list[torch.Tensor]) -> torch.Tensor:
    """The reference's ``get_fm_loss``: sum over layers of ``mean((real.mean(0) - fake.mean(0)) ** 2)``.

    Example:
        >>> float(feature_matching_loss([torch.ones(2, 1, 1, 1)], [torch.zeros(2, 1, 1, 1)]))
        1.0
    """
    total = real_feats[0].new_zeros(()) if real_feats else torch.zeros(())
    for real, fake in zip(real_feats, fake_feats, strict=True):
        total = total + ((real.float().mean(0) - fake.float().mean(0)) ** 2).mean()
    return total


def discogan_losses(
    real_a: torch.Tensor,
    real_b: torch.Tensor,
    ab: torch.Tensor,
    ba: torch.Tensor,
    aba: torch.Tensor,
    bab: torch.Tensor,
    d_a: nn.Module,
    d_b: nn.Module,
    rate: float,
    params: DiscoGANParams,
) -> dict[str, torch.Tensor]:
    """Every loss of one reference iteration (see the module docstring); ``gen`` and ``dis`` are the totals.

    ``d_a`` / ``d_b`` are ``DiscoDiscriminator`` s (called through ``logits_and_features``).

    Example:
        >>> losses = discogan_losses(a, b, ab, ba, aba, bab, model.discriminator_A, model.discriminator_B, 0.01,
        ...                          DiscoGANParams())
        >>> sorted(losses)[:3]
        ['dis', 'dis_A', 'dis_B']
    """
    bce = GANLoss("vanilla").to(real_a.device)
    mse = nn.MSELoss()
    recon_a = mse(aba.float(), real_a)
    recon_b = mse(bab.float(), real_b)
    logit_real_a, feats_real_a = _logits(d_a, real_a)
    logit_fake_a, feats_fake_a = _logits(d_a, ba)
    logit_real_b, feats_real_b = _logits(d_b, real_b)
    logit_fake_b, feats_fake_b = _logits(d_b, ab)
    dis_a = bce(logit_real_a, True) * 0.5 + bce(logit_fake_a, False) * 0.5
    dis_b = bce(logit_real_b, True) * 0.5 + bce(logit_fake_b, False) * 0.5
    gen_a = bce(logit_fake_a, True)
    gen_b = bce(logit_fake_b, True)
    fm_a = feature_matching_loss(feats_real_a, feats_fake_a)
    fm_b = feature_matching_loss(feats_real_b, feats_fake_b)
    gw, fw = params.gan_weight, params.fm_weight
    gen_a_total = (gen_b * gw + fm_b * fw) * (1.0 - rate) + recon_a * rate
    gen_b_total = (gen_a * gw + fm_a * fw) * (1.0 - rate) + recon_b * rate
    return {
        "dis_A": dis_a, "dis_B": dis_b, "gen_A": gen_a, "gen_B": gen_b, "fm_A": fm_a, "fm_B": fm_b,
        "recon_A": recon_a, "recon_B": recon_b, "gen": gen_a_total + gen_b_total, "dis": dis_a + dis_b,
    }  # fmt: skip


def _logits(net: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """A discriminator's logits (flattened, float32) and features; ``net`` is one or a ``DiscriminatorLogits``."""
    logits, feats = net.logits_and_features(x) if isinstance(net, DiscoDiscriminator) else net(x)
    return logits.float().flatten(), feats


class DiscriminatorLogits(nn.Module):
    """What the engine wraps for a D step: ``forward`` is the discriminator's ``logits_and_features`` (no sigmoid).

    Example:
        >>> logits, feats = DiscriminatorLogits(model.discriminator_A)(images)
    """

    def __init__(self, net: DiscoDiscriminator) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        return self.net.logits_and_features(x)


def digits_mnist_evaluation(size: int, dataset_options: dict[str, Any]) -> tuple[dict[str, Any], ...]:
    """The final metrics of a ``digits-mnist`` run: cyclegan.digits2mnist's four records, on 28x28 digits, the
    round trips through ``discogan-round-trip``.

    ``size`` is the digits' size (``--dataset-option size``, 28 unless given), not the padded
    ``image_size`` of the networks.

    Example:
        >>> [m["name"] for m in digits_mnist_evaluation(28, {})]
        ['cycle-l1', 'cycle-l1', 'fid-mnist', 'digit-preserved']
    """
    return cyclegan_digits_mnist_evaluation(size, dataset_options, round_trip="discogan-round-trip")


class DiscoGANTrainingStep(TranslationPreview, TrainingStep):
    """One reference iteration per step: all forward passes, then a D or a G update (see the module docstring).

    Example:
        >>> zoo_core.training.train("discogan", "digits-mnist", "runs/dg", steps=100,
        ...     config={"input_nc": 1, "output_nc": 1, "image_size": 32, "ngf": 8, "ndf": 8})
    """

    params_class = DiscoGANParams
    default_batch_size = 64
    default_epochs = 5000  # the reference's --epoch_size
    eval_metrics: tuple[str | dict[str, Any], ...] = ()
    dataset_kinds = ("unpaired",)
    paper: dict[str, Any] = {  # noqa: RUF012 (read-only class data)
        "title": "Learning to Discover Cross-Domain Relations with Generative Adversarial Networks",
        "authors": "Taeksoo Kim, Moonsu Cha, Hyunsoo Kim, Jung Kwon Lee, Jiwon Kim",
        "year": 2017,
        "url": "https://arxiv.org/abs/1703.05192",
        "reference_code": "https://github.com/SKTBrain/DiscoGAN",
    }
    license = "mit"
    tags = ("gan",)

    def __init__(self, model: DiscoGAN, train_config: Any, world_size: int = 1) -> None:
        super().__init__(model, train_config, world_size)
        p = self.params
        if p.update_interval == 1:
            raise ZooError(
                "update_interval=1 would update the discriminators only; use 3 (the reference), 2, or 0 "
                "(a D step then a G step every step)."
            )
        for key in ("starting_rate", "default_rate"):
            if not 0.0 <= getattr(p, key) <= 1.0:
                raise ZooError(f"{key} weighs reconstruction against the GAN terms and must be in [0, 1].")
        self.recipe = (
            f"D: BCE (real + fake) / 2; G: (BCE x {p.gan_weight:g} + feature matching x {p.fm_weight:g}) x "
            f"(1 - rate) + reconstruction MSE x rate, rate {p.starting_rate:g} for {p.gan_curriculum} steps then "
            f"{p.default_rate:g}; one D step every {p.update_interval} steps, G steps between; Adam {p.lr:g}, "
            f"betas ({p.beta1:g}, {p.beta2:g}), weight decay {p.weight_decay:g}; as SKTBrain/DiscoGAN"
        )
        if str(train_config.dataset).partition(":")[0] == "digits-mnist":
            options = train_config.dataset_options or {}
            self.eval_metrics = digits_mnist_evaluation(int(options.get("size", 28)), options)

    # -- the data -----------------------------------------------------------------------------
    def input_spec(self) -> InputSpec:
        size = self.model.config.image_size
        return InputSpec(None, (size, size), tuple(self.dataset_kinds))

    def check_dataset(self, dataset: Any) -> None:
        """Unpaired data, channels of both domains, and images no larger than ``image_size`` (smaller ones are padded).

        Example:
            >>> step.check_dataset(load_dataset("digits-mnist"))  # 28x28 digits for image_size=32: padded
        """
        c = self.model.config
        name = getattr(dataset, "name", "") or type(dataset).__name__
        size = getattr(dataset, "image_size", None)
        if size and (size[0] > c.image_size or size[1] > c.image_size):
            raise ZooError(
                f"The dataset {name!r} has {size[0]}x{size[1]} images but this discogan trains on "
                f"{c.image_size}x{c.image_size}; pass --config image_size=<a power of two of at least {max(size)}> "
                "or resize the data (--dataset-option size=... for digits-mnist)."
            )
        kind = getattr(dataset, "kind", "images")
        if kind not in self.dataset_kinds:  # the engine's check, without its exact-size one (smaller data is padded)
            raise ZooError(
                f"discogan trains on unpaired images from two domains, but the dataset {name!r} holds {kind} "
                "images; pick an unpaired dataset (digits-mnist, or an unpaired folder)."
            )
        channels = getattr(dataset, "channels", None)
        if channels and (channels, channels) != (c.input_nc, c.output_nc):
            raise ZooError(
                f"The dataset {name!r} has {channels}-channel images in both domains but this discogan takes "
                f"{c.input_nc} (A) and {c.output_nc} (B); pass --config input_nc={channels} --config "
                f"output_nc={channels}."
            )
        self.preview_dataset = dataset

    # -- the recipe ---------------------------------------------------------------------------
    def networks(self) -> dict[str, nn.Module]:
        m = self.model
        return {
            "G_A": m.generator_A,
            "G_B": m.generator_B,
            "D_A": DiscriminatorLogits(m.discriminator_A),
            "D_B": DiscriminatorLogits(m.discriminator_B),
        }

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        m, p = self.model, self.params
        options = {"lr": p.lr, "betas": (p.beta1, p.beta2), "weight_decay": p.weight_decay}
        gen = itertools.chain(m.generator_A.parameters(), m.generator_B.parameters())
        dis = itertools.chain(m.discriminator_A.parameters(), m.discriminator_B.parameters())
        return {"gen": torch.optim.Adam(gen, **options), "dis": torch.optim.Adam(dis, **options)}

    def train_step(self, batch: dict[str, Any], step: int) -> dict[str, torch.Tensor | float]:
        p, c = self.params, self.model.config
        size = tuple(batch["image"].shape[-2:]) + tuple(batch["target"].shape[-2:])
        if max(size) > c.image_size:
            raise ZooError(
                f"This discogan trains on images of at most {c.image_size}x{c.image_size}, got a batch of "
                f"{size[0]}x{size[1]} (A) and {size[2]}x{size[3]} (B); pass --config image_size=... or resize the data."
            )
        real_a = pad_to(batch["image"], c.image_size, c.image_size)
        real_b = pad_to(batch["target"], c.image_size, c.image_size)
        rate = rate_at(step, p)
        if p.update_interval == 0:  # carpedm20's order: a D step, then a G step on fresh forward passes
            self._update("dis", real_a, real_b, rate)
            losses = self._update("gen", real_a, real_b, rate)
        else:
            losses = self._update("dis" if step % p.update_interval == 0 else "gen", real_a, real_b, rate)
        return {**{k: losses[k].detach() for k in LOSS_NAMES}, "rate": rate}

    def _update(self, name: str, real_a: torch.Tensor, real_b: torch.Tensor, rate: float) -> dict[str, torch.Tensor]:
        """One reference iteration's forward passes and losses, then an Adam step of ``name`` (``dis`` or ``gen``)."""
        update_d = name == "dis"
        g_a, g_b = self.nets["G_A"], self.nets["G_B"]
        discriminators = [self.model.discriminator_A, self.model.discriminator_B]
        for net in discriminators:
            net.requires_grad_(update_d)
        try:
            with torch.set_grad_enabled(not update_d), self.autocast():
                ab = g_b(real_a)
                ba = g_a(real_b)
                aba = g_a(ab)
                bab = g_b(ba)
            # D steps go through the engine's wrappers (DDP averages their gradients); G steps call them unwrapped
            d_a, d_b = (self.nets["D_A"], self.nets["D_B"]) if update_d else discriminators
            with self.autocast():
                losses = discogan_losses(real_a, real_b, ab, ba, aba, bab, d_a, d_b, rate, self.params)
            self.opts[name].zero_grad()
            self.global_loss(losses[name], "mean").backward()
            self.opts[name].step()
        finally:
            for net in discriminators:
                net.requires_grad_(True)
        return losses
