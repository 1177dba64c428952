"""pix2pix's training step for ``zoo train``: ``optimize_parameters`` of the reference's ``pix2pix_model.py``.

Per batch (A = ``image``, B = ``target``, both mapped from [0, 1] to [-1, 1] as the reference's
``Normalize(0.5, 0.5)``; with ``color_space="lab"``, the reference's colorization model, A is the
L channel of the grey image as ``L / 50 - 1`` and B the target's a, b channels as ``ab / 110``),
with ``fake_B = netG(A)`` computed once, in train mode (dropout on):

1. D step: ``loss_D = 0.5 * (GAN(netD(cat(A, fake_B).detach()), fake) + GAN(netD(cat(A, B)), real))``;
   Adam step on ``netD``.
2. G step (``netD`` frozen): ``loss_G = GAN(netD(cat(A, fake_B)), real) + lambda_L1 * |fake_B - B|_1``;
   Adam step on ``netG``.

``GAN`` is ``zoo_core.layers.GANLoss(gan_mode)``, ``"vanilla"`` (BCE with logits) by default;
``lambda_L1`` 100; no image pool (the reference's ``--pool_size 0``); Adam lr 2e-4, betas
(0.5, 0.999); batch 1; the learning rate constant for ``n_epochs`` epochs, then linearly decayed
to zero over ``n_epochs_decay`` (100 + 100 by default). ``zoo train pix2pix --epochs N`` without
either of them splits N as the reference does (half constant, half decay). The two halves of
``loss_D`` are back-propagated one after the other (the same gradient as their sum, and what
DistributedDataParallel allows for two forward passes of one network); ``netD``'s gradients are
switched off for the G step in one process, as the reference's ``set_requires_grad``, and left
on (then zeroed) under DDP, which expects every parameter in every backward pass.
Logged as the reference names them: ``G_GAN``, ``G_L1`` (with its weight), ``D_real``, ``D_fake``.

Final metrics: ``l1``, ``psnr`` and ``ssim`` of ``translate`` (the paper's test-time behaviour,
unless the config says otherwise) on the training dataset's ``test`` split.

Example:
    $ zoo train pix2pix --dataset photos-colorize --config color_space=lab --config input_nc=1 \\
          --config output_nc=2 --config netG=unet_128 --config image_size=128 --epochs 10 --out runs/p2p
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from zoo_core import ZooError
from zoo_core.layers import GAN_MODES, GANLoss, linear_decay_scheduler
from zoo_core.training import StepParams, TrainingStep
from zoo_core.training.step import InputSpec

from .model import Pix2Pix

__all__ = ["Pix2PixParams", "Pix2PixTrainingStep", "describe"]


@dataclass
class Pix2PixParams(StepParams):
    """The reference's training options (``--lr 0.0002 --beta1 0.5 --lambda_L1 100 --gan_mode vanilla``)."""

    lr: float = 2e-4
    beta1: float = 0.5
    lambda_L1: float = 100.0  # the reference's option name
    gan_mode: str = "vanilla"
    n_epochs: int = 100
    n_epochs_decay: int = 100


def _set_requires_grad(net: nn.Module, requires_grad: bool) -> None:
    for parameter in net.parameters():
        parameter.requires_grad = requires_grad


def _square(image: torch.Tensor, size: int) -> torch.Tensor:
    """The central square of ``image`` (C, H, W), resized to ``size`` (antialiased)."""
    h, w = image.shape[-2:]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    crop = image[None, :, top : top + side, left : left + side]
    if side != size:
        crop = F.interpolate(crop, size=(size, size), mode="bicubic", align_corners=False, antialias=True)
    return crop[0].clamp(0, 1)


def describe(config: Any, train_config: Any) -> str:
    """The registry description of a model this step trains (its generator, what it maps, its data).

    Example:
        >>> describe(Pix2PixConfig(netG="unet_128", ngf=32), TrainConfig("pix2pix", "photos-colorize", "runs/x"))
        'pix2pix (junyanz/pytorch-CycleGAN-and-pix2pix): unet_128 generator (ngf 32, batch norm, ...'
    """
    c = config
    if c.color_space == "lab":
        what = "the reference's colorization model (--model colorization): grey photos in, colour out, the U-Net "
        what += "mapping the CIE L channel to a, b"
    else:
        what = f"{c.input_nc} to {c.output_nc} channels"
    dropout = "dropout kept at test time as the paper" if c.test_time_dropout else "eval mode at test time"
    dataset = str(getattr(train_config, "dataset", "") or "its data")
    split = getattr(train_config, "split", "train")
    return (
        f"pix2pix (junyanz/pytorch-CycleGAN-and-pix2pix): {c.netG} generator (ngf {c.ngf}, {c.norm} norm, {dropout}) "
        f"and {c.netD} PatchGAN on the (input, output) pair; {what}; trained on {dataset} ({split} split) with "
        "`zoo train`."
    )


