"""AnoGAN's training step for ``zoo train``: the DCGAN on normal images, then f-AnoGAN's izif encoder, in one run.

Phase 1, steps ``0 .. gan_steps - 1`` (seokinj/anoGAN ``train.py``, the DCGAN of the paper): real
images mapped from [0, 1] to [-1, 1]; D: BCE of D(x) against 1 plus BCE of D(G(z1)) (G frozen)
against 0, Adam step; G: BCE of D(G(z2)) against 1 on fresh noise z2 (the reference draws new
noise for its G update), Adam step. Adam lr 2e-4, betas (0.5, 0.999) for both (``lr``, ``beta1``).
The reference's ``optimizerG`` is built on ``D.parameters()`` (a slip: its G is never updated);
ours updates G. Logged: ``loss_D``, ``loss_G``, ``D_x`` (mean D(x)), ``D_G_z1`` (mean D(G(z1))),
``D_G_z2`` (mean D(G(z2))).

Phase 2, steps ``gan_steps ..`` the end of the run (tSchlegl/f-AnoGAN ``z_encoding_izif.py``
``train_enc_izi``, ``loss_type='MSE'``): G and D frozen and in eval mode (``is_training=False``:
their BatchNorm statistics and weights are not touched), the encoder in train mode;
``loss_E = MSE(x, G(E(x))) + κ MSE(f(x), f(G(E(x))))`` (κ = the model's ``kappa``, 1.0; f = D's
features), RMSProp with ``enc_lr`` 5e-5 (the reference's ``train_op``). One deviation: the reference's
``tf.train.RMSPropOptimizer`` (decay 0.9, running mean square starting at 1, epsilon 1e-10 inside the square
root) is here ``torch.optim.RMSprop`` with torch's defaults (alpha 0.99, starting at 0, eps 1e-8 outside),
whose first updates are larger (about 10 x lr per weight); measured in ``benchmarks/bench_gans.py``
(``train_anogan_encoder``: the same updates once the reference loop uses torch's RMSprop). Logged:
``loss_E``, ``loss_E_img``, ``loss_E_fts`` (the reference's ``mapping_loss``, ``_img``, ``_fts``), each
averaged over the steps of its phase.

``--steps`` is the whole run: ``gan_steps`` GAN steps, then encoder steps to the end, e.g.
``--steps 1600 --train-config gan_steps=1000`` is 1,000 GAN steps and 600 encoder steps. A run
that would end before the encoder phase is refused. ``gan_steps=0`` trains the encoder alone, against
G and D as the model starts (no optimiser holds them; the conformance kit's one step is such a step).

Data: ``mnist5k-anomaly`` (``--dataset-option digit=K``) trains on the nine other digits; the
model's ``anomaly_class`` is taken from it (a different ``--config anomaly_class`` is refused).
Final metrics, when the run trains on ``mnist5k-anomaly``: ``auroc`` of the one-pass encoder score
on the dataset's test split (class K positive) and, with ``--train-config eval_search_steps=N``
(default 0: none), ``auroc-latent-search``, the AUROC of AnoGAN's latent search with N Adam steps
(the paper's Γ is 500; it costs about 0.28 s per step for the 500 test digits of a 32-wide model on
one core). ``zoo eval NAME --metric auroc`` repeats them.

The published digit models (``anogan.mnist-noK``) deviate for one CPU core: 32x32 networks 32 wide
(``--config``), 1,000 GAN steps and 3,000 encoder steps of batch 64 (the references: 20 epochs of
MNIST, then 50,000 encoder iterations), and ``enc_lr`` 2e-4: in 600 encoder steps on the same GAN
(digit 0) it reached AUROC 0.888 where the reference's 5e-5 reached 0.865. A longer GAN phase did
not help the detector there (digit 0, 1,500 encoder steps: 1,000 GAN steps 0.874, 2,500 0.821).

Example:
    $ zoo train anogan --dataset mnist5k-anomaly --dataset-option digit=0 --out runs/anogan-no0 \\
          --name anogan.mnist-no0 --config image_size=32 --config ngf=32 --config ndf=32 --config nef=32 \\
          --config anomaly_class=0 --steps 4000 --train-config gan_steps=1000 --train-config enc_lr=2e-4
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from zoo_core import ZooError
from zoo_core.training import StepParams, TrainingStep
from zoo_core.training.batches import batches_per_epoch

from .data import DATASET
from .model import AnoGAN

__all__ = ["AnoGANParams", "AnoGANTrainingStep", "search_auroc_plan"]

REAL_LABEL, FAKE_LABEL = 1.0, 0.0


@dataclass
class AnoGANParams(StepParams):
    """``--train-config``: the GAN's Adam (``lr``, ``beta1``), the phase switch, the encoder's RMSProp ``enc_lr``."""

    lr: float = 2e-4
    beta1: float = 0.5
    gan_steps: int = 5000
    enc_lr: float = 5e-5
    eval_search_steps: int = 0


def search_auroc_plan(steps: int, dataset_options: dict[str, Any] | None) -> dict[str, Any]:
    """The final metric ``auroc-latent-search``: AUROC of AnoGAN's latent search (``steps`` Adam steps, seed 0)
    on ``mnist5k-anomaly``'s test split, as a metric record without a value (``zoo eval NAME`` repeats it).

    Example:
        >>> search_auroc_plan(500, {"digit": 0})["metric_options"]
        {'method': 'latent-search', 'steps': 500}
    """
    return {
        "name": "auroc-latent-search",
        "metric": "auroc",
        "dataset": DATASET,
        "split": "test",
        "dataset_options": dict(dataset_options or {}) or None,
        "metric_options": {"method": "latent-search", "steps": steps},
        "evaluation": "anomaly-scores",
        "seed": 0,
    }


class AnoGANTrainingStep(TrainingStep):
    """The DCGAN's BCE updates for ``gan_steps`` steps, then izif encoder updates (see the module docstring).

    Example:
        >>> zoo_core.training.train("anogan", "mnist5k-anomaly", "runs/anogan", steps=1600,
        ...     dataset_options={"digit": 0}, step_config={"gan_steps": 1000},
        ...     config={"image_size": 32, "ngf": 32, "ndf": 32, "nef": 32})
    """

    params_class = AnoGANParams
    default_batch_size = 64  # f-AnoGAN's BATCH_SIZE (seokinj's config.yml: 128)
    default_epochs = 100  # 6,400 steps on mnist5k-anomaly: 5,000 GAN + 1,400 encoder steps
    eval_metrics: tuple[Any, ...] = ("auroc",)
    eval_split = "test"
    dataset_kinds = ("images", "labelled")
    paper: dict[str, Any] = {  # noqa: RUF012 (read-only class data)
        "title": "Unsupervised Anomaly Detection with Generative Adversarial Networks to Guide Marker Discovery",
        "authors": "Thomas Schlegl, Philipp Seeböck, Sebastian M. Waldstein, Ursula Schmidt-Erfurth, Georg Langs",
        "year": 2017,
        "url": "https://arxiv.org/abs/1703.05921",
        "reference_code": "https://github.com/tSchlegl/f-AnoGAN/blob/master/z_encoding_izif.py",
    }
    license = "mit"
    tags = ("gan", "anomaly-detection", "anogan", "f-anogan")
    recipe = (
        "DCGAN on the normal digits (BCE, Adam 2e-4, betas (0.5, 0.999)), then the izif encoder with G and D "
        "frozen (MSE of images + kappa MSE of D features, RMSProp), as seokinj/anoGAN and tSchlegl/f-AnoGAN"
    )

    def __init__(self, model: AnoGAN, train_config: Any, world_size: int = 1) -> None:
        super().__init__(model, train_config, world_size)
        p = self.params
        if p.lr <= 0 or p.enc_lr <= 0:
            raise ZooError("AnoGAN's lr and enc_lr must be positive learning rates.")
        if str(getattr(train_config, "dataset", "")).partition(":")[0] != DATASET:
            self.eval_metrics = ()  # AUROC needs a test split that marks its anomalies
        elif p.eval_search_steps > 0:
            self.eval_metrics = ("auroc", search_auroc_plan(p.eval_search_steps, train_config.dataset_options))
        if p.gan_steps == 0:  # an encoder-only run: G and D are fixed, and no optimiser holds them
            model.generator.requires_grad_(False)
            model.discriminator.requires_grad_(False)

    def check_dataset(self, dataset: Any) -> None:
        """The engine's checks (with the resize fix), the run's length against ``gan_steps``, the held-out class.

        Example:
            >>> step.check_dataset(load_dataset("mnist5k-anomaly", digit=3, size=32))  # config anomaly_class=0
            ZooError: The model's anomaly_class is 0 but the dataset holds out digit 3; ...
        """
        self.check_square_size(dataset, self.model.config.image_size)
        super().check_dataset(dataset)
        cfg, gan_steps = self.train_config, self.params.gan_steps
        total = cfg.steps
        if total is None:
            batch = cfg.batch_size or self.default_batch_size
            total = (cfg.epochs or self.default_epochs) * batches_per_epoch(len(dataset), batch, self.world_size)
        if total <= gan_steps:
            raise ZooError(
                f"The run has {total} steps but the GAN phase takes gan_steps={gan_steps}, so the encoder would "
                f"never train; pass --steps above {gan_steps} or a smaller --train-config gan_steps."
            )
        held_out = getattr(dataset, "anomaly_class", None)
        config = self.model.config
        if held_out is not None and config.anomaly_class is None:
            config.anomaly_class = int(held_out)  # recorded in config.json: the digit this model never saw
        elif held_out is not None and config.anomaly_class != held_out:
            raise ZooError(
                f"The model's anomaly_class is {config.anomaly_class} but the dataset holds out digit {held_out}; "
                f"pass --config anomaly_class={held_out} or --dataset-option digit={config.anomaly_class}."
            )

    def networks(self) -> dict[str, nn.Module]:
        return {"g": self.model.generator, "d": self.model.discriminator, "e": self.model.encoder}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        p, m = self.params, self.model
        optimizers: dict[str, torch.optim.Optimizer] = {}
        if p.gan_steps > 0:
            betas = (p.beta1, 0.999)
            optimizers["d"] = torch.optim.Adam(m.discriminator.parameters(), lr=p.lr, betas=betas)
            optimizers["g"] = torch.optim.Adam(m.generator.parameters(), lr=p.lr, betas=betas)
        optimizers["e"] = torch.optim.RMSprop(m.encoder.parameters(), lr=p.enc_lr)  # izif's RMSPropOptimizer
        return optimizers

    def train_step(self, batch: dict[str, Any], step: int) -> dict[str, torch.Tensor]:
        real = batch["image"] * 2 - 1  # [0, 1] -> [-1, 1], the references' Normalize(0.5, 0.5)
        if step < self.params.gan_steps:
            return self.gan_step(real)
        return self.encoder_step(real)

    def gan_step(self, real: torch.Tensor) -> dict[str, torch.Tensor]:
        """One DCGAN update of D, then of G (seokinj/anoGAN ``train.py``)."""
        net_g, net_d = self.nets["g"], self.nets["d"]
        opt_g, opt_d = self.opts["g"], self.opts["d"]
        nz = self.model.config.nz
        ones = torch.full((real.shape[0],), REAL_LABEL, device=real.device)
        zeros = torch.full((real.shape[0],), FAKE_LABEL, device=real.device)

        # D: the reference sums the two BCE terms before one backward; one backward per forward (as
        # pytorch/examples, and as DDP needs) gives the same gradient
        opt_d.zero_grad()
        with self.autocast():
            out_real = net_d(real)[1]
        # binary_cross_entropy is unsafe under bf16 autocast: losses in float32
        err_d_real = F.binary_cross_entropy(out_real.float(), ones)
        self.global_loss(err_d_real, "mean").backward()
        with torch.no_grad(), self.autocast():
            fake = net_g(self.global_randn(nz, 1, 1))  # G frozen for D's update
        with self.autocast():
            out_fake = net_d(fake)[1]
        err_d_fake = F.binary_cross_entropy(out_fake.float(), zeros)
        self.global_loss(err_d_fake, "mean").backward()
        opt_d.step()
        err_d = err_d_real.detach() + err_d_fake.detach()

        opt_g.zero_grad()  # D's gradients of this update are cleared by the next D update, as pytorch/examples
        with self.autocast():
            out = net_d(net_g(self.global_randn(nz, 1, 1)))[1]
        err_g = F.binary_cross_entropy(out.float(), ones)
        self.global_loss(err_g, "mean").backward()
        opt_g.step()
        return {
            "loss_D": err_d,
            "loss_G": err_g.detach(),
            "D_x": out_real.detach().float().mean(),
            "D_G_z1": out_fake.detach().float().mean(),
            "D_G_z2": out.detach().float().mean(),
        }

    def encoder_step(self, real: torch.Tensor) -> dict[str, torch.Tensor]:
        """One izif update of the encoder with G and D frozen in eval mode (f-AnoGAN ``train_enc_izi``)."""
        model, net_e, opt_e = self.model, self.nets["e"], self.opts["e"]
        frozen = (model.generator, model.discriminator)
        modes = [(m, m.training) for net in frozen for m in net.modules()]
        grads = [(p, p.requires_grad) for net in frozen for p in net.parameters()]
        try:
            for net in frozen:
                net.eval()  # is_training=False: BatchNorm uses (and keeps) its running statistics
                net.requires_grad_(False)
            opt_e.zero_grad()
            with self.autocast():  # G and D as they are (not DDP-wrapped): frozen, nothing of theirs to synchronise
                fake = model.generator(net_e(real))
                fake_features = model.discriminator(fake)[0]
                with torch.no_grad():
                    real_features = model.discriminator(real)[0]
            loss_img = F.mse_loss(fake.float(), real.float())
            loss_fts = F.mse_loss(fake_features.float(), real_features.float())
            loss = loss_img + model.config.kappa * loss_fts
            self.global_loss(loss, "mean").backward()
            opt_e.step()
        finally:
            for module, mode in modes:
                module.training = mode
            for parameter, flag in grads:
                parameter.requires_grad_(flag)
        return {"loss_E": loss.detach(), "loss_E_img": loss_img.detach(), "loss_E_fts": loss_fts.detach()}
