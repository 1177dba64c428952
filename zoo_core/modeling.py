"""The model base class, its config, and the verbs of each task.

Every zoo model is a ``ZooModel``: an ``nn.Module`` with a JSON-serialisable dataclass config.
It saves and loads in Hub layout (``config.json`` + ``model.safetensors`` + ``README.md``) and
loads without paying for random init: the module is built on the meta device and the weights
are assigned to it, strictly.

Example:
    >>> model = VAE(VAEConfig(latent_dim=20))
    >>> model.save_pretrained("out/my-vae")
    >>> same = VAE.from_pretrained("out/my-vae")
    >>> images = same.sample(16, seed=0)  # (16, 1, 28, 28), floats in [0, 1]
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import inspect
import json
import math
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from ._atomic import atomic_write, atomic_write_text
from ._config import check_values, describe_value
from ._errors import ZooError
from .tasks import abstract_verb, check_contract

__all__ = [
    "DensityModel",
    "ImageClassifier",
    "ImageTranslator",
    "LatentModel",
    "ModelConfig",
    "TextEmbedder",
    "TextToImageGenerator",
    "UnconditionalGenerator",
    "ZooModel",
    "build_on_meta",
    "check_count",
    "check_density_images",
    "check_device",
    "check_images",
    "check_labels",
    "check_model_size",
    "inference_verb",
    "load_weights_into",
    "max_model_bytes",
    "pixel_noise",
    "pixel_progress",
    "sample_in_batches",
    "seeded",
    "seeded_generator",
    "translate_verb",
]

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
CARD_NAME = "README.md"


@dataclasses.dataclass
class ModelConfig:
    """Base of every architecture's config: a dataclass of JSON values, checked against its type hints.

    Every value is checked (``zoo_core._config.check_values``) wherever a config comes from:
    ``config.json``, ``zoo train --config key=value``, ``zoo.create(arch, **config)`` or the
    constructor. A field may declare its range, ``field(default=64, metadata={"range": (1, 4096)})``;
    an ``int`` field that declares none must be from 1 to 2**31 - 1.
    """

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Check every value against its field's type and range (ints become floats where a float is due)."""
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.init}
        for key, value in check_values(type(self), values, type(self).__name__).items():
            object.__setattr__(self, key, value)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any], owner: str = "") -> ModelConfig:
        """Build from a dict (e.g. a ``config.json``), failing in one sentence on an unknown key or a bad value."""
        config = cls(**check_values(cls, values, owner or cls.__name__))
        config.validate()  # also when a subclass's __post_init__ does not call ours
        return config


#: environment variable: the most bytes the parameters and buffers of a model zoo builds may take
MAX_MODEL_BYTES_ENV = "ZOO_MAX_MODEL_BYTES"


def max_model_bytes() -> int | None:
    """The size limit of a new model: ``$ZOO_MAX_MODEL_BYTES`` if set, else the memory available now (None: unknown)."""
    value = os.environ.get(MAX_MODEL_BYTES_ENV, "").strip()
    if value:
        try:
            limit = int(float(value))
        except (ValueError, OverflowError):
            limit = 0
        if limit < 1:
            raise ZooError(f"{MAX_MODEL_BYTES_ENV}={value!r} is not a positive number of bytes; e.g. 8000000000.")
        return limit
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def _config_text(config: ModelConfig) -> str:
    """The values of ``config`` that differ from the defaults, as ``key=value`` (what a message should name)."""
    default = {}
    for f in dataclasses.fields(config):
        if f.default is not dataclasses.MISSING:
            default[f.name] = f.default
    changed = [f"{k}={v!r}" for k, v in config.to_dict().items() if k not in default or default[k] != v]
    return ", ".join(changed) or "the defaults"


