"""SRGAN's two training stages for ``zoo train``, as Lornatang/SRGAN-PyTorch's scripts and configs run them.

Data: pairs ``{"image": LR, "target": HR}`` of 96x96 HR crops and their bicubic x4 LR, as the
offline ``photos`` data set serves them (``--dataset-option scale=2`` for a x2 model).

- Both stages augment each batch as the reference's scripts do: a random rotation by a multiple
  of 90 degrees and random vertical and horizontal flips (``--train-config augment=false`` to skip).
- Stage ``srresnet`` (the default for a generator-only model): the generator alone, pixel MSE
  between SR and HR; Adam lr 1e-4, betas (0.9, 0.999), batch 16 (``SRResNet_x4-ImageNet.yaml``).
- Stage ``srgan`` (the default when the model has a discriminator, ``--config
  with_discriminator=true``): per batch, first the generator with D's parameters left alone,
  ``MSE + 1.0 x VGG19 features.35 MSE + 1e-3 x BCE-with-logits(D(SR), real)``; then D with
  BCE-with-logits on HR (real) and the detached SR (fake). Adam 1e-4 for both, and both learning
  rates halved at the midpoint of the run (``MultiStepLR(milestones=[9], gamma=0.5)`` over 18
  epochs in ``SRGAN_x4-ImageNet.yaml``; here at ``lr_decay_at`` of the steps). The generator
  starts from an SRResNet: ``--train-config init_from=FOLDER`` (a Hub-layout folder, e.g.
  ``runs/srresnet/model``, a registry name such as ``srgan.x4_photos``, or a goodfellowliu
  ``.pth.tar``); ``init_discriminator_from=FILE`` starts D from a ``DiscriminatorForVGG_x*``
  file. The VGG19 weights cannot be downloaded here: ``--train-config vgg_weights=PATH`` (a
  safetensors file of torchvision's vgg19 ``features.*``), without which the stage stops at
  once with one sentence.

Short budgets: the reference trains for hundreds of thousands of updates at 1e-4; ``lr``,
``lr_decay_at`` (a fraction of the steps) and ``lr_decay`` (the factor) make a schedule for a few
thousand (``srgan.x4_photos``: 1e-3, then 1e-4 after 70 % of 2,200 steps).

Two deliberate differences from the reference's scripts: its ``train_gan.py`` (commit 0d2e0b1)
hands its ``train()`` the generator's optimiser twice, so its discriminator is never stepped
(here D has its own Adam, as the paper trains it); and its weight EMA is left out (its
``avg_fn`` keeps 0.001 of the average and 0.999 of the current weights, which is no averaging).

Logged: ``loss_pixel`` and the batch ``psnr`` (stage srresnet); ``loss_G``, ``loss_pixel``,
``loss_content``, ``loss_adversarial``, ``loss_D``, ``D_real`` and ``D_fake`` (mean sigmoid of
D's logits; stage srgan).

Final metrics: ``psnr-y`` and ``ssim-y`` on the Y channel with a border crop equal to the scale
(4 pixels at x4), on the held-out whole photos (the dataset's ``test`` split), and the same two
for bicubic upscaling of the same inputs (``psnr-y-bicubic``, ``ssim-y-bicubic``), the baseline
the model must beat.

Example:
    $ zoo train srgan --dataset photos --out runs/srresnet-x4 --steps 600
    $ zoo train srgan --dataset photos --out runs/srgan-x4 --config with_discriminator=true \\
          --train-config init_from=runs/srresnet-x4/model --train-config vgg_weights=vgg19.safetensors
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from zoo_core import ZooError
from zoo_core.training import StepParams, TrainingStep
from zoo_core.training.step import InputSpec

from .model import SRGAN

__all__ = ["STAGES", "SRGANParams", "SRGANTrainingStep", "initial_weights"]

STAGES = ("srresnet", "srgan")
PAPER: dict[str, Any] = {
    "title": "Photo-Realistic Single Image Super-Resolution Using a Generative Adversarial Network",
    "authors": "Christian Ledig, Lucas Theis, Ferenc Huszár, Jose Caballero, Andrew Cunningham, Alejandro Acosta, "
    "Andrew Aitken, Alykhan Tejani, Johannes Totz, Zehan Wang, Wenzhe Shi",
    "year": 2017,
    "url": "https://arxiv.org/abs/1609.04802",
    "reference_code": "https://github.com/Lornatang/SRGAN-PyTorch",
}
_SR_METRICS = ("psnr-y", "ssim-y", "psnr-y-bicubic", "ssim-y-bicubic")
_CHECKPOINT_SUFFIXES = (".pth", ".tar", ".pt", ".bin", ".ckpt", ".safetensors")


@dataclass
class SRGANParams(StepParams):
    """The reference's hyper-parameters (``--train-config key=value``).

    ``stage``: ``srresnet`` or ``srgan`` (empty: ``srgan`` when the model has a discriminator).
    """

    stage: str = ""
    #: Adam's learning rate, for G and D
    lr: float = 1e-4
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    pixel_weight: float = 1.0
    content_weight: float = 1.0
    adversarial_weight: float = 1e-3
    #: when the learning rates are multiplied by ``lr_decay``, as a fraction of the run's steps (None: stage srgan
    #: at 0.5, the reference's MultiStepLR; stage srresnet never, the reference has no schedule there)
    lr_decay_at: float | None = None
    lr_decay: float = 0.5
    augment: bool = True
    vgg_weights: str = ""
    init_from: str = ""
    init_discriminator_from: str = ""


def _foreign_file(source: str) -> Path | None:
    path = Path(source).expanduser()
    return path if path.is_file() and path.name.lower().endswith(_CHECKPOINT_SUFFIXES) else None


def initial_weights(source: str, model: SRGAN) -> dict[str, torch.Tensor]:
    """``generator.*`` (and ``discriminator.*``) tensors to start from: a model folder, a registry name or a file.

    A file (``.pth.tar`` ...) is read with ``zoo_core.checkpoints.read_checkpoint`` and recognised as
    an SRResNet generator or a DiscriminatorForVGG in Lornatang's layout; anything else is given
    to ``zoo_core.load`` (a Hub-layout folder or a registry name). Shapes are checked against
    ``model``'s config and a mismatch names the ``--config`` values the source has.

    Example:
        >>> sorted({k.split(".")[0] for k in initial_weights("runs/srresnet/model", model)})
        ['generator']
    """
    from .convert import checkpoint_kind, discriminator_config, generator_config, plain_state_dict

    file = _foreign_file(source)
    if file is not None:
        from zoo_core.checkpoints import read_checkpoint

        state = plain_state_dict(read_checkpoint(file), str(file))
        prefix = f"{checkpoint_kind(state, str(file))}."
        state = {prefix + key: value for key, value in state.items()}
    else:
        import zoo_core

        try:
            loaded = zoo_core.load(source)
        except ZooError as exc:
            raise ZooError(f"Cannot start from {source!r}: {exc}") from exc
        if getattr(loaded, "architecture", "") != "srgan":
            raise ZooError(f"{source!r} holds a {loaded.architecture!r} model, not an srgan one to start from.")
        state = {k: v.detach().clone() for k, v in loaded.state_dict().items()}
    config = model.config
    generator = {k.removeprefix("generator."): v for k, v in state.items() if k.startswith("generator.")}
    discriminator = {k.removeprefix("discriminator."): v for k, v in state.items() if k.startswith("discriminator.")}
    found: dict[str, int] = {}
    if generator:
        found |= generator_config(generator)
    if discriminator and model.discriminator is not None:
        found |= discriminator_config(discriminator)
    wrong = [f"{key}={value}" for key, value in found.items() if getattr(config, key) != value]
    if wrong:
        raise ZooError(
            f"{source} holds an SRGAN with {', '.join(f'{k}={v}' for k, v in found.items())}; "
            f"train with --config {' --config '.join(wrong)}."
        )
    return state


class SRGANTrainingStep(TrainingStep):
    """Stage ``srresnet`` (pixel MSE) or ``srgan`` (MSE + VGG + adversarial, and D), see the module docstring.

    Example:
        >>> zoo_core.training.train("srgan", "photos", "runs/srresnet", steps=600)
    """

    params_class = SRGANParams
    default_batch_size = 16
    default_epochs = 90  # SRResNet's; pass --epochs 18 (or --steps) for the GAN stage
    eval_metrics: tuple[str, ...] = _SR_METRICS
    eval_split = "test"
    dataset_kinds = ("paired",)
    scheduler_interval = "step"
    paper = PAPER
    license = "mit"
    tags = ("super-resolution",)

    def __init__(self, model: SRGAN, train_config: Any, world_size: int = 1) -> None:
        super().__init__(model, train_config, world_size)
        p = self.params
        stage = p.stage or ("srgan" if model.discriminator is not None else "srresnet")
        if stage not in STAGES:
            raise ZooError(f"The SRGAN stage must be srresnet or srgan, not {p.stage!r}.")
        if stage == "srgan" and model.discriminator is None:
            raise ZooError(
                "The srgan stage trains a discriminator too; pass --config with_discriminator=true "
                "(and start the generator from an SRResNet with --train-config init_from=FOLDER)."
            )
        if p.lr_decay_at is not None and not 0.0 < p.lr_decay_at < 1.0:
            raise ZooError(f"lr_decay_at is a fraction of the run's steps (between 0 and 1), not {p.lr_decay_at!r}.")
        self.lr_decay_at = p.lr_decay_at if p.lr_decay_at is not None else (0.5 if stage == "srgan" else None)
        self.stage = stage
        self.content_loss: nn.Module | None = None
        if stage == "srgan":
            from .losses import VGGContentLoss

            self.content_loss = VGGContentLoss.from_file(p.vgg_weights).to(self.device)
        self.initialised_from = self._initialise()
        # the SR papers' protocol: a border crop of `scale` pixels, for the model and for bicubic alike
        self.eval_metric_options = {
            "psnr-y": {"crop_border": model.scale},
            "ssim-y": {"crop_border": model.scale},
            "psnr-y-bicubic": {"scale": model.scale},
            "ssim-y-bicubic": {"scale": model.scale},
        }
        s = model.scale
        dataset = str(getattr(train_config, "dataset", "")).partition(":")[0]
        if stage == "srresnet":
            self.recipe = f"stage srresnet: pixel MSE, Adam {p.lr:g} betas ({p.beta1:g}, {p.beta2:g})"
            what = f"SRResNet x{s} (the MSE-trained generator of SRGAN, Ledig et al. 2017)"
        else:
            self.recipe = (
                f"stage srgan: MSE + {p.content_weight:g} x VGG19 features.35 MSE + {p.adversarial_weight:g} x "
                f"BCE-with-logits adversarial, D with BCE; Adam {p.lr:g} betas ({p.beta1:g}, {p.beta2:g})"
            )
            what = f"SRGAN x{s} (Ledig et al. 2017: SRResNet fine-tuned with VGG and adversarial losses)"
            self.tags = ("super-resolution", "gan")
        if self.lr_decay_at is not None:
            self.recipe += f", learning rate x{p.lr_decay:g} after {self.lr_decay_at:g} of the steps"
        self.recipe += "; random 90-degree turns and flips" if p.augment else ""
        self.description = (
            f"{what} in Lornatang/SRGAN-PyTorch's layout, trained with `zoo train` on {dataset}"
            f"{' (generator only)' if model.discriminator is None else ''}."
        )
        self._per_epoch = 0
        self._preview: tuple[torch.Tensor, torch.Tensor] | None = None

    def _initialise(self) -> list[str]:
        """Apply ``init_from`` / ``init_discriminator_from``; the parts that were loaded."""
        p, model, loaded = self.params, self.model, []
        if p.init_from:
            state = initial_weights(p.init_from, model)
            parts = {"generator": model.generator, "discriminator": model.discriminator}
            for name, module in parts.items():
                own = {k.removeprefix(f"{name}."): v for k, v in state.items() if k.startswith(f"{name}.")}
                if own and module is not None and not (name == "discriminator" and p.init_discriminator_from):
                    module.load_state_dict({k: v.to(self.device) for k, v in own.items()}, strict=True)
                    loaded.append(name)
            if "generator" not in loaded:
                raise ZooError(f"{p.init_from} holds no generator to start from.")
        if p.init_discriminator_from:
            if model.discriminator is None:
                raise ZooError("init_discriminator_from needs a model with a discriminator (with_discriminator=true).")
            from zoo_core.checkpoints import read_checkpoint

            from .convert import discriminator_state

            file = _foreign_file(p.init_discriminator_from)
            if file is not None:
                state = discriminator_state(read_checkpoint(file), model.config.to_dict())
            else:
                state = initial_weights(p.init_discriminator_from, model)
            own = {k.removeprefix("discriminator."): v for k, v in state.items() if k.startswith("discriminator.")}
            if not own:
                raise ZooError(f"{p.init_discriminator_from} holds no discriminator to start from.")
            model.discriminator.load_state_dict({k: v.to(self.device) for k, v in own.items()}, strict=True)
            loaded.append("discriminator")
        return loaded

    # -- data --------------------------------------------------------------------------------
    def input_spec(self) -> InputSpec:
        return InputSpec(self.model.config.channels, None, tuple(self.dataset_kinds))

    def check_dataset(self, dataset: Any) -> None:
        """Paired LR / HR data of the model's scale; the GAN stage also needs HR crops of D's size.

        Example:
            >>> step.check_dataset(load_dataset("photos", scale=2))  # for a x4 model
            ZooError: The dataset 'photos' pairs x2 LR images with their HR ones; this srgan upscales x4: ...
        """
        super().check_dataset(dataset)
        name = getattr(dataset, "name", "") or type(dataset).__name__
        s = self.model.scale
        low, high = getattr(dataset, "image_size", None), getattr(dataset, "target_size", None)
        scale = getattr(dataset, "scale", None)
        if scale is None and low and high:
            scale = high[0] // low[0]
        if scale is not None and scale != s:
            raise ZooError(
                f"The dataset {name!r} pairs x{scale} LR images with their HR ones; this srgan upscales x{s}: "
                f"pass --dataset-option scale={s} or --config upscale_factor={scale}."
            )
        size = self.model.config.discriminator_size
        if self.stage == "srgan" and high and tuple(high) != (size, size):
            raise ZooError(
                f"The dataset {name!r} has {high[0]}x{high[1]} HR crops but the SRGAN discriminator takes "
                f"{size}x{size}; pass --dataset-option crop_size={size} or --config discriminator_size={high[0]}."
            )
        from zoo_core.training.batches import batches_per_epoch

        batch = self.train_config.batch_size or self.default_batch_size
        self._per_epoch = batches_per_epoch(len(dataset), batch, self.world_size)

    # -- networks ------------------------------------------------------------------------------
    def networks(self) -> dict[str, nn.Module]:
        nets = {"g": self.model.generator}
        if self.stage == "srgan":
            nets["d"] = self.model.discriminator
        return nets

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        p = self.params
        options = {"lr": p.lr, "betas": (p.beta1, p.beta2), "eps": p.eps}
        opts = {"g": torch.optim.Adam(self.model.generator.parameters(), **options)}
        if self.stage == "srgan":
            opts["d"] = torch.optim.Adam(self.model.discriminator.parameters(), **options)
        return opts

    def total_steps(self) -> int:
        """The run's length in steps (``--steps``, else epochs x batches per epoch)."""
        cfg = self.train_config
        if cfg.steps is not None:
            return int(cfg.steps)
        return int((cfg.epochs or self.default_epochs) * self._per_epoch)

    def schedulers(self) -> dict[str, Any]:
        if self.lr_decay_at is None:
            return {}
        milestone = max(1, round(self.total_steps() * self.lr_decay_at))
        return {
            name: torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[milestone], gamma=self.params.lr_decay)
            for name, opt in self.opts.items()
        }

    # -- one step ------------------------------------------------------------------------------
    def augment(self, low: torch.Tensor, high: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The reference's batch augmentation: one random rotation by 0, 90, 180 or 270 degrees, then a vertical
        and a horizontal flip each with probability 1/2, the same for LR and HR and for the whole global batch.

        Drawn from torch's global generator (restored on resume; in step across processes, which draw alike).
        """
        turns = int(torch.randint(0, 4, (1,)))
        flips = torch.rand(2)
        if low.shape[-1] != low.shape[-2]:
            turns -= turns % 2  # a quarter turn would change the shape of a non-square crop
        pairs = [low, high]
        if turns:
            pairs = [t.rot90(turns, dims=(-2, -1)) for t in pairs]
        for flip, dim in zip(flips.tolist(), (-2, -1), strict=True):
            if flip < 0.5:
                pairs = [t.flip(dim) for t in pairs]
        return pairs[0].contiguous(), pairs[1].contiguous()

    def train_step(self, batch: dict[str, Any], step: int) -> dict[str, torch.Tensor]:
        low, high = batch["image"], batch["target"]
        if self.params.augment:
            low, high = self.augment(low, high)
        if self.stage == "srresnet":
            return self._srresnet_step(low, high)
        return self._srgan_step(low, high)

    def _srresnet_step(self, low: torch.Tensor, high: torch.Tensor) -> dict[str, torch.Tensor]:
        opt_g = self.opts["g"]
        opt_g.zero_grad(set_to_none=True)
        with self.autocast():
            sr = self.nets["g"](low)
        pixel = F.mse_loss(sr.float(), high)
        self.global_loss(self.params.pixel_weight * pixel, "mean").backward()
        opt_g.step()
        pixel = pixel.detach()
        return {"loss_pixel": pixel, "psnr": -10.0 * torch.log10(pixel.clamp_min(1e-12))}

    def _srgan_step(self, low: torch.Tensor, high: torch.Tensor) -> dict[str, torch.Tensor]:
        p = self.params
        net_g, net_d = self.nets["g"], self.nets["d"]
        opt_g, opt_d = self.opts["g"], self.opts["d"]
        assert self.content_loss is not None
        real = torch.ones(high.shape[0], 1, device=high.device)
        fake = torch.zeros_like(real)

        # (1) the generator; D's gradients from this pass are discarded below (the reference freezes them)
        opt_g.zero_grad(set_to_none=True)
        with self.autocast():
            sr = net_g(low)
            content = self.content_loss(sr, high)
            fake_logits = net_d(sr)
        pixel = F.mse_loss(sr.float(), high)
        adversarial = F.binary_cross_entropy_with_logits(fake_logits.float(), real)
        loss_g = p.pixel_weight * pixel + p.content_weight * content.float() + p.adversarial_weight * adversarial
        self.global_loss(loss_g, "mean").backward()
        opt_g.step()

        # (2) the discriminator: HR is real, the (detached) SR fake
        opt_d.zero_grad(set_to_none=True)
        with self.autocast():
            real_logits = net_d(high)
        loss_real = F.binary_cross_entropy_with_logits(real_logits.float(), real)
        self.global_loss(loss_real, "mean").backward()
        with self.autocast():
            sr_logits = net_d(sr.detach())
        loss_fake = F.binary_cross_entropy_with_logits(sr_logits.float(), fake)
        self.global_loss(loss_fake, "mean").backward()
        opt_d.step()
        return {
            "loss_G": loss_g.detach(),
            "loss_pixel": pixel.detach(),
            "loss_content": content.detach().float(),
            "loss_adversarial": adversarial.detach(),
            "loss_D": (loss_real + loss_fake).detach(),
            "D_real": torch.sigmoid(real_logits.detach().float()).mean(),
            "D_fake": torch.sigmoid(fake_logits.detach().float()).mean(),
        }

    # -- pictures for the logs and the card ----------------------------------------------------
    def _preview_pairs(self, count: int = 3, side: int = 32) -> tuple[torch.Tensor, torch.Tensor] | None:
        """Centre crops (LR ``side`` px, HR ``side x scale``) of the first held-out images, or None."""
        if self._preview is None:
            from zoo_core.data import load_dataset

            cfg = self.train_config
            try:
                data = load_dataset(cfg.dataset, split=self.eval_split, **(cfg.dataset_options or {}))
                items = [data[i] for i in range(min(count, len(data)))]
            except (ZooError, OSError, IndexError, KeyError):
                return None
            s, lows, highs = self.model.scale, [], []
            for item in items:
                low, high = item.get("image"), item.get("target")
                if low is None or high is None or min(low.shape[-2:]) < side:
                    continue
                top, left = (low.shape[-2] - side) // 2, (low.shape[-1] - side) // 2
                lows.append(low[:, top : top + side, left : left + side])
                highs.append(high[:, top * s : (top + side) * s, left * s : (left + side) * s])
            if not lows:
                return None
            self._preview = (torch.stack(lows), torch.stack(highs))
        return self._preview

    def samples(self, n: int, seed: int) -> torch.Tensor | None:
        """Rows of bicubic | SR | HR for centre crops of held-out images (LR 32x32), for the grids and the card."""
        from .metrics import bicubic_upscale

        pairs = self._preview_pairs()
        if pairs is None:
            return None
        lows, highs = pairs
        s = self.model.scale
        sr = self.model.translate(lows).cpu()
        bicubic = torch.stack([bicubic_upscale(low, s) for low in lows])
        rows = [torch.stack(triple) for triple in zip(bicubic, sr, highs.float(), strict=True)]
        return torch.cat(rows).clamp(0, 1)
