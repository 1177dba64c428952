"""``TrainingStep``: the part of training that belongs to an architecture's paper.

The engine (``zoo_core.training.loop``) owns everything that is the same for every model: data
order and sharding, devices, mixed precision, ``torch.compile``, DistributedDataParallel,
checkpoints, logs, sample grids, evaluation and the Hub folder. A plugin subclasses
``TrainingStep`` and writes only its recipe: which networks there are, their optimisers and
schedules, and what one step does (a VAE's single update, a GAN's alternating D and G
updates, a CycleGAN's image pools ...). The architecture points at it lazily::

    Architecture("vae", model="zoo_vae.model:VAE", tasks=(...), training_step="zoo_vae.training:VAETrainingStep")

The contract, kept small on purpose:

- ``__init__(model, train_config, world_size)``; hyper-parameters arrive as ``self.params``, an
  instance of the step's ``params_class`` dataclass filled from ``--train-config key=value``.
- ``networks()``: the modules the engine wraps (DDP when distributed, then ``torch.compile``
  when asked). Forward passes must go through ``self.nets[name]``, which the engine sets to
  the wrapped module: DDP only averages gradients for forward passes it sees. A network may
  be a small wrapper around the model that computes what the step needs (see the VAE's).
- ``optimizers()`` and ``schedulers()``, called once; the engine keeps what they return in
  ``self.opts`` and ``self.scheds``. Schedulers step once per epoch or once per step
  (``scheduler_interval``).
- ``train_step(batch, step)``: zero_grad, forward under ``self.autocast()``, backward, step,
  for every optimiser the recipe updates; returns the numbers to log. Values may be floats or
  0-d tensors: tensors are turned into numbers only when a line is logged, so that a GPU does
  not synchronise on every step.
- ``check_dataset(dataset)``: fail in one sentence when the data does not fit the model.
- ``extra_state()`` / ``load_extra_state()``: anything else that must survive a resume (image
  pools, EMA weights): tensors and JSON values only, no pickle.

Distributed data parallel and losses. With N processes each process sees a shard of the
global batch and DDP *averages* gradients over processes. That reproduces the one-process
gradient of a loss that is a mean over the batch when the shards are equal, but not of a loss
*summed* over the batch (the VAE's): the average of N shard sums is 1/N of the global sum.
``global_loss(loss, reduction)`` scales a shard's loss so that DDP's average is the gradient
of the same loss over the global batch (x N for sums; x N x shard / global for means, which
is also right for an uneven last batch). With one process it returns the loss unchanged.

Random numbers per sample (a VAE's posterior noise, a GAN's latent codes) should come from
``global_randn``: it draws the noise of the whole global batch from the global CPU generator
and keeps this process's rows, so N processes draw exactly what one process draws and their
generators stay in step with it.

Example:
    >>> class MyGANStep(TrainingStep):
    ...     default_batch_size = 64
    ...     def networks(self):
    ...         return {"g": self.model.generator, "d": self.model.discriminator}
    ...     def optimizers(self):
    ...         return {"g": Adam(self.model.generator.parameters(), 2e-4, betas=(0.5, 0.999)),
    ...                 "d": Adam(self.model.discriminator.parameters(), 2e-4, betas=(0.5, 0.999))}
    ...     def train_step(self, batch, step):
    ...         ...  # D update on real and fake, then G update; return {"loss_d": ..., "loss_g": ...}
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar

import torch
from torch import nn

from .._errors import ZooError

if TYPE_CHECKING:
    from .loop import TrainConfig

__all__ = ["DIGIT_DATASETS", "InputSpec", "StepParams", "TrainingStep", "trains_on_digits"]

#: the datasets of handwritten digits: the digit-classifier metrics (fid-mnist ...) mean something only on these
DIGIT_DATASETS = ("mnist5k", "digits", "torchvision-mnist")


def trains_on_digits(train_config: Any) -> bool:
    """Whether a run trains on handwritten digits (``DIGIT_DATASETS``), so that a GAN step may score itself with
    the digit-classifier metrics (``fid-mnist``), which say nothing about faces or photos.

    Example:
        >>> trains_on_digits(TrainConfig(dataset="mnist5k:size=32", ...))
        True
    """
    return str(getattr(train_config, "dataset", "")).partition(":")[0] in DIGIT_DATASETS


#: dataset kinds (``zoo_core.data.ImageDataset.kind``), as a sentence names them
KIND_WORDS = {
    "images": "plain images",
    "labelled": "labelled images",
    "paired": "paired images (an input and its target)",
    "unpaired": "unpaired images from two domains",
    "captioned": "captioned images",
}


@dataclasses.dataclass
class StepParams:
    """Base of a step's hyper-parameters: a dataclass of JSON values set with ``--train-config key=value``.

    Example:
        >>> @dataclasses.dataclass
        ... class VAEParams(StepParams):
        ...     lr: float = 1e-3
        >>> VAEParams.from_dict({"lr": 3e-4}, "vae").lr
        0.0003
    """

    @classmethod
    def from_dict(cls, values: dict[str, Any], owner: str = "") -> StepParams:
        """Build from a dict, failing in one sentence on a key the step does not have or a value of the wrong type."""
        from .._config import check_values

        # hyper-parameters may be 0 (a pool size, decay epochs); none is negative
        checked = check_values(cls, values, owner or cls.__name__, what="training config", int_range=(0, 2**31 - 1))
        return cls(**checked)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class InputSpec:
    """What a model trains on: channels, image size (``None``: any) and dataset kinds.

    Example:
        >>> InputSpec(channels=1, image_size=(28, 28), kinds=("images", "labelled"))
    """

    channels: int | None
    image_size: tuple[int, int] | None
    kinds: tuple[str, ...]


class TrainingStep:
    """Base class of an architecture's training recipe (see the module docstring for the contract).

    Class attributes a subclass sets:

    - ``params_class``: its hyper-parameters (a ``StepParams`` dataclass).
    - ``default_batch_size``, ``default_epochs``: the paper's (``--batch-size`` is the *global* batch).
    - ``eval_metrics``, ``eval_dataset``, ``eval_split``: what the final summary and the model card
      report (``eval_dataset`` ``None``: the training dataset); ``eval_metric_options``, their options.
    - ``dataset_kinds``: the dataset kinds it trains on.
    - ``scheduler_interval``: ``"epoch"`` or ``"step"``.
    - ``paper``, ``license``, ``tags``, ``description``, ``recipe``: for the model card.
    - ``closed_form``: ``True`` for a recipe with no optimiser and no gradient, which sets the model's
      tensors from statistics of the batch (a closed-form maximum-likelihood fit, one EM iteration):
      ``optimizers()`` then returns ``{}`` by default, the model's parameters have ``requires_grad=False``,
      the conformance kit checks that one step changes them (instead of gradients reaching them), and
      ``zoo train`` runs it in one process (``torchrun`` would fit each shard on its own).

    Example:
        >>> step = VAETrainingStep(model, TrainConfig("vae", "mnist5k", "runs/vae"), world_size=1)
        >>> sorted(step.optimizers())
        ['adam']
    """

    params_class: ClassVar[type[StepParams]] = StepParams
    default_batch_size: ClassVar[int] = 64
    default_epochs: ClassVar[int] = 1
    eval_metrics: ClassVar[tuple[str, ...]] = ()
    eval_dataset: ClassVar[str | None] = None
    eval_split: ClassVar[str] = "test"
    #: keyword options of the eval metrics, by name (e.g. ``{"psnr-y": {"crop_border": 2}}``)
    eval_metric_options: ClassVar[dict[str, dict[str, Any]]] = {}
    dataset_kinds: ClassVar[tuple[str, ...]] = ("images", "labelled")
    scheduler_interval: ClassVar[str] = "epoch"
    find_unused_parameters: ClassVar[bool] = False
    paper: ClassVar[dict[str, Any]] = {}
    license: ClassVar[str] = "mit"
    tags: ClassVar[tuple[str, ...]] = ()
    description: ClassVar[str] = ""
    recipe: ClassVar[str] = ""
    closed_form: ClassVar[bool] = False

    def __init__(self, model: nn.Module, train_config: TrainConfig, world_size: int = 1) -> None:
        self.model = model
        self.train_config = train_config
        self.world_size = world_size
        self.rank = 0
        owner = f"the {getattr(model, 'architecture', type(model).__name__)!r} training step"
        self.params = self.params_class.from_dict(dict(train_config.step_config or {}), owner)
        #: the networks as the step must call them (DDP-wrapped and/or compiled); set by the engine
        self.nets: dict[str, nn.Module] = {}
        #: what optimizers() and schedulers() returned; set by the engine
        self.opts: dict[str, torch.optim.Optimizer] = {}
        self.scheds: dict[str, Any] = {}
        self.device = next(model.parameters()).device
        self.precision = train_config.precision
        #: this process's rows of the current global batch, and that batch's size; set by the engine
        self.batch_slice = slice(None)
        self.global_batch_size = 0

    # -- what a recipe writes ------------------------------------------------------------
    def networks(self) -> dict[str, nn.Module]:
        """The modules to wrap (DDP, compile); forward passes go through ``self.nets[name]``."""
        return {"model": self.model}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """The optimisers, by name (the names key their state in checkpoints); none for a ``closed_form`` step."""
        if self.closed_form:
            return {}
        raise NotImplementedError(f"{type(self).__name__} must define optimizers().")

    def schedulers(self) -> dict[str, Any]:
        """Learning-rate schedulers by name; called after ``optimizers()`` (default: none)."""
        return {}

    def train_step(self, batch: dict[str, Any], step: int) -> dict[str, float | torch.Tensor]:
        """One training step on this process's shard of a global batch; returns what to log."""
        raise NotImplementedError(f"{type(self).__name__} must define train_step().")

    def extra_state(self) -> dict[str, Any]:
        """State beyond models, optimisers and schedulers (image pools, EMA): tensors and JSON values."""
        return {}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        """Restore what ``extra_state`` returned."""

    def samples(self, n: int, seed: int) -> torch.Tensor | None:
        """Images in [0, 1] for the sample grids and the card (default: ``model.sample`` when it samples)."""
        sample = getattr(self.model, "sample", None)
        if "unconditional" not in getattr(self.model, "tasks", ()) or not callable(sample):
            return None
        return sample(n, seed=seed)

    # -- the data it takes ---------------------------------------------------------------
    def input_spec(self) -> InputSpec:
        """Channels and size from the model config's ``channels`` / ``image_size`` (when it has them).

        A model whose config names its input otherwise overrides this (or its step does).
        """
        config = getattr(self.model, "config", None)
        channels = getattr(config, "channels", None)
        size = getattr(config, "image_size", None)
        if isinstance(size, int):
            size = (size, size)
        elif size is not None:
            size = tuple(size)
        return InputSpec(channels, size, tuple(self.dataset_kinds))

    def check_dataset(self, dataset: Any) -> None:
        """Fail in one sentence when ``dataset`` does not fit (channels, size, paired / unpaired ...)."""
        spec = self.input_spec()
        arch = getattr(self.model, "architecture", type(self.model).__name__)
        name = getattr(dataset, "name", "") or type(dataset).__name__
        kind = getattr(dataset, "kind", "images")
        if spec.kinds and kind not in spec.kinds:
            wanted = " or ".join(KIND_WORDS.get(k, k) for k in spec.kinds)
            raise ZooError(
                f"{arch} trains on {wanted}, but the dataset {name!r} holds {KIND_WORDS.get(kind, kind)}; "
                "pick a dataset of that kind (`zoo datasets`) or an architecture made for this data."
            )
        channels = getattr(dataset, "channels", None)
        if spec.channels is not None and channels and channels != spec.channels:
            raise ZooError(
                f"The dataset {name!r} has {channels}-channel images but this {arch} takes {spec.channels} "
                f"channel(s); pass --config channels={channels} or pick a dataset with {spec.channels}-channel images."
            )
        size = getattr(dataset, "image_size", None)
        if spec.image_size is not None and size and tuple(size) != tuple(spec.image_size):
            h, w = size
            fix = f"--config image_size={h}" if h == w else "a dataset of that size"
            raise ZooError(
                f"The dataset {name!r} has {h}x{w} images but this {arch} takes "
                f"{spec.image_size[0]}x{spec.image_size[1]}; pass {fix} or resize the data."
            )

    def check_square_size(self, dataset: Any, side: int) -> None:
        """Fail in one sentence, naming the resize, when ``dataset``'s images are not ``side`` x ``side``: for a
        network of one fixed size that trains on any data resized to it (the DCGAN family).

        Example:
            >>> step.check_square_size(load_dataset("mnist5k"), 32)  # 28x28 digits for a 32x32 network
            ZooError: The dataset 'mnist5k' has 28x28 images but this dcgan takes 32x32; resize them with ...
        """
        size = getattr(dataset, "image_size", None)
        if size and tuple(size) != (side, side):
            arch = getattr(self.model, "architecture", type(self.model).__name__)
            name = getattr(dataset, "name", "") or type(dataset).__name__
            raise ZooError(
                f"The dataset {name!r} has {size[0]}x{size[1]} images but this {arch} takes {side}x{side}; "
                f"resize them with --dataset-option size={side} (mnist5k, digits) or pick data of that size."
            )

    # -- helpers the engine gives a recipe -----------------------------------------------
    def autocast(self) -> contextlib.AbstractContextManager[Any]:
        """``torch.autocast`` to bfloat16 under ``--precision bf16``, a no-op otherwise.

        Wrap forward passes in it; compute losses that are unsafe in low precision
        (``binary_cross_entropy``) outside it, on ``.float()`` outputs.
        """
        if self.precision == "bf16":
            return torch.autocast(self.device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def global_randn(self, *shape: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """Normal noise for this process's rows of the global batch: ``(shard, *shape)`` on ``self.device``.

        Drawn as ``(global_batch, *shape)`` from the global CPU generator (so that 1 process and
        N processes draw the same numbers and keep their generators in step), then sliced.
        """
        noise = torch.randn(self.global_batch_size, *shape, dtype=dtype)
        if self.world_size > 1:
            noise = noise[self.batch_slice]
        return noise.to(self.device, non_blocking=True)

    def global_loss(self, loss: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
        """Scale a loss over this process's shard so that DDP's gradient average is the global-batch gradient.

        ``reduction="sum"``: the loss is summed over the shard's images (x world size);
        ``"mean"``: it is their mean (x world size x shard / global batch).
        """
        if self.world_size == 1:
            return loss
        if reduction == "sum":
            return loss * self.world_size
        if reduction == "mean":
            shard = len(range(self.global_batch_size)[self.batch_slice])
            return loss * (self.world_size * shard / self.global_batch_size)
        raise ZooError(f"global_loss takes reduction='sum' or 'mean', not {reduction!r}.")

    @contextlib.contextmanager
    def eval_mode(self) -> Iterator[None]:
        """Put the model in eval mode for a block (sample grids), then back to train mode."""
        was_training = self.model.training
        self.model.eval()
        try:
            yield
        finally:
            self.model.train(was_training)
