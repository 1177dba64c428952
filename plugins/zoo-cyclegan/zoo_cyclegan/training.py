"""CycleGAN's training step for ``zoo train``: ``optimize_parameters`` of junyanz's ``models/cycle_gan_model.py``.

Per batch of unpaired images (``{"image": A, "target": B}``, mapped from [0, 1] to [-1, 1]):

1. Forward: ``fake_B = G_A(A)``, ``rec_A = G_B(fake_B)``, ``fake_A = G_B(B)``, ``rec_B = G_A(fake_A)``.
2. Generators (the discriminators' ``requires_grad`` off, as the reference's ``set_requires_grad``):
   ``loss_G = G_A + G_B + cycle_A + cycle_B + idt_A + idt_B`` with
   ``G_A = GAN(D_A(fake_B), real)``, ``G_B = GAN(D_B(fake_A), real)``,
   ``cycle_A = |rec_A - A|_1 * lambda_A``, ``cycle_B = |rec_B - B|_1 * lambda_B``,
   ``idt_A = |G_A(B) - B|_1 * lambda_B * lambda_identity``, ``idt_B = |G_B(A) - A|_1 * lambda_A * lambda_identity``;
   one Adam step over both generators' parameters.
3. Discriminators: ``D_A = (GAN(D_A(B), real) + GAN(D_A(pool_B(fake_B)), fake)) * 0.5``, and ``D_B`` alike
   with ``pool_A(fake_A)`` and A; one Adam step over both discriminators' parameters.

The paper's settings: LSGAN (``GANLoss("lsgan")``: MSE against 1 / 0), ``lambda_A = lambda_B = 10``,
``lambda_identity = 0.5``, image pools of 50 fakes per discriminator (``zoo_core.layers.ImagePool``,
drawing from the global torch generator that checkpoints save), Adam lr 2e-4, betas (0.5, 0.999),
batch 1, and the ``linear`` policy: ``n_epochs`` (100) at the full rate, then ``n_epochs_decay``
(100) decaying linearly towards 0, stepped once per epoch. Every one is a ``--train-config`` key.
Logged with the reference's names: ``D_A``, ``G_A``, ``cycle_A``, ``idt_A``, ``D_B``, ``G_B``,
``cycle_B``, ``idt_B``.

Both pools are the step's extra state (their images and fill level), so ``--resume`` continues
bit for bit. Under ``torchrun`` each process keeps its own pools, of its own shard's fakes; the
reference keeps one pool for its whole batch, so an N-process run follows a one-process run of
the same global batch only until the pools are full. Before that, 2 gloo processes against 1
agree to 1e-5 on every weight but the biases of convolutions followed by an InstanceNorm: their
true gradient is 0 (the norm removes them), Adam turns float noise into steps of about ``lr``,
and they change no output.

The generator step calls the discriminators unwrapped (``self.model.netD_A``): their
``requires_grad`` is off there, so nothing of theirs is for DDP to average.

Final metrics of a ``digits-mnist`` run (``digits_mnist_evaluation``): cycle-L1 both ways, FID-MNIST
of translations and the digits they keep, through the plugin's evaluation protocols
(``zoo_cyclegan.evaluation``); each is recorded with its protocol, so ``zoo eval NAME`` reproduces it.

Example:
    $ zoo train cyclegan --dataset digits-mnist --out runs/cyclegan-digits2mnist \\
          --config input_nc=1 --config output_nc=1 --config image_size=28 --config netG=resnet_6blocks \\
          --config ngf=32 --config ndf=32 --epochs 2 --train-config n_epochs=1 --train-config n_epochs_decay=1
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from zoo_core import ZooError
from zoo_core.layers import GAN_MODES, GANLoss, ImagePool, linear_decay_scheduler
from zoo_core.training import InputSpec, StepParams, TrainingStep
from zoo_core.training.previews import TranslationPreview

from .model import CycleGAN

__all__ = ["LOSS_NAMES", "CycleGANParams", "CycleGANTrainingStep"]

#: what each step logs, the reference's ``loss_names``
LOSS_NAMES = ("D_A", "G_A", "cycle_A", "idt_A", "D_B", "G_B", "cycle_B", "idt_B")


@dataclass
class CycleGANParams(StepParams):
    """The reference's training options (``--train-config lambda_identity=0 ...``)."""

    lr: float = 2e-4
    beta1: float = 0.5
    gan_mode: str = "lsgan"
    lambda_A: float = 10.0  # the reference's option names
    lambda_B: float = 10.0
    lambda_identity: float = 0.5
    pool_size: int = 50
    n_epochs: int = 100
    n_epochs_decay: int = 100