class Pix2PixTrainingStep(TrainingStep):
    """Conditional GAN + L1, D on the (input, output) pair, as junyanz's ``Pix2PixModel.optimize_parameters``.

    Example:
        >>> zoo_core.training.train("pix2pix", "photos-colorize", "runs/p2p", epochs=2,
        ...     config={"input_nc": 1, "netG": "unet_128", "image_size": 128})
    """

    params_class = Pix2PixParams
    default_batch_size = 1
    default_epochs = 200  # --n_epochs 100 --n_epochs_decay 100
    eval_metrics: tuple[str, ...] = ("l1", "psnr", "ssim")
    eval_split = "test"
    dataset_kinds = ("paired",)
    scheduler_interval = "epoch"
    paper: dict[str, Any] = {  # noqa: RUF012 (read-only class data)
        "title": "Image-to-Image Translation with Conditional Adversarial Networks",
        "authors": "Phillip Isola, Jun-Yan Zhu, Tinghui Zhou, Alexei A. Efros",
        "year": 2017,
        "url": "https://arxiv.org/abs/1611.07004",
        "reference_code": "https://github.com/junyanz/pytorch-CycleGAN-and-pix2pix",
    }
    license = "mit"
    tags = ("gan",)

    def __init__(self, model: Pix2Pix, train_config: Any, world_size: int = 1) -> None:
        super().__init__(model, train_config, world_size)
        if getattr(model, "netD", None) is None:
            raise ZooError(
                "This pix2pix model holds a generator only (with_discriminator=false) and cannot be trained; "
                "train one with with_discriminator=true."
            )
        p = self.params
        if p.gan_mode not in GAN_MODES:
            raise ZooError(f"Unknown gan_mode {p.gan_mode!r}; choose one of {', '.join(GAN_MODES)}.")
        given = dict(getattr(train_config, "step_config", None) or {})
        epochs = getattr(train_config, "epochs", None)
        if epochs and "n_epochs" not in given and "n_epochs_decay" not in given:
            p.n_epochs, p.n_epochs_decay = epochs // 2, epochs - epochs // 2  # the reference's 100 + 100, scaled
        self.criterion = GANLoss(p.gan_mode).to(self.device)
        self.description = describe(model.config, train_config)
        self.recipe = (
            f"{p.gan_mode} GAN + {p.lambda_L1:g} x L1, D on the (input, output) pair; Adam {p.lr:g}, betas "
            f"({p.beta1:g}, 0.999); lr constant for {p.n_epochs} epochs, then linear decay over {p.n_epochs_decay}; "
            "as junyanz/pytorch-CycleGAN-and-pix2pix"
        )
        self._sample_pairs: list[tuple[torch.Tensor, torch.Tensor]] | None = None

    # -- the data ------------------------------------------------------------------------
    def input_spec(self) -> InputSpec:
        c = self.model.config
        return InputSpec(c.input_nc, (c.image_size, c.image_size), self.dataset_kinds)

    def check_dataset(self, dataset: Any) -> None:
        """Paired data whose input has ``input_nc`` channels, target ``output_nc``, crops of ``image_size``.

        ``color_space="lab"`` takes grey or RGB inputs (their luma) and RGB targets.
        """
        c = self.model.config
        name = getattr(dataset, "name", "") or type(dataset).__name__
        kind = getattr(dataset, "kind", "images")
        if kind != "paired":
            super().check_dataset(dataset)  # the engine's sentence for the wrong kind of data
        channels = getattr(dataset, "channels", None)
        target_channels = getattr(dataset, "target_channels", channels)
        lab = c.color_space == "lab"
        if lab and target_channels and target_channels != 3:
            raise ZooError(
                f"The dataset {name!r} has {target_channels}-channel targets, but a colorization model (color_space "
                "lab) learns the colours of RGB targets; pick a dataset with colour targets."
            )
        for what, have, want, key in (
            ("input", None if lab and channels in (1, 3) else channels, c.input_nc, "input_nc"),
            ("target", None if lab else target_channels, c.output_nc, "output_nc"),
        ):
            if have and have != want:
                raise ZooError(
                    f"The dataset {name!r} has {have}-channel {what} images but this pix2pix takes {want}; "
                    f"pass --config {key}={have}."
                )
        size = getattr(dataset, "image_size", None)
        if size and tuple(size) != (c.image_size, c.image_size):
            h, w = size
            fix = f"--config image_size={h}" if h == w else "square crops"
            raise ZooError(
                f"The dataset {name!r} has {h}x{w} training images but this pix2pix takes "
                f"{c.image_size}x{c.image_size}; pass {fix} (with a netG that fits it) or crop the data so."
            )

    # -- the recipe ----------------------------------------------------------------------
    def networks(self) -> dict[str, nn.Module]:
        return {"G": self.model.netG, "D": self.model.netD}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        betas = (self.params.beta1, 0.999)
        return {
            "G": torch.optim.Adam(self.model.netG.parameters(), lr=self.params.lr, betas=betas),
            "D": torch.optim.Adam(self.model.netD.parameters(), lr=self.params.lr, betas=betas),
        }

    def schedulers(self) -> dict[str, Any]:
        p = self.params
        return {name: linear_decay_scheduler(opt, p.n_epochs, p.n_epochs_decay) for name, opt in self.opts.items()}

    def train_step(self, batch: dict[str, Any], step: int) -> dict[str, torch.Tensor]:
        net_g, net_d = self.nets["G"], self.nets["D"]
        opt_g, opt_d = self.opts["G"], self.opts["D"]
        real_a = self.model.network_input(batch["image"])
        real_b = self.model.network_target(batch["target"])
        one_process = self.world_size == 1
        with self.autocast():
            fake_b = net_g(real_a)

        # (1) D: fake pairs as fake, real pairs as real
        if one_process:
            _set_requires_grad(self.model.netD, True)
        opt_d.zero_grad()
        with self.autocast():
            pred_fake = net_d(torch.cat((real_a, fake_b), 1).detach())
        loss_d_fake = self.criterion(pred_fake.float(), False)
        self.global_loss(loss_d_fake * 0.5, "mean").backward()
        with self.autocast():
            pred_real = net_d(torch.cat((real_a, real_b), 1))
        loss_d_real = self.criterion(pred_real.float(), True)
        self.global_loss(loss_d_real * 0.5, "mean").backward()
        opt_d.step()

        # (2) G: fool D, and stay close to B in L1
        if one_process:
            _set_requires_grad(self.model.netD, False)
        opt_g.zero_grad()
        with self.autocast():
            pred_fake = net_d(torch.cat((real_a, fake_b), 1))
        loss_g_gan = self.criterion(pred_fake.float(), True)
        loss_g_l1 = F.l1_loss(fake_b.float(), real_b.float()) * self.params.lambda_L1
        self.global_loss(loss_g_gan + loss_g_l1, "mean").backward()
        opt_g.step()
        if one_process:
            _set_requires_grad(self.model.netD, True)

        return {
            "G_GAN": loss_g_gan.detach(),
            "G_L1": loss_g_l1.detach(),
            "D_real": loss_d_real.detach(),
            "D_fake": loss_d_fake.detach(),
        }

    # -- grids ---------------------------------------------------------------------------
    def _pairs(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Up to three held-out (input, target) pairs as ``image_size`` squares (empty when there are none)."""
        if self._sample_pairs is None:
            from zoo_core.data import load_dataset

            cfg = self.train_config
            size = self.model.config.image_size
            try:
                data = load_dataset(cfg.dataset, split=self.eval_split, **(cfg.dataset_options or {}))
                items = [data[i] for i in range(min(3, len(data)))]
                self._sample_pairs = [(_square(it["image"], size), _square(it["target"], size)) for it in items]
            except (ZooError, KeyError, IndexError):
                self._sample_pairs = []
        return self._sample_pairs

    def samples(self, n: int, seed: int) -> torch.Tensor | None:
        """A 3x3 grid's images: each row a held-out input, its translation and the real target."""
        pairs = self._pairs()
        if not pairs:
            return None

        def rgb(x: torch.Tensor) -> torch.Tensor:
            return x.expand(3, -1, -1) if x.shape[0] == 1 else x

        rows = []
        for a, b in pairs:
            fake = self.model.translate(a.to(self.device), seed=seed).cpu()
            rows += [rgb(a), rgb(fake), rgb(b)]
        return torch.stack(rows)
