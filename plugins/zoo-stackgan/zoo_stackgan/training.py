"""StackGAN's training step for ``zoo train``: the loop of hanzhanggit/StackGAN-Pytorch ``code/trainer.py``.

Per batch (real images mapped from [0, 1] to [-1, 1]; captions embedded by the frozen text
encoder, without gradients, into the 1024-d embeddings the reference reads from disk):

1. z ~ N(0, I) ``(B, z_dim)`` and the CA noise; ``_, fake, mu, logvar = G(embedding, z)``.
2. D step (``compute_discriminator_loss``), with cond = mu.detach() and BCE on D's sigmoid
   outputs: real (real image, its cond) against 1; *wrong* (real images ``[:B-1]`` paired with
   the next items' cond ``[1:]``: mismatched text) against 0; fake (fake.detach(), cond) against 0.
   Stage I: ``errD = real + (fake + wrong) / 2``. Stage II adds the unconditional head on real and
   fake images: ``errD = (real + uncond_real) / 2 + (fake + wrong + uncond_fake) / 3``. Adam on D.
3. G step (``compute_generator_loss``): BCE of D's conditional logits on (fake, cond) against 1
   (stage II: plus the unconditional one), plus ``kl_coeff`` (2.0) x ``KL_loss(mu, logvar)``, the
   reference's KL mean over the batch and the condition dimensions. Adam on G's trainable
   parameters.

Adam lr 2e-4 for both, betas (0.5, 0.999); both learning rates halved every ``lr_decay_epoch``
(20) epochs: epoch k (from 0) trains at ``lr * 0.5 ** (k // 20)``, as the reference's
``if epoch % lr_decay_step == 0 and epoch > 0``. Init N(0, 0.02) (``weights_init``). Logged:
``loss_D``, ``loss_D_real``, ``loss_D_wrong``, ``loss_D_fake`` (stage II: the halves averaged
with the unconditional terms, as the reference logs them), ``loss_G`` (without KL), ``loss_KL``.

Stage II (``--config stage=2``) trains on top of a frozen stage I: ``--train-config
stage1=FOLDER`` names a trained stage-I model (``runs/stackgan-s1/model``); its generator is
copied into ``generator.STAGE1_G``, whose parameters never train (``requires_grad=False``,
left out of G's optimiser, as the reference) and which stays in eval mode (beyond the
reference, see ``zoo_stackgan.networks.Stage2Generator``); its text encoder is used unless
``text_encoder`` names one (then it must be the same one).

The text encoder (``--train-config text_encoder=FOLDER``, a trained ``stackgan-text`` model,
e.g. ``runs/stackgan-text/model``) is copied into the model (``text_encoder.*``, its config in
``config.text_encoder``), so that the published model reads captions on its own:
``model.sample(n, text="a thick seven")``.

Final metrics (on ``mnist5k-captions`` only): ``fid-mnist`` and ``digit-agreement`` for one
image per caption of the 500 held-out digits, against those digits at 28x28.

Distributed runs: z and eps come from ``global_randn`` and the mean BCE losses go through
``global_loss(.., "mean")``; the wrong pairs are formed within each process's shard (B - N
pairs in all instead of B - 1), and BatchNorm statistics are per shard.

Example:
    $ zoo train stackgan --dataset mnist5k-captions --dataset-option size=32 --out runs/stackgan-s1 \\
          --config stage=1 --config channels=1 --config stage1_size=32 --config gf_dim=16 --config df_dim=16 \\
          --train-config text_encoder=runs/stackgan-text/model
    $ zoo train stackgan --dataset mnist5k-captions --dataset-option size=64 --out runs/stackgan-s2 \\
          --config stage=2 --config channels=1 --config stage1_size=32 --config stage2_size=64 \\
          --config gf_dim=16 --config df_dim=16 --train-config stage1=runs/stackgan-s1/model
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from zoo_core import ZooError
from zoo_core.training import StepParams, TrainingStep
from zoo_core.training.step import InputSpec

from .model import StackGAN

__all__ = ["FALLBACK_CAPTIONS", "KL_loss", "StackGANParams", "StackGANTrainingStep"]

#: captions of the sample grids when the data gives none (one per digit)
FALLBACK_CAPTIONS = (
    "a zero",
    "a one",
    "a two",
    "a three",
    "a four",
    "a five",
    "a six",
    "a seven",
    "an eight",
    "a nine",
)
#: how many training items are read to find the sample grids' captions
_CAPTION_SCAN = 400


def KL_loss(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """The reference's ``KL_loss``: ``-0.5 * mean(1 + logvar - mu^2 - exp(logvar))`` over all elements.

    Example:
        >>> KL_loss(torch.zeros(4, 128), torch.zeros(4, 128))
        tensor(0.)
    """
    return -0.5 * torch.mean(1 + logvar - mu.pow(2) - logvar.exp())


@dataclass
class StackGANParams(StepParams):
    """The reference's hyper-parameters (``--train-config key=value``), and where the frozen parts come from.

    ``text_encoder``: a trained ``stackgan-text`` model (folder or registry name); required for
    stage I, optional for stage II (default: the stage-I model's). ``stage1``: a trained stage-I
    ``stackgan`` model, required for stage II.
    """

    lr_g: float = 2e-4
    lr_d: float = 2e-4
    beta1: float = 0.5
    kl_coeff: float = 2.0
    lr_decay_epoch: int = 20
    text_encoder: str = ""
    stage1: str = ""


def _load(source: str, what: str) -> Any:
    import zoo_core

    try:
        return zoo_core.load(source)
    except ZooError as exc:
        raise ZooError(f"Cannot load the {what} {source!r}: {str(exc).rstrip('.')}.") from exc


class _DiscriminatorTerms(nn.Module):
    """D's probabilities for the reference's loss terms, in one forward (the one DDP must see).

    ``forward(real, fake, cond)``: D on the real images (when given) and then on the fake ones
    (two passes, so BatchNorm sees them apart, as the reference's two calls), then the
    conditional head on (real, cond), (real[:-1], cond[1:]) (wrong) and (fake, cond), and the
    unconditional head (stage II) on real and fake.
    """

    def __init__(self, discriminator: nn.Module) -> None:
        super().__init__()
        self.discriminator = discriminator

    def forward(self, real: torch.Tensor | None, fake: torch.Tensor, cond: torch.Tensor) -> dict[str, torch.Tensor]:
        d = self.discriminator
        out: dict[str, torch.Tensor] = {}
        if real is not None:
            real_features = d(real)
            out["real"] = d.get_cond_logits(real_features, cond)
            out["wrong"] = d.get_cond_logits(real_features[:-1], cond[1:])
        fake_features = d(fake)
        out["fake"] = d.get_cond_logits(fake_features, cond)
        if d.get_uncond_logits is not None:
            if real is not None:
                out["real_uncond"] = d.get_uncond_logits(real_features)
            out["fake_uncond"] = d.get_uncond_logits(fake_features)
        return out


def _bce(probabilities: torch.Tensor, target: float) -> torch.Tensor:
    # binary_cross_entropy is unsafe under bf16 autocast: in float32, outside it
    probabilities = probabilities.float()
    return F.binary_cross_entropy(probabilities, torch.full_like(probabilities, target))


class StackGANTrainingStep(TrainingStep):
    """Stage I or stage II of StackGAN, as the reference's ``GANTrainer.train`` (see the module docstring).

    Example:
        >>> zoo_core.training.train("stackgan", "mnist5k-captions", "runs/stackgan-s1", epochs=60,
        ...     dataset_options={"size": 32}, config={"channels": 1, "stage1_size": 32, "gf_dim": 16, "df_dim": 16},
        ...     step_config={"text_encoder": "runs/stackgan-text/model"})
    """

    params_class = StackGANParams
    default_batch_size = 64  # the reference's TRAIN.BATCH_SIZE default (COCO: 128 for stage I, 40 for stage II)
    default_epochs = 120  # COCO stage I's MAX_EPOCH (stage II: 100)
    #: on mnist5k-captions: FID-MNIST and how often the digit classifier reads the digit each caption names,
    #: for one image per held-out caption (the 28x28 digits as the real set)
    eval_metrics: tuple[str, ...] = ("fid-mnist", "digit-agreement")
    eval_dataset = "mnist5k-captions"
    eval_split = "test"
    dataset_kinds = ("captioned",)
    scheduler_interval = "epoch"
    paper: dict[str, Any] = {  # noqa: RUF012 (read-only class data)
        "title": "StackGAN: Text to Photo-realistic Image Synthesis with Stacked Generative Adversarial Networks",
        "authors": "Han Zhang, Tao Xu, Hongsheng Li, Shaoting Zhang, Xiaogang Wang, Xiaolei Huang, Dimitris Metaxas",
        "year": 2017,
        "url": "https://arxiv.org/abs/1612.03242",
        "reference_code": "https://github.com/hanzhanggit/StackGAN-Pytorch",
    }
    license = "mit"
    tags = ("gan", "text-to-image")

    def __init__(self, model: StackGAN, train_config: Any, world_size: int = 1) -> None:
        super().__init__(model, train_config, world_size)
        p = self.params
        if getattr(model, "discriminator", None) is None:
            raise ZooError(
                "This StackGAN holds a generator only (with_discriminator=false) and cannot be trained; "
                "train one with with_discriminator=true."
            )
        if isinstance(p.lr_decay_epoch, bool) or not isinstance(p.lr_decay_epoch, int) or p.lr_decay_epoch < 1:
            raise ZooError(f"lr_decay_epoch must be a positive number of epochs, not {p.lr_decay_epoch!r}.")
        if str(getattr(train_config, "dataset", "")).partition(":")[0] != "mnist5k-captions":
            self.eval_metrics = ()  # digit metrics say nothing about other captioned images
        self.stage = model.config.stage
        if self.stage == 2:
            self._load_stage1()
        elif p.stage1:
            raise ZooError("stage1 is for stage II (--config stage=2); a stage-I StackGAN trains on its own.")
        if p.text_encoder:
            self._load_text_encoder(p.text_encoder)
        if model.text_encoder is None:
            raise ZooError(
                "StackGAN trains on text embeddings of its captions: pass --train-config text_encoder=FOLDER, "
                "a trained stackgan-text model (e.g. runs/stackgan-text/model from `zoo train stackgan-text`)."
            )
        self.captions: list[str] = list(FALLBACK_CAPTIONS)
        dataset = str(getattr(train_config, "dataset", "")).partition(":")[0]
        c = model.config
        self.description = (
            f"StackGAN stage {'I' if self.stage == 1 else 'II'} (Zhang et al. 2017) as hanzhanggit/StackGAN-Pytorch, "
            f"{model.image_size}x{model.image_size} from text"
            + (f" on top of a frozen {c.stage1_size}x{c.stage1_size} stage I" if self.stage == 2 else "")
            + f", trained with `zoo train` on {dataset}; it reads captions with its own char-CNN-RNN text encoder."
        )
        self.recipe = (
            "real / wrong / fake BCE for D"
            + (" plus unconditional real / fake" if self.stage == 2 else "")
            + f", G's BCE + {p.kl_coeff:g} x KL; Adam (G {p.lr_g:g}, D {p.lr_d:g}) betas ({p.beta1:g}, 0.999), "
            f"halved every {p.lr_decay_epoch} epochs"
        )

    # -- the frozen parts ----------------------------------------------------------------------
    def _load_text_encoder(self, source: str) -> None:
        loaded = _load(source, "text encoder")
        if getattr(loaded, "architecture", "") != "stackgan-text":
            raise ZooError(
                f"{source!r} holds a {getattr(loaded, 'architecture', type(loaded).__name__)!r} model, not a "
                "stackgan-text encoder; train one with `zoo train stackgan-text`."
            )
        model = self.model
        if model.text_encoder is not None and self.stage == 2 and model.config.text_encoder is not None:
            theirs = loaded.encoder.state_dict()
            ours = model.text_encoder.state_dict()
            same = model.config.text_encoder == loaded.config.to_dict() and all(
                torch.equal(ours[k].cpu(), theirs[k].cpu()) for k in ours
            )
            if not same:
                raise ZooError(
                    f"The stage-I model was trained with another text encoder than {source!r}; stage II must use "
                    "the stage-I one: drop --train-config text_encoder."
                )
        model.attach_text_encoder(loaded.config, loaded.encoder)

    def _load_stage1(self) -> None:
        p, model = self.params, self.model
        if not p.stage1:
            raise ZooError(
                "Stage II trains on top of a trained stage I: pass --train-config stage1=FOLDER "
                "(a stage-I stackgan, e.g. runs/stackgan-s1/model)."
            )
        stage1 = _load(p.stage1, "stage-I StackGAN")
        if getattr(stage1, "architecture", "") != "stackgan" or stage1.config.stage != 1:
            raise ZooError(f"{p.stage1!r} is not a stage-I stackgan model; give the folder a stage=1 run wrote.")
        keys = ("channels", "z_dim", "text_dim", "condition_dim", "gf_dim", "stage1_size")
        wrong = [
            f"{k}={getattr(stage1.config, k)}" for k in keys if getattr(stage1.config, k) != getattr(model.config, k)
        ]
        if wrong:
            raise ZooError(f"The stage-I model {p.stage1!r} has {', '.join(wrong)}; train stage II with --config "
                           + " --config ".join(wrong) + ".")  # fmt: skip
        state = {k: v.to(self.device) for k, v in stage1.generator.state_dict().items()}
        model.generator.STAGE1_G.load_state_dict(state, strict=True)
        model.generator.STAGE1_G.requires_grad_(False)
        model.generator.STAGE1_G.eval()
        if stage1.text_encoder is not None:
            model.attach_text_encoder(stage1.config.text_encoder, stage1.text_encoder)

    # -- data ----------------------------------------------------------------------------------
    def input_spec(self) -> InputSpec:
        side = self.model.image_size
        return InputSpec(self.model.config.channels, (side, side), tuple(self.dataset_kinds))

    def check_dataset(self, dataset: Any) -> None:
        """The engine's checks, with the fix for a size mismatch (a resize); then the sample grids' captions.

        Example:
            >>> step.check_dataset(load_dataset("mnist5k-captions"))  # 28x28 for a 32x32 stage I
            ZooError: The dataset 'mnist5k-captions' has 28x28 images but this stackgan (stage I) takes 32x32; ...
        """
        size = getattr(dataset, "image_size", None)
        side = self.model.image_size
        if size and tuple(size) != (side, side):
            name = getattr(dataset, "name", "") or type(dataset).__name__
            stage = "I" if self.stage == 1 else "II"
            raise ZooError(
                f"The dataset {name!r} has {size[0]}x{size[1]} images but this stackgan (stage {stage}) takes "
                f"{side}x{side}; resize them with --dataset-option size={side} or pass --config "
                f"{'stage1_size' if self.stage == 1 else 'stage2_size'}={size[0]}."
            )
        super().check_dataset(dataset)
        self.captions = self._sample_captions(dataset)

    @staticmethod
    def _sample_captions(dataset: Any) -> list[str]:
        """The caption of the first item of each label (labels in order), else the first distinct captions."""
        labels = getattr(dataset, "labels", None)
        if isinstance(labels, torch.Tensor) and labels.dim() == 1 and len(labels) == len(dataset):
            indices = [int((labels == label).nonzero()[0]) for label in labels.unique().tolist()]
        else:
            indices = list(range(min(len(dataset), _CAPTION_SCAN)))
        by_label: dict[int, str] = {}
        distinct: list[str] = []
        for index in indices:
            item = dataset[index]
            caption = item.get("caption")
            if not isinstance(caption, str):
                continue
            if "label" in item:
                by_label.setdefault(int(item["label"]), caption)
            if caption not in distinct and len(distinct) < 8:
                distinct.append(caption)
        if len(by_label) > 1:
            return [by_label[k] for k in sorted(by_label)]
        return distinct or list(FALLBACK_CAPTIONS)

    def samples(self, n: int, seed: int) -> torch.Tensor:
        """``n`` images for the grids and the card: the captions in turn, each for a run of consecutive images."""
        captions = [self.captions[i * len(self.captions) // n] for i in range(n)]
        return self.model.sample(n, text=captions, seed=seed)

    # -- networks ------------------------------------------------------------------------------
    def networks(self) -> dict[str, nn.Module]:
        return {"g": self.model.generator, "d": _DiscriminatorTerms(self.model.discriminator)}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        p = self.params
        betas = (p.beta1, 0.999)
        trainable = [param for param in self.model.generator.parameters() if param.requires_grad]
        return {
            "d": torch.optim.Adam(self.model.discriminator.parameters(), lr=p.lr_d, betas=betas),
            "g": torch.optim.Adam(trainable, lr=p.lr_g, betas=betas),
        }

    def schedulers(self) -> dict[str, Any]:
        step_size = self.params.lr_decay_epoch
        return {name: torch.optim.lr_scheduler.StepLR(opt, step_size, gamma=0.5) for name, opt in self.opts.items()}

    # -- one step ------------------------------------------------------------------------------
    def embed(self, captions: list[str]) -> torch.Tensor:
        """The frozen text encoder's embeddings of a batch's captions (no gradients), on this device."""
        if isinstance(captions, str):
            captions = [captions]
        with torch.no_grad():
            return self.model.text_encoder.encode(list(captions)).to(self.device, torch.float32)

    def train_step(self, batch: dict[str, Any], step: int) -> dict[str, torch.Tensor]:
        net_g, net_d = self.nets["g"], self.nets["d"]
        opt_g, opt_d = self.opts["g"], self.opts["d"]
        c, p = self.model.config, self.params
        real = batch["image"] * 2 - 1  # [0, 1] -> [-1, 1]
        embedding = self.embed(batch["caption"])
        noise = self.global_randn(c.z_dim)
        if self.stage == 1:
            eps = (self.global_randn(c.condition_dim),)
        else:  # the frozen stage I's CA draws first, as in the reference's forward
            stage1_eps = self.global_randn(c.condition_dim)
            eps = (self.global_randn(c.condition_dim), stage1_eps)
        with self.autocast():
            _, fake, mu, logvar = net_g(embedding, noise, *eps)
        cond = mu.detach()

        # (1) D: real pairs against 1, wrong pairs (mismatched text) and fake pairs against 0
        opt_d.zero_grad()
        with self.autocast():
            out = net_d(real, fake.detach(), cond)
        err_real, err_wrong, err_fake = _bce(out["real"], 1.0), _bce(out["wrong"], 0.0), _bce(out["fake"], 0.0)
        if "real_uncond" in out:
            uncond_real, uncond_fake = _bce(out["real_uncond"], 1.0), _bce(out["fake_uncond"], 0.0)
            err_d = (err_real + uncond_real) / 2 + (err_fake + err_wrong + uncond_fake) / 3
            err_real, err_fake = (err_real + uncond_real) / 2, (err_fake + uncond_fake) / 2
        else:
            err_d = err_real + (err_fake + err_wrong) * 0.5
        self.global_loss(err_d, "mean").backward()
        opt_d.step()

        # (2) G: fake pairs against 1 (and the unconditional head), plus kl_coeff x KL
        opt_g.zero_grad()
        with self.autocast():
            out = net_d(None, fake, cond)
        err_g = _bce(out["fake"], 1.0)
        if "fake_uncond" in out:
            err_g = err_g + _bce(out["fake_uncond"], 1.0)
        kl = KL_loss(mu.float(), logvar.float())
        self.global_loss(err_g + kl * p.kl_coeff, "mean").backward()
        opt_g.step()

        return {
            "loss_D": err_d.detach(),
            "loss_D_real": err_real.detach(),
            "loss_D_wrong": err_wrong.detach(),
            "loss_D_fake": err_fake.detach(),
            "loss_G": err_g.detach(),
            "loss_KL": kl.detach(),
        }