def _set_requires_grad(nets: list[nn.Module], requires_grad: bool) -> None:
    for net in nets:
        for parameter in net.parameters():
            parameter.requires_grad = requires_grad


def digits_mnist_evaluation(
    size: int, dataset_options: dict[str, Any], round_trip: str | None = None
) -> tuple[dict[str, Any], ...]:
    """The final metrics of a ``digits-mnist`` run, as metric records without a value (each with its protocol).

    Cycle-L1 both ways (the held-out scikit-learn digits framed as in training, and the held-out
    MNIST digits), FID-MNIST of the translated scikit-learn digits against the held-out MNIST
    digits, and how many translations keep their digit (``digit-preserved``); ``zoo eval NAME``
    runs the same protocols again. ``round_trip`` names another evaluation protocol for the two
    cycle-L1 records (DiscoGAN's ``discogan-round-trip``; default: the metric's own).

    Example:
        >>> [m["name"] for m in digits_mnist_evaluation(28, {})]
        ['cycle-l1', 'cycle-l1', 'fid-mnist', 'digit-preserved']
    """
    framed = {"size": size, "margin": int(dataset_options.get("margin", 4))}
    mnist = {"size": size} if size != 28 else {}
    protocol = {"evaluation": round_trip} if round_trip else {}
    return (
        {"name": "cycle-l1", "dataset": "digits", "split": "test", "dataset_options": framed,
         "metric_options": {"direction": "AtoB"}, **protocol},
        {"name": "cycle-l1", "dataset": "mnist5k", "split": "test", "dataset_options": mnist,
         "metric_options": {"direction": "BtoA"}, **protocol},
        {"name": "fid-mnist", "dataset": "digits-mnist", "split": "test", "dataset_options": framed},
        {"name": "digit-preserved", "metric": "digit-agreement", "dataset": "digits-mnist", "split": "test",
         "dataset_options": framed, "protocol": "fraction of the translated held-out scikit-learn digits that "
         "mnistnet.mnist5k reads as the digit they were made from"},
    )  # fmt: skip