#: in-place ops that only set values (init functions and tensor methods): a no-op on a meta tensor, which has none
_VALUE_SETTERS = frozenset(
    {
        *("normal_", "uniform_", "zero_", "fill_", "copy_", "random_", "bernoulli_", "exponential_", "log_normal_"),
        *("cauchy_", "geometric_", "constant_", "ones_", "zeros_", "eye_", "dirac_", "xavier_uniform_"),
        *("xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "trunc_normal_", "orthogonal_", "sparse_"),
        *("clamp_", "clamp_min_", "clamp_max_", "mul_", "add_", "sub_", "div_", "erfinv_", "fmod_", "abs_"),
    }
)


class _SkipInitOnMeta(TorchFunctionMode):
    """Init on a meta tensor computes nothing, but torch runs its Python reference kernels to say so, and
    the first of those imports ``torch._dynamo`` (2-4 s of a fresh process): skip value-setting ops on meta
    tensors, so that building a model to receive its weights costs only the modules' construction."""

    def __torch_function__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        kwargs = kwargs or {}
        target = args[0] if args else kwargs.get("tensor", kwargs.get("self"))
        if getattr(func, "__name__", "") in _VALUE_SETTERS and isinstance(target, torch.Tensor) and target.is_meta:
            return target
        return func(*args, **kwargs)


def build_on_meta(model_class: type[ZooModel], config: ModelConfig) -> ZooModel:
    """``model_class(config)`` on the meta device (no memory, no init), or one sentence when the config cannot build.

    Value-setting ops on meta tensors (``nn.init.*``, ``normal_``, ``copy_`` ...) are skipped; a module
    whose init computes from its own weights (weight norm's ``g = ||v||``) should skip that when
    ``weight.is_meta``.
    """
    try:
        with torch.device("meta"), _SkipInitOnMeta():
            return model_class(config)
    except (RuntimeError, ValueError, OverflowError) as exc:
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        raise ZooError(
            f"The config of architecture {model_class.architecture!r} ({_config_text(config)}) does not make a "
            f"model ({type(exc).__name__}: {first}); give it other sizes."
        ) from exc


def check_model_size(model_class: type[ZooModel], config: ModelConfig) -> int:
    """The bytes a ``model_class(config)`` would take, counted on the meta device; refuse if over the limit.

    The limit is ``$ZOO_MAX_MODEL_BYTES``, else the memory available now, so an absurd size
    (``hidden_dim=1000000000``) is refused in one sentence instead of reaching the allocator.
    """
    model = build_on_meta(model_class, config)
    tensors = [*model.parameters(), *model.buffers()]
    nbytes = sum(t.numel() * t.element_size() for t in tensors)
    limit = max_model_bytes()
    if limit is not None and nbytes > limit:
        where = f"${MAX_MODEL_BYTES_ENV}" if os.environ.get(MAX_MODEL_BYTES_ENV) else "the memory available"
        raise ZooError(
            f"A {model_class.architecture!r} model with {_config_text(config)} would take {nbytes / 1e9:,.1f} GB "
            f"({sum(t.numel() for t in model.parameters()):,} parameters), more than {where} "
            f"({limit / 1e9:,.1f} GB); make its sizes smaller (or raise {MAX_MODEL_BYTES_ENV})."
        )
    return nbytes


def check_device(device: str | torch.device | None) -> torch.device:
    """``device`` as a ``torch.device`` this machine has (``None``: the CPU), or one sentence."""
    if device is None:
        return torch.device("cpu")
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise ZooError(f"Unknown device {device!r}; use e.g. cpu, cuda or cuda:1.") from None
    if device.type == "cpu":
        return torch.device("cpu")  # "cpu:0" is the CPU too
    if device.type == "meta":
        raise ZooError("The meta device holds no values, so a model cannot run there; use cpu or cuda.")
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise ZooError(
                f"This machine has no CUDA GPU that torch can use, so it cannot use {str(device)!r}; use cpu."
            )
        if device.index is not None and device.index >= count:
            raise ZooError(
                f"There is no {str(device)!r}: this machine has {count} CUDA GPU(s), cuda:0 to cuda:{count - 1}."
            )
    elif device.type == "mps":
        if not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
            raise ZooError("This machine has no Apple GPU (mps) that torch can use; use cpu.")
    else:  # xpu, xla, hpu ...: only what this torch says it can use
        is_available = getattr(getattr(torch, device.type, None), "is_available", None)
        if not (callable(is_available) and is_available()):
            raise ZooError(f"torch on this machine cannot use the device {str(device)!r}; use cpu (or cuda).")
    return device


def _device_dtype(device: str | torch.device | None, dtype: str | torch.dtype | None):
    device = check_device(device)
    if isinstance(dtype, str):
        if not isinstance(getattr(torch, dtype, None), torch.dtype) or not getattr(torch, dtype).is_floating_point:
            raise ZooError(f"Unknown dtype {dtype!r}; use a floating-point one, e.g. float32, bfloat16 or float16.")
        dtype = getattr(torch, dtype)
    return device, dtype


class ZooModel(nn.Module):
    """Base class of zoo models.

    Subclasses set ``architecture`` (the registry's architecture name) and ``config_class``,
    take their config as the only argument of ``__init__``, and mix in the task classes below
    (``UnconditionalGenerator``, ``LatentModel`` ...) whose verbs they serve.

    The base does the model hygiene of every contract verb (``zoo_core.tasks``) a subclass defines:
    it runs in eval mode under ``torch.inference_mode()`` and leaves every module's mode as it was
    (``inference_verb``); ``translate`` also runs with torch's generator seeded by its ``seed``
    (``seeded``). A class that names an ``architecture`` is checked against the contracts of its
    tasks when it is defined: a missing verb or attribute fails in one sentence naming it.

    Example:
        >>> class Noise(UnconditionalGenerator, ZooModel):
        ...     architecture, config_class = "noise", NoiseConfig
        ...     def sample_batch(self, n, generator):
        ...         return torch.rand(n, 1, 8, 8, generator=generator)
    """

    architecture: ClassVar[str] = ""
    config_class: ClassVar[type[ModelConfig]] = ModelConfig
    #: the catalog entry a model came from (``zoo.load("vae.mnist")`` sets it); ``None`` otherwise
    pretrained: Any = None
    #: the verified weights file ``zoo.load`` read; ``None`` otherwise
    weights_path: Path | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Give the contract verbs the model hygiene, and refuse a model class that lacks a verb of its tasks."""
        super().__init_subclass__(**kwargs)
        _wrap_verbs(cls)
        if cls.__dict__.get("architecture"):  # a concrete model class (an abstract intermediate names none)
            check_contract(cls, cls.task_names(), f"The model class {cls.__qualname__} ({cls.architecture!r})")

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        if not isinstance(config, self.config_class):
            raise ZooError(f"{type(self).__name__} takes a {self.config_class.__name__}, not {config!r}.")
        self.config = config

    # -- what it is ----------------------------------------------------------------------
    @classmethod
    def task_names(cls) -> tuple[str, ...]:
        """The tasks this model serves, from the task classes it mixes in."""
        return tuple(dict.fromkeys(c.__dict__["task"] for c in cls.__mro__ if "task" in c.__dict__))

    @property
    def tasks(self) -> tuple[str, ...]:
        return self.task_names()

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    @property
    def device(self) -> torch.device:
        """Where the parameters are (the CPU for a model without any)."""
        first = next(self.parameters(), None)
        return first.device if first is not None else torch.device("cpu")

    @property
    def dtype(self) -> torch.dtype:
        """The parameters' dtype (torch's default for a model without any)."""
        first = next(self.parameters(), None)
        return first.dtype if first is not None else torch.get_default_dtype()

    # -- building ------------------------------------------------------------------------
    @classmethod
    def from_config(cls, config: ModelConfig | dict[str, Any] | None = None, **overrides: Any) -> ZooModel:
        """A freshly initialised (untrained) model."""
        if not isinstance(config, cls.config_class):
            values = {**(config or {}), **overrides}
            config = cls.config_class.from_dict(values, f"architecture {cls.architecture!r}")
        elif overrides:
            config = cls.config_class.from_dict({**config.to_dict(), **overrides}, f"architecture {cls.architecture!r}")
        check_model_size(cls, config)  # an absurd size fails here, before any memory is allocated
        return cls(config)

    @classmethod
    def from_weights(
        cls,
        config: ModelConfig | dict[str, Any],
        weights: str | os.PathLike[str] | dict[str, torch.Tensor],
        *,
        device: str | torch.device | None = None,
        dtype: str | torch.dtype | None = None,
    ) -> ZooModel:
        """Build on the meta device and assign ``weights`` (a safetensors file or a state dict)."""
        if not isinstance(config, cls.config_class):
            config = cls.config_class.from_dict(dict(config), f"architecture {cls.architecture!r}")
        device, dtype = _device_dtype(device, dtype)
        model = build_on_meta(cls, config)
        load_weights_into(model, weights, device=device, source=str(weights) if not isinstance(weights, dict) else "")
        if dtype is not None:
            model.to(dtype=dtype)
        return model

    # -- Hub layout ----------------------------------------------------------------------
    def save_pretrained(
        self,
        directory: str | os.PathLike[str],
        *,
        card: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> Path:
        """Write ``config.json``, ``model.safetensors`` and a ``README.md`` card into ``directory``.

        Example:
            >>> model.save_pretrained("hub/me/my-vae")
        """
        from safetensors.torch import save

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        state = {k: v.detach().to("cpu").contiguous() for k, v in self.state_dict().items()}
        with atomic_write(directory / WEIGHTS_NAME) as handle:
            handle.write(save(state, metadata={"format": "pt", **(metadata or {})}))
        config = {"architecture": self.architecture, **self.config.to_dict()}
        atomic_write_text(directory / CONFIG_NAME, json.dumps(config, indent=2) + "\n")
        if card is None and not (directory / CARD_NAME).exists():
            card = (
                f"# {self.architecture}\n\nA zoo `{self.architecture}` model ({self.num_parameters():,} parameters).\n"
            )
        if card is not None:
            atomic_write_text(directory / CARD_NAME, card)
        return directory

    @classmethod
    def from_pretrained(
        cls,
        source: str | os.PathLike[str],
        *,
        revision: str | None = None,
        device: str | torch.device | None = None,
        dtype: str | torch.dtype | None = None,
    ) -> ZooModel:
        """Load from a folder in Hub layout, or from a Hub repository ``org/name``.

        Example:
            >>> VAE.from_pretrained("hub/zoo/vae-mnist")
            >>> VAE.from_pretrained("zoo/vae-mnist", revision="main")
        """
        folder = Path(source)
        if folder.is_dir():
            config_path, weights_path = folder / CONFIG_NAME, folder / WEIGHTS_NAME
            for path in (config_path, weights_path):
                if not path.is_file():
                    raise ZooError(f"{folder} is not a model folder in Hub layout: it has no {path.name}.")
        else:
            from .hub.download import download_file

            config_path = download_file(str(source), CONFIG_NAME, revision=revision)
            weights_path = download_file(str(source), WEIGHTS_NAME, revision=revision)
        try:
            config = json.loads(Path(config_path).read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ZooError(f"{config_path} is not valid JSON ({exc.msg}); the folder is damaged.") from exc
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise ZooError(f"{config_path} is not a JSON text ({type(exc).__name__}); the folder is damaged.") from exc
        if not isinstance(config, dict):
            raise ZooError(
                f"{config_path} must hold a JSON object of config values, not {describe_value(config)}; "
                "the folder is damaged."
            )
        architecture = config.pop("architecture", None)
        if architecture is not None and not isinstance(architecture, str):
            raise ZooError(
                f'{config_path} names its architecture with {describe_value(architecture)}; "architecture" is a '
                'name such as "vae".'
            )
        model_class = cls
        if not cls.architecture:  # ZooModel itself: find the class from the config
            from ._catalog import get_catalog

            if not architecture:
                raise ZooError(f'{config_path} names no architecture; add "architecture": "<name>".')
            model_class = get_catalog().architecture(architecture).model_class()
        elif architecture and architecture != cls.architecture:
            raise ZooError(f"{config_path} holds a {architecture!r} model, not a {cls.architecture!r} one.")
        model_config = model_class.config_class.from_dict(config, str(config_path))  # a bad value names the file
        return model_class.from_weights(model_config, weights_path, device=device, dtype=dtype).eval()


def load_weights_into(
    model: nn.Module,
    weights: str | os.PathLike[str] | dict[str, torch.Tensor],
    *,
    device: torch.device | str = "cpu",
    source: str = "",
) -> nn.Module:
    """Assign a state dict (or a safetensors file) to ``model``, strictly: any key mismatch fails."""
    if not isinstance(weights, dict):
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            weights = load_file(os.fspath(weights), device=str(device))
        except (SafetensorError, OSError) as exc:
            raise ZooError(f"{weights} is not a readable safetensors file ({exc}); download it again.") from exc
    else:
        weights = {k: v.to(device) for k, v in weights.items()}
    expected = set(model.state_dict())
    missing, unexpected = sorted(expected - set(weights)), sorted(set(weights) - expected)
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing {len(missing)} key(s) such as {missing[0]!r}")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected key(s) such as {unexpected[0]!r}")
        where = f" in {source}" if source else ""
        raise ZooError(
            f"The weights{where} do not fit {type(model).__name__}: {' and '.join(parts)}; "
            "they belong to another architecture or config, or need a converter (`zoo convert`)."
        )
    try:
        model.load_state_dict(weights, strict=True, assign=True)
    except RuntimeError as exc:  # shapes that do not match the config
        first = str(exc).strip().splitlines()[-1].strip()
        raise ZooError(f"The weights do not fit {type(model).__name__}'s config: {first}") from exc
    still_meta = [name for name, t in [*model.named_parameters(), *model.named_buffers()] if t.is_meta]
    if still_meta:
        raise ZooError(f"{type(model).__name__} has tensors no weights file fills: {still_meta[0]!r}.")
    return model


def check_images(x: torch.Tensor, *, channels: int, size: tuple[int, int] | None = None, what: str = "model") -> None:
    """Fail with one sentence when ``x`` is not a batch of images this model takes."""
    if not isinstance(x, torch.Tensor) or x.dim() != 4:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ZooError(f"The {what} takes a batch of images shaped (N, C, H, W), not {shape}.")
    if x.shape[1] != channels:
        raise ZooError(
            f"The {what} takes images with {channels} channel(s), got {x.shape[1]}; "
            f"convert them to {'grey' if channels == 1 else 'RGB'} first."
        )
    if size is not None and tuple(x.shape[-2:]) != tuple(size):
        raise ZooError(
            f"The {what} takes {size[0]}x{size[1]} images, got {x.shape[-2]}x{x.shape[-1]}; resize them first."
        )


def check_translate_input(x: torch.Tensor, *, min_size: int, what: str = "model") -> tuple[torch.Tensor, bool]:
    """``x`` (float ``(N, C, H, W)`` or ``(C, H, W)`` in [0, 1], sides of at least ``min_size``) as a batch, and
    whether it was one image; fail with one sentence otherwise. For an image-to-image model's ``translate``.

    Example:
        >>> batch, single = check_translate_input(torch.rand(3, 64, 64), min_size=16, what="pix2pix")
        >>> batch.shape, single
        (torch.Size([1, 3, 64, 64]), True)
    """
    if not isinstance(x, torch.Tensor) or x.dim() not in (3, 4):
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ZooError(f"{what} takes images shaped (N, C, H, W) or (C, H, W), not {shape}.")
    if not x.is_floating_point():
        raise ZooError(f"{what} takes float images in [0, 1], not {x.dtype}; divide 8-bit images by 255 first.")
    single = x.dim() == 3
    batch = x.unsqueeze(0) if single else x
    h, w = batch.shape[-2:]
    if min(h, w) < min_size:
        raise ZooError(
            f"{what} takes images of at least {min_size}x{min_size} pixels, got {h}x{w}; "
            "a smaller image holds too little to translate."
        )
    return batch, single


#: the pixel levels a density model may declare, and the images each means
PIXEL_LEVELS = {2: "binary pixels (0 or 1)", 256: "8-bit grey levels in [0, 1]"}


def check_density_images(
    x: torch.Tensor,
    *,
    pixel_levels: int,
    channels: int,
    size: tuple[int, int] | None = None,
    what: str = "model",
) -> None:
    """Fail with one sentence when ``x`` is not a batch of images a density model of ``pixel_levels`` scores.

    Every density plugin's ``log_prob`` calls it first: the shape as ``check_images``, then the
    values: exactly 0. or 1. for ``pixel_levels=2``, within [0, 1] for ``pixel_levels=256``.

    Example:
        >>> check_density_images(torch.full((1, 1, 28, 28), 0.5), pixel_levels=2, channels=1, size=(28, 28),
        ...                      what="NADE")
        Traceback (most recent call last):
        zoo_core._errors.ZooError: The NADE models binary pixels (0 or 1), got values such as 0.5; binarize the
        images first, e.g. load_dataset("mnist5k", binarize="stochastic") (--dataset-option binarize=stochastic).
    """
    if pixel_levels not in PIXEL_LEVELS:
        raise ZooError(
            f"The {what} declares pixel_levels={pixel_levels!r}; a density model declares 2 (binary) or 256 (8-bit)."
        )
    check_images(x, channels=channels, size=size, what=what)
    if not x.is_floating_point():
        raise ZooError(f"The {what} takes float images in [0, 1], not {x.dtype}; divide 8-bit images by 255.")
    if pixel_levels == 2:
        bad = (x != 0) & (x != 1)
        if bool(bad.any()):
            value = float(x[bad][0])
            raise ZooError(
                f"The {what} models binary pixels (0 or 1), got values such as {value:.4g}; binarize the images "
                'first, e.g. load_dataset("mnist5k", binarize="stochastic") (--dataset-option binarize=stochastic).'
            )
    elif x.numel() and (not bool(torch.isfinite(x).all()) or float(x.min()) < 0 or float(x.max()) > 1):
        raise ZooError(
            f"The {what} models 8-bit grey levels in [0, 1], got values from {float(x.min()):.4g} to "
            f"{float(x.max()):.4g}; map the images to [0, 1] first."
        )


def seeded_generator(seed: int | None) -> torch.Generator:
    """The CPU generator a model's sampling draws from: seeded with ``seed``, or randomly when it is ``None``.

    One of the two seed helpers (with ``seeded``): explicit noise (``torch.randn(..., generator=g)``) comes
    from here, so the same seed gives the same images on any device.

    Example:
        >>> torch.randn(2, generator=seeded_generator(0)).equal(torch.randn(2, generator=seeded_generator(0)))
        True
    """
    generator = torch.Generator(device="cpu")
    generator.manual_seed(seed if seed is not None else int(torch.seed()))
    return generator


@contextlib.contextmanager
def seeded(seed: int | None, device: torch.device | str | None = None) -> Iterator[None]:
    """torch's global generators seeded with ``seed`` in a forked state, restored afterwards (``None``: untouched).

    For noise a model cannot draw from a generator of its own (dropout at test time): ``translate``
    runs under it. ``device``: a CUDA device whose generator is forked too.

    Example:
        >>> with seeded(0):
        ...     a = torch.rand(2)
        >>> with seeded(0):
        ...     torch.equal(a, torch.rand(2))
        True
    """
    if seed is None:
        yield
        return
    device = torch.device(device) if device is not None else torch.device("cpu")
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(seed)
        yield


def _run_in_eval(model: nn.Module, function: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
    """``function(model, *args, **kwargs)`` in eval mode under ``torch.inference_mode()``; every module's mode is
    restored afterwards (also a submodule that was kept in eval mode while the rest trains)."""
    if torch.is_inference_mode_enabled() and not model.training:
        return function(model, *args, **kwargs)  # a verb called by a verb: already clean
    modes = [(module, module.training) for module in model.modules()]
    try:
        model.eval()
        with torch.inference_mode():
            return function(model, *args, **kwargs)
    finally:
        for module, mode in modes:
            module.training = mode


def inference_verb(function: Callable[..., Any]) -> Callable[..., Any]:
    """Make a task verb run in eval mode under ``torch.inference_mode()``, restoring the modules' modes after.

    ``ZooModel`` applies it to every contract verb a model class defines (``__init_subclass__``), so a
    plugin writes only the computation; the task base classes use it on the verbs they implement.

    Example:
        >>> model.train(); model.sample(1); model.training  # BatchNorm statistics untouched
        True
    """
    if getattr(function, "__zoo_verb__", False):
        return function

    @functools.wraps(function)
    def verb(self: nn.Module, *args: Any, **kwargs: Any) -> Any:
        return _run_in_eval(self, function, args, kwargs)

    verb.__zoo_verb__ = True  # type: ignore[attr-defined]
    return verb


def _direction_problem(model: Any, direction: object) -> str:
    """Why ``model`` (an image-to-image model) does not translate in ``direction``: one sentence."""
    what = f"This {model.architecture or type(model).__name__} model"
    held: tuple[str, ...] = tuple(model.directions)
    if not held:
        return f"{what} translates one way only; call translate without a direction."
    if direction not in ("AtoB", "BtoA"):
        return f"{what} translates in direction {' or '.join(map(repr, held))}, not {direction!r}."
    return f"{what} holds only its {held[0]} direction, so it cannot translate {direction}; use direction={held[0]!r}."


def translate_verb(function: Callable[..., Any]) -> Callable[..., Any]:
    """``inference_verb`` for ``translate``: also checks ``direction`` against the model's ``directions`` and runs
    under ``seeded(seed, model.device)`` (``seed`` as passed, else the verb's default)."""
    if getattr(function, "__zoo_verb__", False):
        return function
    try:
        parameter = inspect.signature(function).parameters.get("seed")
    except (TypeError, ValueError):
        parameter = None
    default_seed = parameter.default if parameter is not None and parameter.default is not parameter.empty else 0

    @functools.wraps(function)
    def verb(self: Any, *args: Any, **kwargs: Any) -> Any:
        direction = kwargs.get("direction")
        if direction is not None and direction not in self.directions:
            raise ZooError(_direction_problem(self, direction))
        with seeded(kwargs.get("seed", default_seed), self.device):
            return _run_in_eval(self, function, args, kwargs)

    verb.__zoo_verb__ = True  # type: ignore[attr-defined]
    return verb


#: verbs whose hygiene wrapper is not plain ``inference_verb``
_VERB_WRAPPERS: dict[str, Callable[[Callable[..., Any]], Callable[..., Any]]] = {"translate": translate_verb}


def _wrap_verbs(cls: type[ZooModel]) -> None:
    """Wrap every contract verb ``cls`` itself defines (and aliases of it, ``upscale = translate``)."""
    from .tasks import TASKS

    wrapped: dict[int, Callable[..., Any]] = {}
    for task in cls.task_names():
        for name in TASKS[task].verbs:
            function = next((klass.__dict__[name] for klass in cls.__mro__ if name in klass.__dict__), None)
            if not inspect.isfunction(function) or getattr(function, "__zoo_verb__", False):
                continue
            if getattr(function, "__zoo_abstract__", False):
                continue
            wrapped[id(function)] = _VERB_WRAPPERS.get(name, inference_verb)(function)
            setattr(cls, name, wrapped[id(function)])  # also a verb inherited from a mixin that is no ZooModel
    for name, value in list(cls.__dict__.items()):
        if id(value) in wrapped:
            setattr(cls, name, wrapped[id(value)])


class UnconditionalGenerator:
    """Task ``unconditional`` (contract: ``zoo_core.tasks.Unconditional``): implement ``sample_batch``.

    Example:
        >>> class Noise(UnconditionalGenerator, ZooModel):
        ...     architecture, config_class = "noise", NoiseConfig
        ...     def sample_batch(self, n, generator):
        ...         return torch.rand(n, 1, 8, 8, generator=generator).to(self.device)
        >>> Noise(NoiseConfig()).sample(64, seed=0).shape
        torch.Size([64, 1, 8, 8])
    """

    task = "unconditional"
    #: how many images one forward pass draws
    sample_batch_size: ClassVar[int] = 256

    @abstract_verb
    def sample_batch(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """Draw ``n`` images; noise comes from ``generator`` (on the CPU, for reproducibility)."""
        raise NotImplementedError

    @inference_verb
    def sample(self, n: int, *, seed: int | None = None, progress: bool = False) -> torch.Tensor:
        """Draw ``n`` images as floats in [0, 1], ``(n, C, H, W)``; the same seed gives the same images.

        Example:
            >>> zoo.load("vae.mnist").sample(64, seed=0).shape
            torch.Size([64, 1, 28, 28])
        """
        check_count(n)
        from tqdm.auto import tqdm

        generator = seeded_generator(seed)
        sizes = [min(self.sample_batch_size, n - i) for i in range(0, n, self.sample_batch_size)]
        chunks = [
            self.sample_batch(size, generator).float().clamp(0, 1)
            for size in tqdm(sizes, desc="sampling", unit="batch", disable=not progress or len(sizes) < 2)
        ]
        return torch.cat(chunks)


def sample_in_batches(
    n: int,
    seed: int | None,
    batch_size: int,
    draw: Callable[[int, torch.Generator], torch.Tensor],
    *,
    method: str,
    methods: tuple[str, ...],
) -> torch.Tensor:
    """``n`` images from ``draw(count, generator)``, ``batch_size`` at a time, all from one generator seeded with
    ``seed`` (so the images do not depend on the batch size), as float32; for the autoregressive samplers.

    ``method`` (one of ``methods``, e.g. "fast" or "naive") is checked first, then ``n``: one sentence each.

    Example:
        >>> sample_in_batches(5, 0, 2, lambda k, g: torch.rand(k, 1, 2, 2, generator=g), method="fast",
        ...                   methods=("fast",)).shape
        torch.Size([5, 1, 2, 2])
    """
    if method not in methods:
        raise ZooError(f"Unknown sampling method {method!r}; use one of {', '.join(methods)}.")
    check_count(n)
    generator = seeded_generator(seed)
    return torch.cat([draw(min(batch_size, n - i), generator) for i in range(0, n, batch_size)]).float()


def pixel_noise(model: nn.Module, n: int, channels: int, size: int, generator: torch.Generator) -> torch.Tensor:
    """The uniform numbers ``(n, channels, size, size)`` an autoregressive sampler compares each pixel's probability
    with, on the model's device and in its dtype.

    Drawn in float64 on the CPU from ``generator``, once before the first pixel, so that every sampler of a
    model (cached or naive) and every machine consume the same numbers: from one seed they draw the same
    images. Used by the PixelCNN, Gated PixelCNN and PixelRNN samplers.

    Example:
        >>> noise = pixel_noise(model, 16, 1, 28, seeded_generator(0))
        >>> pixel = (noise[:, 0, i, j] < torch.sigmoid(logit)).to(noise.dtype)   # one Bernoulli draw per image
    """
    noise = torch.rand(n, channels, size, size, generator=generator, dtype=torch.float64)
    like = next(model.parameters())
    return noise.to(like.device, like.dtype)


def pixel_progress(pixels: int, batch: int, progress: bool):
    """A tqdm bar over the ``pixels`` of one autoregressive sampling run of ``batch`` images (silent unless
    ``progress``); used as a context manager.

    Example:
        >>> with pixel_progress(28 * 28, 16, progress=True) as bar:
        ...     for p in range(28 * 28):
        ...         bar.update()
    """
    from tqdm.auto import tqdm

    return tqdm(total=pixels, desc=f"sampling {batch} image(s)", unit="px", disable=not progress, leave=False)


def check_count(n: object) -> int:
    """``n`` if it is a whole number of images to draw (at least 1), or one sentence."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ZooError(f"Cannot draw {n!r} samples; ask for at least 1.")
    return n


def check_labels(labels: object, n: int, num_classes: int) -> torch.Tensor:
    """``labels`` (one class for all ``n`` images, or one per image) as a long tensor ``(n,)``, or one sentence.

    For class-conditional sampling (``sample(n, labels=...)`` of the Bayes-classifier sampler, the GMM).

    Example:
        >>> check_labels(3, 2, 10)
        tensor([3, 3])
        >>> check_labels(range(3), 3, 10)
        tensor([0, 1, 2])
    """
    problem = f"labels must be one class number from 0 to {num_classes - 1} or {n} of them, not {labels!r}."
    if isinstance(labels, bool):
        raise ZooError(problem)
    if isinstance(labels, int):
        out = torch.full((n,), labels, dtype=torch.long)
    else:
        try:
            out = torch.as_tensor(list(labels) if isinstance(labels, range) else labels)
        except (TypeError, ValueError, RuntimeError):
            raise ZooError(problem) from None
        if out.dim() != 1 or len(out) != n or out.is_floating_point() or out.dtype == torch.bool:
            raise ZooError(problem)
        out = out.long()
    if len(out) and (int(out.min()) < 0 or int(out.max()) >= num_classes):
        raise ZooError(problem)
    return out


class TextToImageGenerator:
    """Task ``text-to-image`` (contract: ``zoo_core.tasks.TextToImage``): implement ``sample``.

    Example:
        >>> zoo.load("stackgan.mnist").sample(4, text="a wide zero", seed=0).shape
        torch.Size([4, 1, 64, 64])
    """

    task = "text-to-image"

    @abstract_verb
    def sample(
        self,
        n: int,
        *,
        text: str | list[str] | None = None,
        embedding: torch.Tensor | None = None,
        seed: int | None = None,
        progress: bool = False,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        raise NotImplementedError


class TextEmbedder:
    """Task ``text-embedding`` (contract: ``zoo_core.tasks.TextEmbedding``): implement ``encode_text``.

    Example:
        >>> zoo.load("stackgan-text.mnist").encode_text("a thin one").shape
        torch.Size([1, 1024])
    """

    task = "text-embedding"

    @abstract_verb
    def encode_text(self, texts: str | Sequence[str]) -> torch.Tensor:
        raise NotImplementedError


class ImageTranslator:
    """Task ``image-to-image`` (contract: ``zoo_core.tasks.ImageToImage``): declare ``input_channels`` and
    ``output_channels``, implement ``translate``; ``size_multiple``, ``min_size``, ``scale`` default to 1,
    ``directions`` to ``()`` (one way) and ``translate_options`` to ``{}`` (no keyword beyond the contract's).

    Example:
        >>> class Invert(ImageTranslator, ZooModel):
        ...     architecture, config_class = "invert", InvertConfig
        ...     input_channels = output_channels = 1
        ...     def translate(self, x, *, direction=None, seed=0, progress=False):
        ...         return 1 - x
    """

    task = "image-to-image"
    size_multiple: int = 1
    min_size: int = 1
    scale: int = 1
    directions: tuple[str, ...] = ()
    translate_options: ClassVar[Mapping[str, str]] = MappingProxyType({})

    @abstract_verb
    def translate(
        self, x: torch.Tensor, *, direction: str | None = None, seed: int | None = 0, progress: bool = False
    ) -> torch.Tensor:
        raise NotImplementedError


class DensityModel:
    """Task ``density`` (contract: ``zoo_core.tasks.Density``): declare ``pixel_levels`` (2: binary pixels,
    256: 8-bit grey levels) and implement ``log_prob`` (nats per image), which checks its input with
    ``check_density_images``.

    Example:
        >>> zoo.load("pixelcnnpp.mnist").bits_per_dim(images).mean()
    """

    task = "density"
    #: declared by every density model class (no default: a binary model must not pass for an 8-bit one)
    pixel_levels: ClassVar[int]

    @abstract_verb
    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    @inference_verb
    def bits_per_dim(self, x: torch.Tensor) -> torch.Tensor:
        """``-log_prob(x) / (D ln 2)`` for each image, D = C x H x W (8.0 is a uniform 8-bit model)."""
        dims = x[0].numel()
        return -self.log_prob(x) / (dims * math.log(2.0))


class ImageClassifier:
    """Task ``classification`` (contract: ``zoo_core.tasks.Classification``): ``classify(x)`` gives class logits,
    ``features(x)`` the penultimate layer.

    Metrics such as FID-MNIST use ``features``; a classifier-based Inception Score uses ``classify``.
    """

    task = "classification"

    @abstract_verb
    def classify(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    @abstract_verb
    def features(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


class LatentModel:
    """Task ``latent`` (contract: ``zoo_core.tasks.Latent``): ``encode(x)`` to latent codes and ``decode(z)`` back."""

    task = "latent"

    @abstract_verb
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    @abstract_verb
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError
