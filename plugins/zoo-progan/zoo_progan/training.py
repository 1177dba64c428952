"""ProGAN's training step for ``zoo train``: the loop of tkarras/progressive_growing_of_gans ``train.py`` / ``loss.py``.

One ``zoo train`` step is one minibatch: a critic update, then a generator update (``D_repeats`` 1).

- **Critic** (``loss.D_wgangp_acgan``): ``mean D(G(z)) - mean D(x)`` + the gradient penalty ``lambda`` 10
  (zoo_core's ``gradient_penalty``: mean of ``(||grad D(x_hat)||_2 - 1)^2`` at random interpolates of real
  and fake images, one uniform factor per image; the reference's ``lerp(reals, fakes, a)`` is the same
  distribution) + the drift term ``epsilon_drift * mean D(x)^2`` (``wgan_epsilon`` 0.001), which keeps the
  critic's output near 0. z ~ N(0, I), ``(B, latent)``.
- **Generator** (``loss.G_wgan_acgan``): ``-mean D(G(z))`` on fresh noise.
- Adam with lr 1e-3 and betas (0, 0.99), epsilon 1e-8, for both (``G_opt`` / ``D_opt``); the optimisers'
  state is reset whenever a new level of detail starts to fade in or finishes (``reset_opt_for_new_lod``).
- **Progressive growing** (``TrainingSchedule``): with ``kimg`` the thousands of real images shown so far
  and a phase of ``lod_training_kimg`` (stabilise) + ``lod_transition_kimg`` (fade-in),
  ``lod = log2(resolution) - log2(lod_initial_resolution) - phase - max(kimg_in_phase - training, 0) /
  transition``, at least 0: 4x4 first, stabilised, then 8x8 faded in and stabilised, and so on. Both
  networks run at that ``lod`` (their ``lod`` buffers), and the real images are shown at it
  (``process_reals``): box-downscaled to ``2^-floor(lod)`` of the resolution, faded with their own 2x
  coarser version by ``lod - floor(lod)``, nearest-upscaled back; mapped from [0, 1] to [-1, 1].
- **Gs**: after each generator update, ``generator_ema = lerp(generator, generator_ema, g_smoothing)``
  (``G_smoothing`` 0.999; ``setup_as_moving_average_of``), when the model holds one (``with_ema``); samples
  and the card's metric come from it, as the reference's results come from ``Gs``.

The reference's minibatch size changes per resolution in the paper's runs (``minibatch_dict``); here
``--batch-size`` is fixed (default 16, the reference's ``minibatch_base``; a multiple of
``mbstd_group_size``: an epoch's last, shorter batch is cut to a multiple of it, as the critic's minibatch
standard deviation takes whole groups). ``resume_kimg`` starts the schedule later, as the reference's argument does.

Logged every step: ``loss_D`` (penalty and drift included), ``loss_G``, ``gradient_penalty`` (lambda x GP),
``drift`` (epsilon x mean D(x)^2), ``wasserstein`` (mean D(x) - mean D(G(z))), ``lod`` and ``kimg``.

Example:
    $ zoo train progan --dataset mnist5k --dataset-option size=32 --out runs/progan-mnist \\
          --config fmap_base=1024 --config fmap_max=128 \\
          --train-config lod_training_kimg=30 --train-config lod_transition_kimg=30
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from zoo_core import ZooError
from zoo_core.layers.gan_losses import gradient_penalty
from zoo_core.training import InputSpec, StepParams, TrainingStep, trains_on_digits

from .model import ProGAN, downscale2d, upscale2d
from .upstream import PAPER

__all__ = ["ProGANParams", "ProGANTrainingStep", "lod_at", "process_reals"]


@dataclass
class ProGANParams(StepParams):
    """``train.py`` / ``loss.py``'s hyper-parameters, e.g. ``--train-config lod_training_kimg=30``."""

    lr: float = 1e-3  # G_lrate, D_lrate
    beta1: float = 0.0
    beta2: float = 0.99
    adam_epsilon: float = 1e-8
    lambda_gp: float = 10.0  # wgan_lambda
    epsilon_drift: float = 0.001  # wgan_epsilon
    lod_initial_resolution: int = field(default=4, metadata={"range": (4, 1024)})
    lod_training_kimg: float = 600.0
    lod_transition_kimg: float = 600.0
    reset_opt_for_new_lod: bool = True
    g_smoothing: float = 0.999  # G_smoothing: Gs = lerp(G, Gs, beta) after each generator update
    resume_kimg: float = 0.0  # the training progress assumed at the start: where the schedule begins


def lod_at(
    kimg: float,
    resolution_log2: int,
    initial_resolution: int = 4,
    training_kimg: float = 600.0,
    transition_kimg: float = 600.0,
) -> float:
    """The level of detail after ``kimg`` thousand real images (``TrainingSchedule`` of ``train.py``).

    Example:
        >>> [lod_at(k, 5) for k in (0, 600, 900, 1200, 1800, 5000)]  # 32x32: 4x4, fade 8x8 in, 8x8 ...
        [3.0, 3.0, 2.5, 2.0, 2.0, 0.0]
    """
    phase_dur = training_kimg + transition_kimg
    phase_idx = math.floor(kimg / phase_dur) if phase_dur > 0 else 0
    phase_kimg = kimg - phase_idx * phase_dur
    lod = resolution_log2 - math.floor(math.log2(initial_resolution)) - phase_idx
    if transition_kimg > 0:
        lod -= max(phase_kimg - training_kimg, 0.0) / transition_kimg
    return max(float(lod), 0.0)


def process_reals(images: torch.Tensor, lod: float) -> torch.Tensor:
    """Real images in [0, 1] as the networks see them at ``lod`` (``train.py``'s ``process_reals``), in [-1, 1].

    Example:
        >>> x = torch.rand(2, 1, 8, 8)
        >>> torch.equal(process_reals(x, 0.0), x * 2 - 1), process_reals(x, 1.0).shape
        (True, torch.Size([2, 1, 8, 8]))
    """
    x = images * 2.0 - 1.0
    factor = 2 ** math.floor(lod)
    x = downscale2d(x, factor)  # the dataset's level floor(lod), box-filtered as dataset_tool.py's mipmaps
    alpha = lod - math.floor(lod)
    if alpha > 0:  # FadeLOD: towards the 2x coarser image
        x = x + (upscale2d(downscale2d(x)) - x) * alpha
    return upscale2d(x, factor)  # UpscaleLOD