class CycleGANTrainingStep(TranslationPreview, TrainingStep):
    """Generators then discriminators, as the reference's ``optimize_parameters`` (see the module docstring).

    Example:
        >>> zoo_core.training.train("cyclegan", "digits-mnist", "runs/cg", steps=100,
        ...     config={"input_nc": 1, "output_nc": 1, "image_size": 28, "ngf": 8, "ndf": 8})
    """

    params_class = CycleGANParams
    default_batch_size = 1
    default_epochs = 200  # n_epochs + n_epochs_decay
    #: metric names, or metric records without a value (their protocol given); set for digits-mnist runs
    eval_metrics: tuple[str | dict[str, Any], ...] = ()
    dataset_kinds = ("unpaired",)
    paper: dict[str, Any] = {  # noqa: RUF012 (read-only class data)
        "title": "Unpaired Image-to-Image Translation using Cycle-Consistent Adversarial Networks",
        "authors": "Jun-Yan Zhu, Taesung Park, Phillip Isola, Alexei A. Efros",
        "year": 2017,
        "url": "https://arxiv.org/abs/1703.10593",
        "reference_code": "https://github.com/junyanz/pytorch-CycleGAN-and-pix2pix",
    }
    license = "mit"
    tags = ("gan",)

    def __init__(self, model: CycleGAN, train_config: Any, world_size: int = 1) -> None:
        super().__init__(model, train_config, world_size)
        p = self.params
        c = model.config
        if not c.with_discriminators or c.directions != "both":
            raise ZooError(
                "This CycleGAN holds no discriminators or only one generator (a converted checkpoint) and "
                "cannot be trained; train one with directions=both and with_discriminators=true."
            )
        if p.gan_mode not in GAN_MODES:
            raise ZooError(f"Unknown gan_mode {p.gan_mode!r}; choose one of {', '.join(GAN_MODES)}.")
        if p.lambda_identity > 0 and c.input_nc != c.output_nc:
            raise ZooError(
                f"The identity loss needs as many channels in A as in B (input_nc={c.input_nc}, "
                f"output_nc={c.output_nc}); pass --train-config lambda_identity=0."
            )
        if c.netD in ("basic", "n_layers"):
            layers = 3 if c.netD == "basic" else c.n_layers_D
            side = c.image_size
            for _ in range(layers):
                side //= 2
            if side < 3:  # the last normalised layer must see more than one pixel, and the head one pixel
                raise ZooError(
                    f"The {c.netD} PatchGAN ({layers} stride-2 layers) needs images of at least {3 * 2**layers}x"
                    f"{3 * 2**layers} to train, not {c.image_size}x{c.image_size}; train on larger images or pass "
                    "--config netD=n_layers --config n_layers_D=<fewer> (or netD=pixel)."
                )
        if p.pool_size < 0 or p.n_epochs < 0 or p.n_epochs_decay < 0:
            raise ZooError("pool_size, n_epochs and n_epochs_decay must be >= 0.")
        self.recipe = (
            f"GANLoss {p.gan_mode}, cycle L1 x {p.lambda_A:g} (A) / {p.lambda_B:g} (B), identity x "
            f"{p.lambda_identity:g}, image pools of {p.pool_size}, D loss halved; Adam {p.lr:g}, betas "
            f"({p.beta1:g}, 0.999); lr constant for {p.n_epochs} epoch(s), then linear decay over "
            f"{p.n_epochs_decay}; as junyanz/pytorch-CycleGAN-and-pix2pix"
        )
        self.criterion_gan = GANLoss(p.gan_mode).to(self.device)
        self.criterion_cycle = nn.L1Loss()
        self.criterion_idt = nn.L1Loss()
        self.fake_A_pool = ImagePool(p.pool_size)
        self.fake_B_pool = ImagePool(p.pool_size)
        if str(train_config.dataset).partition(":")[0] == "digits-mnist":
            self.eval_metrics = digits_mnist_evaluation(c.image_size, (train_config.dataset_options or {}))

    # -- the data -----------------------------------------------------------------------------
    def input_spec(self) -> InputSpec:
        size = self.model.config.image_size
        return InputSpec(None, (size, size), tuple(self.dataset_kinds))

    def check_dataset(self, dataset: Any) -> None:
        """The engine's checks (unpaired data, size), channels of both domains, and epochs within the decay.

        Example:
            >>> step.check_dataset(load_dataset("digits-mnist", size=32))  # for a 28x28 model
            ZooError: The dataset 'digits-mnist' has 32x32 images but this cyclegan takes 28x28; ...
        """
        c = self.model.config
        name = getattr(dataset, "name", "") or type(dataset).__name__
        size = getattr(dataset, "image_size", None)
        if getattr(dataset, "kind", None) == "unpaired" and size and tuple(size) != (c.image_size, c.image_size):
            raise ZooError(
                f"The dataset {name!r} has {size[0]}x{size[1]} images but this cyclegan takes "
                f"{c.image_size}x{c.image_size}; pass --config image_size={size[0]} or resize the data "
                f"(--dataset-option size={c.image_size} for digits-mnist, crop_size= for unpaired folders)."
            )
        super().check_dataset(dataset)
        channels = getattr(dataset, "channels", None)
        if channels and (channels, channels) != (c.input_nc, c.output_nc):
            raise ZooError(
                f"The dataset {name!r} has {channels}-channel images in both domains but this cyclegan takes "
                f"{c.input_nc} (A) and {c.output_nc} (B); pass --config input_nc={channels} --config "
                f"output_nc={channels}."
            )
        self.preview_dataset = dataset
        self._check_schedule(len(dataset))

    def _check_schedule(self, n_items: int) -> None:
        """The linear decay reaches 0 after n_epochs + n_epochs_decay epochs; a longer run would train at lr < 0."""
        cfg, p = self.train_config, self.params
        batch = cfg.batch_size or self.default_batch_size
        per_epoch = max(1, math.ceil(n_items / batch))
        epochs = math.ceil(cfg.steps / per_epoch) if cfg.steps is not None else cfg.epochs or self.default_epochs
        if epochs > p.n_epochs + p.n_epochs_decay:
            raise ZooError(
                f"This run trains {epochs} epoch(s) but the learning rate decays to 0 after n_epochs + "
                f"n_epochs_decay = {p.n_epochs + p.n_epochs_decay}; set --train-config n_epochs=... "
                "--train-config n_epochs_decay=... to cover the run."
            )

    # -- the recipe ---------------------------------------------------------------------------
    def networks(self) -> dict[str, nn.Module]:
        m = self.model
        return {"G_A": m.netG_A, "G_B": m.netG_B, "D_A": m.netD_A, "D_B": m.netD_B}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        m, p = self.model, self.params
        betas = (p.beta1, 0.999)
        return {
            "G": torch.optim.Adam(itertools.chain(m.netG_A.parameters(), m.netG_B.parameters()), lr=p.lr, betas=betas),
            "D": torch.optim.Adam(itertools.chain(m.netD_A.parameters(), m.netD_B.parameters()), lr=p.lr, betas=betas),
        }

    def schedulers(self) -> dict[str, Any]:
        p = self.params
        return {name: linear_decay_scheduler(opt, p.n_epochs, p.n_epochs_decay) for name, opt in self.opts.items()}

    def _backward_d(self, net_d: nn.Module, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        """The reference's ``backward_D_basic``: (real + fake) / 2, backward; returns the loss."""
        with self.autocast():
            pred_real = net_d(real)
            pred_fake = net_d(fake.detach())
        loss = (self.criterion_gan(pred_real.float(), True) + self.criterion_gan(pred_fake.float(), False)) * 0.5
        self.global_loss(loss, "mean").backward()
        return loss.detach()

    def train_step(self, batch: dict[str, Any], step: int) -> dict[str, torch.Tensor]:
        g_a, g_b, d_a, d_b = (self.nets[k] for k in ("G_A", "G_B", "D_A", "D_B"))
        raw_d_a, raw_d_b = self.model.netD_A, self.model.netD_B
        opt_g, opt_d = self.opts["G"], self.opts["D"]
        p = self.params
        real_a = batch["image"] * 2 - 1
        real_b = batch["target"] * 2 - 1

        with self.autocast():
            fake_b = g_a(real_a)
            rec_a = g_b(fake_b)
            fake_a = g_b(real_b)
            rec_b = g_a(fake_a)

        # G_A and G_B
        _set_requires_grad([raw_d_a, raw_d_b], False)
        opt_g.zero_grad()
        zero = real_a.new_zeros(())
        with self.autocast():
            if p.lambda_identity > 0:
                idt_a = g_a(real_b)
                idt_b = g_b(real_a)
            pred_a = raw_d_a(fake_b)
            pred_b = raw_d_b(fake_a)
        if p.lambda_identity > 0:
            loss_idt_a = self.criterion_idt(idt_a.float(), real_b) * p.lambda_B * p.lambda_identity
            loss_idt_b = self.criterion_idt(idt_b.float(), real_a) * p.lambda_A * p.lambda_identity
        else:
            loss_idt_a = loss_idt_b = zero
        loss_g_a = self.criterion_gan(pred_a.float(), True)
        loss_g_b = self.criterion_gan(pred_b.float(), True)
        loss_cycle_a = self.criterion_cycle(rec_a.float(), real_a) * p.lambda_A
        loss_cycle_b = self.criterion_cycle(rec_b.float(), real_b) * p.lambda_B
        loss_g = loss_g_a + loss_g_b + loss_cycle_a + loss_cycle_b + loss_idt_a + loss_idt_b
        self.global_loss(loss_g, "mean").backward()
        opt_g.step()

        # D_A and D_B
        _set_requires_grad([raw_d_a, raw_d_b], True)
        opt_d.zero_grad()
        loss_d_a = self._backward_d(d_a, real_b, self.fake_B_pool.query(fake_b))
        loss_d_b = self._backward_d(d_b, real_a, self.fake_A_pool.query(fake_a))
        opt_d.step()

        values = (loss_d_a, loss_g_a, loss_cycle_a, loss_idt_a, loss_d_b, loss_g_b, loss_cycle_b, loss_idt_b)
        return {name: value.detach() for name, value in zip(LOSS_NAMES, values, strict=True)}

    # -- resume -------------------------------------------------------------------------------
    def extra_state(self) -> dict[str, Any]:
        return {"fake_A_pool": self.fake_A_pool.state_dict(), "fake_B_pool": self.fake_B_pool.state_dict()}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        if state:
            self.fake_A_pool.load_state_dict(state["fake_A_pool"])
            self.fake_B_pool.load_state_dict(state["fake_B_pool"])
