"""pix2pixHD's training step for ``zoo train``: one iteration of the reference's ``train.py`` / ``Pix2PixHDModel``.

Per batch (A = the network input, ``Pix2PixHD.network_input``; B = the target as the network
should produce it), as ``Pix2PixHDModel.forward`` and ``train.py`` do it:

1. ``fake = netG(A)``; the multiscale ``netD`` judges ``cat(A, fake.detach())`` (``D_fake``),
   ``cat(A, B)`` (``D_real``) and ``cat(A, fake)`` (``G_GAN``), each loss summed over the scales
   (least squares by default; ``no_lsgan``: binary cross-entropy on the logits).
2. ``G_GAN_Feat``: the feature-matching loss over every intermediate feature of every scale,
   ``lambda_feat`` 10 (off with the model's ``no_ganFeat_loss``); ``G_VGG``: ``lambda_feat`` times
   the reference's VGG19 perceptual loss, only with ``vgg_weights`` (below).
3. G step on ``G_GAN + G_GAN_Feat + G_VGG``, then D step on ``0.5 * (D_fake + D_real)``: the
   reference updates the generator first, from one forward pass; the discriminator's gradients of
   the G loss are cleared before its own step.

One process only (the reference's DataParallel order of passes is not DistributedDataParallel's). Adam, lr 2e-4,
betas (0.5, 0.999) for both; no image pool (``--pool_size 0``); batch 1. The learning
rate is constant for ``niter`` epochs and then falls by ``lr / niter_decay`` after each epoch, as
``update_learning_rate`` (100 + 100 by default; ``zoo train --epochs N`` without either splits N
in two halves). ``niter_fix_global`` (0 by default; the authors' 1024p run used 10): for that many
first epochs only the outermost local enhancer (``model{n_local_enhancers}_*``) is trained and the
rest of the generator is frozen; then the whole generator is, with a fresh Adam state (the
reference's ``update_fixed_params`` builds a new optimiser).

The VGG loss: the reference's ``VGGLoss`` needs torchvision's ImageNet VGG19, a download, which
is not possible here: it is off by default (the card's recipe says which losses were used).
``vgg_weights=PATH`` turns it on with a torchvision ``vgg19-dcbb9e9d.pth`` saved on disk, read
with ``torch.load(weights_only=True)`` and checked against the sha256 prefix in torchvision's
file name; as the reference, it compares relu1_1 ... relu5_1 of the [-1, 1] images (no ImageNet
normalisation), weighted 1/32, 1/16, 1/8, 1/4, 1.

Final metrics: ``l1``, ``psnr`` and ``ssim`` of ``translate`` on the dataset's ``test`` split, as
``pix2pix.colorize`` reports them, so that the two compare side by side.

Example:
    $ zoo train pix2pixhd --dataset photos-colorize --dataset-option crop_size=256 --config netG=local \\
          --config label_nc=0 --config input_nc=1 --config output_nc=2 --config color_space=lab \\
          --config no_instance=true --config image_size=256 --config ngf=16 --steps 3000 --out runs/p2phd
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.optim.lr_scheduler import LambdaLR
from zoo_pix2pix.training import Pix2PixTrainingStep

from zoo_core import ZooError
from zoo_core.layers import GANLoss
from zoo_core.training import StepParams
from zoo_core.training.step import TrainingStep

from .model import Pix2PixHD
from .networks import feature_matching_loss, multiscale_gan_loss

__all__ = ["HDLinearDecay", "Pix2PixHDParams", "Pix2PixHDTrainingStep", "VGGLoss"]


@dataclass
class Pix2PixHDParams(StepParams):
    """The reference's training options (``--lr 0.0002 --beta1 0.5 --lambda_feat 10 --niter 100 --niter_decay 100``).

    ``no_lsgan`` as the reference's flag; ``vgg_weights``: a torchvision VGG19 file to turn on the VGG loss
    (the reference's default; none here without it).
    """

    lr: float = 2e-4
    beta1: float = 0.5
    lambda_feat: float = 10.0
    no_lsgan: bool = False
    niter: int = 100
    niter_decay: int = 100
    niter_fix_global: int = 0
    vgg_weights: str = ""


@dataclass
class HDLinearDecay:
    """The reference's ``update_learning_rate``: the factor of the initial lr at LambdaLR epoch ``epoch`` (from 0).

    After every epoch ``k > niter`` (from 1) the lr falls by ``lr / niter_decay``: epochs 1 ... niter + 1 at ``lr``,
    epoch ``niter + 1 + m`` at ``lr * (1 - m / niter_decay)``.

    Example:
        >>> rule = HDLinearDecay(niter=100, niter_decay=100)
        >>> rule(0), rule(100), rule(101), rule(199)
        (1.0, 1.0, 0.99, 0.01)
    """

    niter: int = 100
    niter_decay: int = 100

    def __call__(self, epoch: int) -> float:
        if self.niter_decay <= 0:
            return 1.0
        return max(0.0, 1.0 - max(0, epoch - self.niter) / float(self.niter_decay))


class VGGLoss(nn.Module):
    """The reference's ``VGGLoss``: L1 between VGG19 relu1_1 ... relu5_1 features, weighted 1/32 ... 1.

    ``features`` is torchvision's ``vgg19().features`` (frozen); inputs as the generator's, in [-1, 1].

    Example:
        >>> loss = VGGLoss(torchvision.models.vgg19().features)(torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32))
    """

    weights = (1.0 / 32, 1.0 / 16, 1.0 / 8, 1.0 / 4, 1.0)
    cuts = (2, 7, 12, 21, 30)

    def __init__(self, features: nn.Module) -> None:
        super().__init__()
        self.slices = nn.ModuleList()
        start = 0
        for cut in self.cuts:
            self.slices.append(nn.Sequential(*[features[i] for i in range(start, cut)]))
            start = cut
        for parameter in self.parameters():
            parameter.requires_grad = False

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        loss = torch.zeros((), device=x.device)
        for weight, block in zip(self.weights, self.slices, strict=True):
            x, y = block(x), block(y)
            loss = loss + weight * F.l1_loss(x, y.detach())
        return loss


def load_vgg19_features(path: str) -> nn.Module:
    """torchvision's VGG19 ``features`` with the ImageNet weights of ``path`` (a ``vgg19-dcbb9e9d.pth`` on disk).

    The file's sha256 must start with the 8 hex digits torchvision puts in its name (``dcbb9e9d``), and it is read
    with ``torch.load(weights_only=True)`` (``zoo_core.checkpoints.read_checkpoint``).
    """
    from torchvision.models import vgg19

    from zoo_core.checkpoints import plain_state_dict, read_checkpoint
    from zoo_core.hub.verify import sha256_file

    file = Path(path)
    if not file.is_file():
        raise ZooError(f"No VGG19 weights at {file}; save torchvision's vgg19-dcbb9e9d.pth there or drop vgg_weights.")
    digest = sha256_file(file)
    if not digest.startswith("dcbb9e9d"):
        raise ZooError(
            f"{file} is not torchvision's ImageNet VGG19 (its sha256 starts {digest[:8]}, not dcbb9e9d); "
            "use the vgg19-dcbb9e9d.pth file torchvision publishes."
        )
    net = vgg19()
    state = plain_state_dict(read_checkpoint(file), what="torchvision VGG19", fix="use vgg19-dcbb9e9d.pth")
    net.load_state_dict(state, strict=True)
    return net.features.eval()


def _set_requires_grad(parameters: Any, flag: bool) -> None:
    for parameter in parameters:
        parameter.requires_grad = flag


class Pix2PixHDTrainingStep(Pix2PixTrainingStep):
    """Multiscale GAN + feature matching (+ VGG), generator first, as NVIDIA/pix2pixHD's ``train.py``.

    The data checks, the held-out grids and the evaluation are pix2pix's (``Pix2PixTrainingStep``): the
    same paired data (``photos-colorize``), the same metrics.

    Example:
        >>> zoo_core.training.train("pix2pixhd", "photos-colorize", "runs/p2phd", steps=10, dataset_options=
        ...     {"crop_size": 64}, config={"netG": "local", "label_nc": 0, "input_nc": 1, "no_instance": True,
        ...     "image_size": 64, "ngf": 8})
    """

    params_class = Pix2PixHDParams
    default_batch_size = 1
    default_epochs = 200  # --niter 100 --niter_decay 100
    paper: dict[str, Any] = {  # noqa: RUF012 (read-only class data)
        "title": "High-Resolution Image Synthesis and Semantic Manipulation with Conditional GANs",
        "authors": "Ting-Chun Wang, Ming-Yu Liu, Jun-Yan Zhu, Andrew Tao, Jan Kautz, Bryan Catanzaro",
        "year": 2018,
        "url": "https://arxiv.org/abs/1711.11585",
        "reference_code": "https://github.com/NVIDIA/pix2pixHD",
    }
    license = "mit"
    tags = ("gan",)

    def __init__(self, model: Pix2PixHD, train_config: Any, world_size: int = 1) -> None:
        TrainingStep.__init__(self, model, train_config, world_size)
        c, p = model.config, self.params
        if model.netD is None:
            raise ZooError(
                "This pix2pixHD model holds a generator only (with_discriminator=false) and cannot be trained; "
                "train one with with_discriminator=true."
            )
        if c.label_nc:
            raise ZooError(
                "zoo trains pix2pixHD on images (label_nc=0): no label-map data set is available offline; "
                "pass --config label_nc=0 --config no_instance=true with paired images such as photos-colorize."
            )
        given = dict(getattr(train_config, "step_config", None) or {})
        epochs = getattr(train_config, "epochs", None)
        if epochs and "niter" not in given and "niter_decay" not in given:
            p.niter, p.niter_decay = epochs // 2, epochs - epochs // 2
        if p.niter_fix_global and c.netG != "local":
            raise ZooError("niter_fix_global trains a local enhancer alone first; it needs --config netG=local.")
        if world_size > 1:
            raise ZooError(
                "pix2pixHD's step runs the discriminator three times before its two backward passes (and "
                "niter_fix_global changes what trains mid-run), as the reference's DataParallel code does, which "
                "DistributedDataParallel does not allow; train it in one process."
            )
        self.criterion = GANLoss("vanilla" if p.no_lsgan else "lsgan").to(self.device)
        self.vgg: VGGLoss | None = None
        if p.vgg_weights:
            if model.output_channels != 3 or c.color_space != "rgb":
                raise ZooError("The VGG loss compares RGB images; it needs color_space rgb and output_nc 3.")
            self.vgg = VGGLoss(load_vgg19_features(p.vgg_weights)).to(self.device)
        self.global_fixed = bool(p.niter_fix_global)
        losses = ["LSGAN" if not p.no_lsgan else "vanilla GAN", "multiscale D"]
        if not c.no_ganFeat_loss:
            losses.append(f"{p.lambda_feat:g} x D feature matching")
        losses.append(f"{p.lambda_feat:g} x VGG19" if self.vgg is not None else "no VGG loss (no weights offline)")
        fixed = f"; the local enhancer alone for {p.niter_fix_global} epochs" if p.niter_fix_global else ""
        self.recipe = (
            f"{', '.join(losses)}; Adam {p.lr:g}, betas ({p.beta1:g}, 0.999); lr constant for {p.niter} epochs, "
            f"then linear decay over {p.niter_decay}{fixed}; as NVIDIA/pix2pixHD"
        )
        self.description = describe(model, train_config, self.vgg is not None)
        self._sample_pairs = None

    # -- the recipe ----------------------------------------------------------------------
    def fixed_parameters(self) -> list[nn.Parameter]:
        """The generator's parameters frozen while ``niter_fix_global`` lasts: all but the outermost enhancer's."""
        outer = f"model{self.model.config.n_local_enhancers}_"
        return [p for name, p in self.model.netG.named_parameters() if not name.startswith(outer)]

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        betas = (self.params.beta1, 0.999)
        if self.global_fixed:
            _set_requires_grad(self.fixed_parameters(), False)
        return {
            "G": torch.optim.Adam(self.model.netG.parameters(), lr=self.params.lr, betas=betas),
            "D": torch.optim.Adam(self.model.netD.parameters(), lr=self.params.lr, betas=betas),
        }

    def schedulers(self) -> dict[str, Any]:
        p = self.params
        return {name: LambdaLR(opt, HDLinearDecay(p.niter, p.niter_decay)) for name, opt in self.opts.items()}

    def epoch(self) -> int:
        """The epoch being trained, from 0 (the epoch-interval scheduler's counter; 0 before any)."""
        scheduler = self.scheds.get("G")
        return int(scheduler.last_epoch) if scheduler is not None else 0

    def update_fixed_params(self) -> None:
        """The reference's ``update_fixed_params``: the whole generator trains on, with a fresh Adam state."""
        _set_requires_grad(self.model.netG.parameters(), True)
        self.opts["G"].state.clear()
        self.global_fixed = False

    def extra_state(self) -> dict[str, Any]:
        return {"global_fixed": self.global_fixed}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        self.global_fixed = bool(state.get("global_fixed", self.global_fixed))
        _set_requires_grad(self.fixed_parameters(), not self.global_fixed)

    def train_step(self, batch: dict[str, Any], step: int) -> dict[str, torch.Tensor]:
        if self.global_fixed and self.epoch() >= self.params.niter_fix_global:
            self.update_fixed_params()
        net_g, net_d = self.nets["G"], self.nets["D"]
        opt_g, opt_d = self.opts["G"], self.opts["D"]
        c, p = self.model.config, self.params
        real_a = self.model.network_input(batch["image"])
        real_b = self.model.network_target(batch["target"])
        with self.autocast():
            fake_b = net_g(real_a)
            pred_fake_pool = net_d(torch.cat((real_a, fake_b.detach()), 1))
            pred_real = net_d(torch.cat((real_a, real_b), 1))
            pred_fake = net_d(torch.cat((real_a, fake_b), 1))
        loss_d_fake = multiscale_gan_loss(self.criterion, pred_fake_pool, False)
        loss_d_real = multiscale_gan_loss(self.criterion, pred_real, True)
        loss_g_gan = multiscale_gan_loss(self.criterion, pred_fake, True)
        zero = torch.zeros((), device=loss_g_gan.device)
        loss_g_feat = zero
        if not c.no_ganFeat_loss:
            loss_g_feat = feature_matching_loss(pred_fake, pred_real, c.n_layers_D, p.lambda_feat)
        loss_g_vgg = zero
        if self.vgg is not None:
            loss_g_vgg = self.vgg(fake_b.float(), real_b.float()) * p.lambda_feat

        # G first, then D, from the one forward pass (train.py)
        opt_g.zero_grad()
        self.global_loss(loss_g_gan + loss_g_feat + loss_g_vgg, "mean").backward()
        opt_g.step()
        opt_d.zero_grad()
        self.global_loss((loss_d_fake + loss_d_real) * 0.5, "mean").backward()
        opt_d.step()
        logs = {"G_GAN": loss_g_gan.detach(), "D_real": loss_d_real.detach(), "D_fake": loss_d_fake.detach()}
        if not c.no_ganFeat_loss:
            logs["G_GAN_Feat"] = loss_g_feat.detach()
        if self.vgg is not None:
            logs["G_VGG"] = loss_g_vgg.detach()
        return logs


def describe(model: Pix2PixHD, train_config: Any, vgg: bool) -> str:
    """The registry description of a model this step trains.

    Example:
        >>> describe(model, TrainConfig("pix2pixhd", "photos-colorize", "runs/x"), vgg=False)
        'pix2pixHD (NVIDIA/pix2pixHD): 1 local enhancer(s) (ngf 16, 3 blocks) on a global generator (32 wide, ...'
    """
    c = model.config
    if c.netG == "local":
        gen = (
            f"{c.n_local_enhancers} local enhancer(s) (ngf {c.ngf}, {c.n_blocks_local} blocks) on a global "
            f"generator ({c.ngf * 2**c.n_local_enhancers} wide, {c.n_downsample_global} downsamplings, "
            f"{c.n_blocks_global} blocks)"
        )
    else:
        gen = f"a global generator (ngf {c.ngf}, {c.n_downsample_global} downsamplings, {c.n_blocks_global} blocks)"
    if c.color_space == "lab":
        what = "grey photos in, colour out (the L channel to a, b, as pix2pix's colorization model)"
    else:
        what = f"{c.input_nc} to {c.output_nc} channels"
    dataset = str(getattr(train_config, "dataset", "") or "its data")
    return (
        f"pix2pixHD (NVIDIA/pix2pixHD): {gen}, {c.norm} norm; {c.num_D} multiscale PatchGANs; {what}; "
        f"{'with' if vgg else 'without'} the VGG loss; trained on {dataset} with `zoo train`."
    )