class ProGANTrainingStep(TrainingStep):
    """WGAN-GP with the drift term, Adam (0, 0.99) at 1e-3, growing 4x4 to the full resolution as ``train.py``.

    Example:
        >>> zoo_core.training.train("progan", "mnist5k", "runs/progan", steps=1000,
        ...     dataset_options={"size": 32}, config={"fmap_base": 1024, "fmap_max": 128})
    """

    params_class = ProGANParams
    default_batch_size = 16  # minibatch_base
    default_epochs = 1
    eval_metrics: tuple[str, ...] = ("fid-mnist",)
    eval_dataset = "mnist5k"
    eval_split = "test"
    dataset_kinds = ("images", "labelled")
    paper: dict[str, Any] = PAPER
    license = "mit"
    tags = ("gan", "progan")
    recipe = (
        "WGAN-GP lambda 10 with the drift term 0.001, Adam 1e-3 betas (0, 0.99), one critic update per generator "
        "update, grown from 4x4 with fade-in (lod_training_kimg / lod_transition_kimg per phase), "
        "as tkarras/progressive_growing_of_gans"
    )

    def __init__(self, model: ProGAN, train_config: Any, world_size: int = 1) -> None:
        super().__init__(model, train_config, world_size)
        if getattr(model, "discriminator", None) is None:
            raise ZooError(
                "This ProGAN holds a generator only (with_discriminator=false) and cannot be trained; "
                "train one with with_discriminator=true."
            )
        p, config = self.params, model.config
        if p.lod_initial_resolution & (p.lod_initial_resolution - 1) or p.lod_initial_resolution > config.resolution:
            raise ZooError(
                f"lod_initial_resolution must be a power of two from 4 to the resolution ({config.resolution}), "
                f"not {p.lod_initial_resolution}."
            )
        if p.lod_training_kimg + p.lod_transition_kimg <= 0:
            raise ZooError("lod_training_kimg and lod_transition_kimg cannot both be 0; give each phase some images.")
        if not trains_on_digits(train_config):
            self.eval_metrics = ()  # FID in a digit classifier's features says nothing about faces or photos
        if p.resume_kimg < 0:
            raise ZooError(f"resume_kimg is the progress assumed at the start, at least 0, not {p.resume_kimg:g}.")
        self.images_shown = round(p.resume_kimg * 1000)
        self.lod = self._scheduled_lod()

    def _scheduled_lod(self) -> float:
        p = self.params
        return lod_at(
            self.images_shown / 1000.0,
            self.model.config.resolution_log2,
            p.lod_initial_resolution,
            p.lod_training_kimg,
            p.lod_transition_kimg,
        )

    def input_spec(self) -> InputSpec:
        """``channels`` images of ``resolution`` x ``resolution``."""
        size = self.model.config.resolution
        return InputSpec(self.model.config.channels, (size, size), tuple(self.dataset_kinds))

    def check_dataset(self, dataset: Any) -> None:
        """The engine's checks, naming the resize for data of another size (``--dataset-option size=32``)."""
        self.check_square_size(dataset, self.model.config.resolution)
        super().check_dataset(dataset)

    def networks(self) -> dict[str, nn.Module]:
        return {"g": self.model.generator, "d": self.model.discriminator}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        p = self.params
        kwargs = {"lr": p.lr, "betas": (p.beta1, p.beta2), "eps": p.adam_epsilon}
        return {
            "d": torch.optim.Adam(self.model.discriminator.parameters(), **kwargs),
            "g": torch.optim.Adam(self.model.generator.parameters(), **kwargs),
        }

    def _advance_lod(self) -> None:
        """Set both networks' lod for this step; reset Adam's state when a level starts or ends fading in."""
        lod = self._scheduled_lod()
        new_level = math.floor(lod) != math.floor(self.lod) or math.ceil(lod) != math.ceil(self.lod)
        if self.params.reset_opt_for_new_lod and new_level:
            for opt in self.opts.values():
                opt.state.clear()
        self.lod = lod
        self.model.set_lod(lod)

    def train_step(self, batch: dict[str, Any], step: int) -> dict[str, torch.Tensor]:
        self._advance_lod()
        net_g, net_d = self.nets["g"], self.nets["d"]
        opt_g, opt_d = self.opts["g"], self.opts["d"]
        critic, latent, p = self.model.discriminator, self.model.config.latent, self.params
        real = process_reals(batch["image"], self.lod)
        n, group = real.shape[0], self.model.config.mbstd_group_size
        if group > 1 and n > group and n % group:  # an epoch's last, short batch: the stddev layer takes whole groups
            n -= n % group
            real = real[:n]

        # (1) the critic: WGAN-GP + drift
        opt_d.zero_grad()
        with torch.no_grad(), self.autocast():
            fake = net_g(self.global_randn(latent)[:n]).float()
        with self.autocast():
            real_scores, fake_scores = net_d(real).float(), net_d(fake).float()
        penalty, _ = gradient_penalty(net_d, real, fake, "mixed", 1.0, p.lambda_gp)
        drift = p.epsilon_drift * real_scores.pow(2).mean()
        wasserstein = real_scores.mean() - fake_scores.mean()
        loss_d = -wasserstein + penalty + drift
        self.global_loss(loss_d, "mean").backward()
        opt_d.step()

        # (2) the generator
        critic.requires_grad_(False)
        try:
            opt_g.zero_grad()
            with self.autocast():
                scores = net_d(net_g(self.global_randn(latent)[:n])).float()
            loss_g = -scores.mean()
            self.global_loss(loss_g, "mean").backward()
            opt_g.step()
        finally:
            critic.requires_grad_(True)
        if self.model.generator_ema is not None:
            self.model.update_ema(p.g_smoothing)
        self.images_shown += self.global_batch_size or real.shape[0]
        return {
            "loss_D": loss_d.detach(),
            "loss_G": loss_g.detach(),
            "gradient_penalty": penalty.detach(),
            "drift": drift.detach(),
            "wasserstein": wasserstein.detach(),
            "lod": self.lod,
            "kimg": self.images_shown / 1000.0,
        }

    def extra_state(self) -> dict[str, Any]:
        return {"images_shown": self.images_shown, "lod": self.lod}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        self.images_shown = int(state.get("images_shown", 0))
        self.lod = float(state.get("lod", self._scheduled_lod()))
        self.model.set_lod(self.lod)
