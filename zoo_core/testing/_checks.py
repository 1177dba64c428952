"""The conformance checks (see ``zoo_core.testing``): each runs on its own and fails in one sentence."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import torch

from .._errors import ZooError
from ..specs import Architecture
from ._report import CheckResult, Report

__all__ = ["architectures_of", "check_architecture", "check_plugin"]

#: texts the text verbs are given
_TEXTS = ["a thin one", "a thick seven slanting to the right"]
_N = 2  # images per verb call: enough to see a batch dimension, cheap for any model


class CheckFailed(Exception):
    """A check's failure: its message is the sentence the report shows."""


def _fail(message: str) -> None:
    raise CheckFailed(message)


# -- what is checked ------------------------------------------------------------------------------------
def _resolve(architecture: str | Architecture) -> Architecture:
    if isinstance(architecture, Architecture):
        return architecture
    from .._catalog import get_catalog

    return get_catalog().architecture(architecture)


def architectures_of(target: str) -> tuple[str, list[Architecture]]:
    """What ``zoo plugin check TARGET`` checks: ``(plugin name, its architectures)``.

    ``target`` is an architecture name, the distribution name of an installed plugin (``zoo-vae``),
    or a plugin folder (its ``pyproject.toml`` names the distribution, which must be installed).

    Example:
        >>> architectures_of("zoo-stackgan")[1][0].name
        'stackgan'
    """
    from .._catalog import get_catalog

    catalog = get_catalog()
    folder = Path(target)
    if (folder / "pyproject.toml").is_file():
        name = _project_name(folder / "pyproject.toml")
        if not name:
            raise ZooError(f"{folder / 'pyproject.toml'} names no [project] name; a plugin needs one.")
        found = [a for a in catalog.architectures.values() if _same_dist(a.plugin, name)]
        if not found:
            raise ZooError(
                f"The plugin {name!r} in {folder} registers no architecture zoo can see; install it first "
                f"(pip install -e {folder}) and check `zoo plugins` for its errors."
            )
        return name, found
    if target in catalog.architectures:
        spec = catalog.architectures[target]
        return spec.plugin, [spec]
    found = [a for a in catalog.architectures.values() if _same_dist(a.plugin, target)]
    if found:
        return found[0].plugin, found
    if folder.is_dir():
        raise ZooError(f"{folder} holds no pyproject.toml; point at the plugin's folder, or name the plugin.")
    import difflib

    names = sorted({*catalog.architectures, *(a.plugin for a in catalog.architectures.values())})
    close = difflib.get_close_matches(target, names, n=2, cutoff=0.5)
    hint = f"did you mean {' or '.join(close)}? " if close else ""
    raise ZooError(
        f"{target!r} is no architecture, installed plugin or plugin folder: {hint}"
        "`zoo architectures` lists them (a plugin you wrote needs `pip install -e FOLDER` first)."
    )


def _project_name(path: Path) -> str:
    """``[project] name`` of a ``pyproject.toml`` ("" when it has none)."""
    text = path.read_text(encoding="utf-8")
    try:
        import tomllib
    except ImportError:  # Python 3.10: the one line is enough
        import re

        found = re.search(r"^name\s*=\s*[\"']([^\"']+)[\"']", text.split("[project]", 1)[-1], re.MULTILINE)
        return found.group(1) if found else ""
    try:
        return str(tomllib.loads(text).get("project", {}).get("name", ""))
    except tomllib.TOMLDecodeError as exc:
        raise ZooError(f"{path} is not valid TOML ({exc}); fix it first.") from exc


def _same_dist(a: str, b: str) -> bool:
    """Distribution names compare as pip compares them (``Demo_GAN`` is ``demo-gan``)."""
    import re

    return re.sub(r"[-_.]+", "-", a).lower() == re.sub(r"[-_.]+", "-", b).lower()


# -- helpers ------------------------------------------------------------------------------------------
def _images_out(value: Any, what: str, n: int | None = _N) -> torch.Tensor:
    """``value`` must be float images ``(n, C, H, W)``, finite, in [0, 1]."""
    if not isinstance(value, torch.Tensor):
        _fail(f"{what} returned {type(value).__name__}, not a tensor of images.")
    if value.dim() != 4 or (n is not None and value.shape[0] != n):
        _fail(f"{what} returned shape {tuple(value.shape)}, not ({n}, C, H, W).")
    if not value.is_floating_point():
        _fail(f"{what} returned {value.dtype}, not floating-point images.")
    if not torch.isfinite(value).all():
        _fail(f"{what} returned values that are not finite.")
    low, high = float(value.min()), float(value.max())
    if low < 0 or high > 1:
        _fail(f"{what} returned images in [{low:.3g}, {high:.3g}], not in [0, 1]; map them (e.g. (x + 1) / 2).")
    return value


def _finite_rows(value: Any, what: str, dims: int | None = None) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        _fail(f"{what} returned {type(value).__name__}, not a tensor.")
    if value.dim() == 0 or value.shape[0] != _N or (dims is not None and value.dim() != dims):
        shape = f"({_N},)" if dims == 1 else f"({_N}, ...)"
        _fail(f"{what} returned shape {tuple(value.shape)}, not {shape}.")
    if not value.is_floating_point() or not torch.isfinite(value).all():
        _fail(f"{what} returned non-finite or non-float values ({value.dtype}).")
    return value


def _input_images(model: Any, n: int = _N, shape: Any = None) -> torch.Tensor:
    """Random images the model takes: ``shape`` (C, H, W) when the architecture's ``test_data`` names one
    (``"input_shape"``), else channels and size from its contract attributes or its config; binary (0. or 1.)
    for a density model of binary pixels (``pixel_levels`` 2)."""
    generator = torch.Generator().manual_seed(1234)
    if shape:
        return _pixels(model, torch.rand(n, *shape, generator=generator))
    config = getattr(model, "config", None)
    channels = getattr(model, "input_channels", None)
    for key in ("channels", "input_nc", "in_channels"):
        if not channels:
            channels = getattr(config, key, None)
    size = getattr(config, "image_size", None)
    if isinstance(size, (tuple, list)):
        size = size[0]
    if not isinstance(size, int) or isinstance(size, bool):
        size = max(int(getattr(model, "min_size", 1) or 1), 16)
    multiple = int(getattr(model, "size_multiple", 1) or 1)
    size = -(-size // multiple) * multiple
    return _pixels(model, torch.rand(n, int(channels or 3), size, size, generator=generator))


def _pixels(model: Any, x: torch.Tensor) -> torch.Tensor:
    """``x`` as the pixels the model takes: thresholded to 0. / 1. for a model of binary pixels."""
    return (x > 0.5).to(x.dtype) if getattr(model, "pixel_levels", None) == 2 else x


def _verb_calls(model: Any, tasks: tuple[str, ...], shape: Any = None) -> dict[str, Callable[[], Any]]:
    """One call of each verb of each task (name -> call), on fixed inputs."""
    calls: dict[str, Callable[[], Any]] = {}
    for task in tasks:
        if task == "unconditional":
            calls["sample"] = lambda: model.sample(_N, seed=0)
        elif task == "text-to-image":
            calls["sample(text)"] = lambda: model.sample(_N, text=list(_TEXTS), seed=0)
        elif task == "image-to-image":
            x = _input_images(model, shape=shape)
            calls["translate"] = lambda x=x: model.translate(x)
        elif task == "density":
            x = _input_images(model, shape=shape)
            calls["log_prob"] = lambda x=x: model.log_prob(x)
            calls["bits_per_dim"] = lambda x=x: model.bits_per_dim(x)
        elif task == "latent":
            x = _input_images(model, shape=shape)
            calls["encode"] = lambda x=x: model.encode(x)
            calls["decode"] = lambda x=x: model.decode(model.encode(x))
        elif task == "classification":
            x = _input_images(model, shape=shape)
            calls["classify"] = lambda x=x: model.classify(x)
            calls["features"] = lambda x=x: model.features(x)
        elif task == "text-embedding":
            calls["encode_text"] = lambda: model.encode_text(list(_TEXTS))
        else:
            calls.update(_plugin_task_calls(model, task, shape))
    return calls


def _plugin_task_calls(model: Any, task: str, shape: Any = None) -> dict[str, Callable[[], Any]]:
    """The conformance calls a plugin's task declares (``Task.conformance``) on fixed input images."""
    from ..specs import resolve_target
    from ..tasks import CORE_TASKS, TASKS

    spec = TASKS[task]
    if task in CORE_TASKS or not spec.conformance:
        _fail(f"the kit has no check for the task {task!r}.")
    calls = resolve_target(spec.conformance)(model, _input_images(model, shape=shape))
    if not isinstance(calls, dict) or not calls or not all(callable(c) for c in calls.values()):
        _fail(f"{spec.conformance} (the conformance calls of the task {task!r}) did not return {{label: call}}.")
    return calls


def _tensors_of(value: Any) -> list[torch.Tensor]:
    """The tensors in a verb's result (a tensor, or a tuple / list / dict of them)."""
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (tuple, list)):
        return [t for v in value for t in _tensors_of(v)]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _tensors_of(v)]
    return []


def _check_task(model: Any, task: str, shape: Any = None) -> str:
    """Call the verbs of ``task`` and check what they return; the sentence of an ok result."""
    if task == "unconditional":
        out = _images_out(model.sample(_N, seed=0), "sample(2, seed=0)")
        return f"sample(2, seed=0) -> {tuple(out.shape)} {out.dtype} in [0, 1]"
    if task == "text-to-image":
        out = _images_out(model.sample(_N, text=list(_TEXTS), seed=0), "sample(2, text=[...], seed=0)")
        return f"sample(2, text=[...]) -> {tuple(out.shape)} in [0, 1]"
    x = _input_images(model, shape=shape)
    if task == "image-to-image":
        out = _images_out(model.translate(x), f"translate{tuple(x.shape)}")
        want = getattr(model, "output_channels", None)
        if want and out.shape[1] != want:
            _fail(f"translate returned {out.shape[1]} channel(s), but the model declares output_channels={want}.")
        scale = int(getattr(model, "scale", 1) or 1)
        if tuple(out.shape[-2:]) != (x.shape[-2] * scale, x.shape[-1] * scale):
            _fail(f"translate{tuple(x.shape)} returned {tuple(out.shape)}: not the input's size x scale {scale}.")
        return f"translate{tuple(x.shape)} -> {tuple(out.shape)} in [0, 1]"
    if task == "density":
        from ..modeling import PIXEL_LEVELS

        levels = getattr(model, "pixel_levels", None)
        if levels not in PIXEL_LEVELS:
            _fail(f"pixel_levels is {levels!r}; a density model declares 2 (binary pixels) or 256 (8-bit grey levels).")
        if levels == 2:
            grey = torch.full_like(x, 0.5)
            try:
                model.log_prob(grey)
            except ZooError:
                pass
            else:
                _fail(
                    "log_prob of grey pixels (0.5) did not fail, but the model declares binary pixels; check the "
                    "input with zoo_core.modeling.check_density_images."
                )
        log_prob = _finite_rows(model.log_prob(x), f"log_prob{tuple(x.shape)}", dims=1)
        bpd = _finite_rows(model.bits_per_dim(x), f"bits_per_dim{tuple(x.shape)}", dims=1)
        if (bpd <= 0).any():
            _fail(f"bits_per_dim returned {bpd.tolist()}: bits per dimension of discrete images are positive.")
        if not torch.allclose(bpd, -log_prob / (x[0].numel() * math.log(2.0)), rtol=1e-4, atol=1e-5):
            _fail("bits_per_dim(x) is not -log_prob(x) / (C H W ln 2).")
        return f"log_prob, bits_per_dim{tuple(x.shape)} -> ({_N},) finite, pixel_levels {levels}"
    if task == "latent":
        z = _finite_rows(model.encode(x), f"encode{tuple(x.shape)}")
        out = _images_out(model.decode(z), f"decode{tuple(z.shape)}")
        if out.shape != x.shape:
            _fail(f"decode(encode(x)) returned {tuple(out.shape)} for x of {tuple(x.shape)}.")
        return f"encode{tuple(x.shape)} -> {tuple(z.shape)}, decode -> images in [0, 1]"
    if task == "classification":
        logits = _finite_rows(model.classify(x), f"classify{tuple(x.shape)}", dims=2)
        features = _finite_rows(model.features(x), f"features{tuple(x.shape)}", dims=2)
        return f"classify -> {tuple(logits.shape)}, features -> {tuple(features.shape)}"
    if task == "text-embedding":
        out = _finite_rows(model.encode_text(list(_TEXTS)), "encode_text([2 texts])", dims=2)
        return f"encode_text([2 texts]) -> {tuple(out.shape)}"
    said = []
    for label, call in _plugin_task_calls(model, task, shape).items():
        tensors = _tensors_of(call())
        if not tensors:
            _fail(f"{label} returned no tensor.")
        for out in tensors:
            if out.is_floating_point() and not torch.isfinite(out).all():
                _fail(f"{label} returned values that are not finite.")
        said.append(f"{label} -> {', '.join(str(tuple(t.shape)) for t in tensors)}")
    return "; ".join(said)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
        return a.shape == b.shape and a.dtype == b.dtype and torch.allclose(a, b, rtol=1e-5, atol=1e-6, equal_nan=True)
    if isinstance(a, (tuple, list)) and type(a) is type(b):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def _build(model_class: Any, config: Any, seed: int = 0) -> Any:
    torch.manual_seed(seed)
    return model_class.from_config(config)


@contextlib.contextmanager
def _global_seed(seed: int) -> Iterator[None]:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


# -- the checks ---------------------------------------------------------------------------------------
class _Run:
    """Shared state of one architecture's checks (the model class, its config, a model built once)."""

    def __init__(self, spec: Architecture, config: dict[str, Any], test_data: dict[str, Any], workdir: Path) -> None:
        self.spec = spec
        self.config_values = config
        self.test_data = test_data
        self.workdir = workdir
        self.model_class = spec.model_class()
        self.shape = test_data.get("input_shape")
        self._model: Any = None

    @property
    def config(self) -> Any:
        return self.model_class.config_class.from_dict(dict(self.config_values), f"the test config of {self.spec.name}")

    def model(self) -> Any:
        """A model in eval mode, built once (checks that change it build their own)."""
        if self._model is None:
            self._model = _build(self.model_class, self.config).eval()
        return self._model

    # each check returns the sentence of an ok result (or raises CheckFailed / ZooError / any error)
    def check_config(self) -> str:
        cls = self.model_class
        from ..modeling import ModelConfig, ZooModel

        if not (isinstance(cls, type) and issubclass(cls, ZooModel)):
            _fail(f"{self.spec.model} is {cls!r}, not a zoo_core.ZooModel subclass.")
        if cls.architecture != self.spec.name:
            _fail(f"{cls.__name__}.architecture is {cls.architecture!r}, not the registered name {self.spec.name!r}.")
        config_class = cls.config_class
        if not (dataclasses.is_dataclass(config_class) and issubclass(config_class, ModelConfig)):
            _fail(f"{cls.__name__}.config_class is not a ModelConfig dataclass.")
        config = self.config
        values = config.to_dict()
        try:
            text = json.dumps(values)
        except (TypeError, ValueError) as exc:
            _fail(f"{config_class.__name__}.to_dict() is not JSON ({exc}); config values must be JSON values.")
        again = config_class.from_dict(json.loads(text), "the round trip")
        if again != config or again.to_dict() != values:
            fields = [f.name for f in dataclasses.fields(config)]
            changed = [k for k in fields if getattr(again, k, None) != getattr(config, k, None)] or fields
            _fail(f"{config_class.__name__} does not survive to_dict -> JSON -> from_dict (field {changed[0]!r}).")
        return f"{config_class.__name__} -> JSON -> from_dict is equal ({len(values)} fields)"

    def check_meta(self) -> str:
        from ..modeling import build_on_meta

        on_meta = build_on_meta(self.model_class, self.config)
        real = [t for t in [*on_meta.parameters(), *on_meta.buffers()] if not t.is_meta]
        if real:
            _fail(
                f"{len(real)} tensor(s) were allocated on a real device while building on meta, shaped "
                f"{tuple(real[0].shape)}; create tensors without device= so that torch.device('meta') applies."
            )
        model = self.model()
        shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
        meta_shapes = {k: tuple(v.shape) for k, v in on_meta.state_dict().items()}
        if shapes != meta_shapes:
            diff = sorted(set(shapes.items()) ^ set(meta_shapes.items()))
            _fail(f"The meta build's state dict differs from a real build's (at {diff[0][0]!r}).")
        return f"{len(shapes)} tensors, {sum(p.numel() for p in on_meta.parameters()):,} parameters, none allocated"

    def check_task(self, task: str) -> str:
        return _check_task(self.model(), task, self.shape)

    def check_eval_mode(self) -> str:
        model = _build(self.model_class, self.config)
        calls = _verb_calls(model, self.spec.tasks, self.shape)
        for mode in (True, False):
            for verb, call in calls.items():
                model.train(mode)
                flags = [m.training for m in model.modules()]
                buffers = {k: v.detach().clone() for k, v in model.named_buffers()}
                with _global_seed(0):
                    call()
                if [m.training for m in model.modules()] != flags:
                    now = "train" if model.training else "eval"
                    _fail(
                        f"{verb} called in {'train' if mode else 'eval'} mode left the model in {now} mode "
                        "(or changed a submodule's mode); restore the previous mode."
                    )
                for key, before in buffers.items():
                    after = dict(model.named_buffers())[key]
                    if not torch.equal(before, after.detach()):
                        _fail(
                            f"{verb} called in {'train' if mode else 'eval'} mode changed the buffer {key!r} "
                            "(BatchNorm statistics?); run verbs in eval mode under torch.inference_mode()."
                        )
        return f"{', '.join(calls)}: training flags and {len(list(model.buffers()))} buffers unchanged"

    def check_determinism(self) -> str:
        model = self.model()
        calls = _verb_calls(model, self.spec.tasks, self.shape)
        for verb, call in calls.items():
            with _global_seed(1):
                first = call()
            with _global_seed(1 if verb not in ("sample", "sample(text)") else 2):
                second = call()
            if not _same(first, second):
                why = " (a seeded verb must not draw from torch's global generator)" if "sample" in verb else ""
                _fail(f"{verb} gave different outputs for the same seed{why}.")
        other = _build(self.model_class, self.config, seed=0)
        if not all(
            torch.equal(a, b) for a, b in zip(model.state_dict().values(), other.state_dict().values(), strict=True)
        ):
            _fail("Two models built after torch.manual_seed(0) have different weights; initialise from torch's RNG.")
        return f"{', '.join(calls)} and init repeat under a seed"

    def check_save_load(self) -> str:
        from ..modeling import ZooModel

        model = self.model()
        folder = self.workdir / "save-load"
        model.save_pretrained(folder)
        loaded = type(model).from_pretrained(folder)
        if type(loaded) is not type(model):
            _fail(f"from_pretrained returned a {type(loaded).__name__}, not a {type(model).__name__}.")
        if loaded.config != model.config:
            _fail("The config read back from config.json differs from the saved one.")
        if loaded.training:
            _fail("from_pretrained returned a model in train mode; loaded models are in eval mode.")
        ours, theirs = model.state_dict(), loaded.state_dict()
        if list(ours) != list(theirs):
            _fail("The loaded model's state dict has other keys than the saved one's.")
        for key in ours:
            if not torch.equal(ours[key], theirs[key]):
                _fail(f"The tensor {key!r} differs after save_pretrained -> from_pretrained.")
        if self.spec.plugin:  # a registered architecture: the generic loader finds the class from config.json
            generic = ZooModel.from_pretrained(folder)
            if type(generic) is not type(model):
                _fail(f"ZooModel.from_pretrained read a {type(generic).__name__} from config.json.")
        for verb, call in _verb_calls(model, self.spec.tasks, self.shape).items():
            again = _verb_calls(loaded, self.spec.tasks, self.shape)[verb]
            with _global_seed(0):
                first = call()
            with _global_seed(0):
                second = again()
            if not _same(first, second):
                _fail(f"{verb} of the loaded model differs from the saved model's.")
        return f"strict load of {len(ours)} tensors, identical outputs"

    def _batch(self, step: Any, model: Any, size: int) -> tuple[dict[str, Any], str]:
        dataset_name = self.test_data.get("dataset")
        if dataset_name:
            from ..data import load_dataset
            from ..training.batches import BatchFetcher

            dataset = load_dataset(dataset_name, split="train", **dict(self.test_data.get("options") or {}))
            step.check_dataset(dataset)
            batch = BatchFetcher(dataset, torch.device("cpu")).fetch(torch.arange(min(size, len(dataset))))
            return batch, f"{dataset_name}"
        spec = step.input_spec()
        channels = spec.channels or getattr(model, "input_channels", None) or getattr(model.config, "channels", 0) or 3
        height, width = spec.image_size or (32, 32)
        generator = torch.Generator().manual_seed(0)
        batch: dict[str, Any] = {
            "image": _pixels(model, torch.rand(size, channels, height, width, generator=generator))
        }
        kind = spec.kinds[0] if spec.kinds else "images"
        if kind == "labelled":
            batch["label"] = torch.randint(0, 10, (size,), generator=generator)
        elif kind in ("paired", "unpaired"):  # a super-resolution model's targets are `scale` times larger
            scale = int(getattr(model, "scale", 1) or 1) if kind == "paired" else 1
            out_channels = int(getattr(model, "output_channels", 0) or channels)
            batch["target"] = torch.rand(size, out_channels, height * scale, width * scale, generator=generator)
        elif kind == "captioned":
            batch["caption"] = [_TEXTS[i % 2] for i in range(size)]
        return batch, f"random {kind}"

    def check_training_step(self) -> str:
        if self.spec.training_step is None:
            raise _Skip("the architecture registers no training step (not trainable with `zoo train`)")
        from ..training import TrainConfig

        step_class = self.spec.training_step_class()
        torch.manual_seed(0)
        model = self.model_class.from_config(self.config).train()
        train_config = TrainConfig(
            self.spec.name,
            str(self.test_data.get("dataset", "synthetic")),
            str(self.workdir / "train"),
            config=dict(self.config_values),
            step_config=dict(self.test_data.get("train_config") or {}),
            dataset_options=dict(self.test_data.get("options") or {}),
            seed=0,
        )
        step = step_class(model, train_config, world_size=1)
        size = int(self.test_data.get("batch_size", 4))
        batch, source = self._batch(step, model, size)
        step.nets = dict(step.networks())
        step.opts = dict(step.optimizers())
        step.scheds = dict(step.schedulers())
        step.global_batch_size, step.batch_slice = len(batch["image"]), slice(None)
        if step_class.closed_form:
            return self._check_closed_form_step(step, model, batch, size, source)
        # what the step trains: the model's parameters that one of its optimisers updates
        optimised = {id(p) for opt in step.opts.values() for group in opt.param_groups for p in group["params"]}
        trained = {name: p for name, p in model.named_parameters() if p.requires_grad and id(p) in optimised}
        if not trained:
            _fail("The step's optimizers() update none of the model's parameters.")
        idle = sorted({name.split(".")[0] for name, p in model.named_parameters() if id(p) not in optimised})
        reached: set[str] = set()
        handles = [
            p.register_post_accumulate_grad_hook(lambda _p, name=name: reached.add(name)) for name, p in trained.items()
        ]
        try:
            logged = step.train_step(batch, 0)
        finally:
            for handle in handles:
                handle.remove()
        if not isinstance(logged, dict) or not logged:
            _fail(f"train_step returned {type(logged).__name__}, not a dict of the numbers to log.")
        try:
            losses = {k: float(v) for k, v in logged.items()}
        except (TypeError, ValueError, RuntimeError) as exc:
            _fail(f"train_step logged a value that is not a number or a 0-d tensor ({exc}).")
        bad = {k: v for k, v in losses.items() if not math.isfinite(v)}
        if bad:
            _fail(f"train_step returned a loss that is not finite: {bad}.")
        missed = sorted(set(trained) - reached)
        if missed:
            _fail(
                f"No gradient reached {len(missed)} of {len(trained)} parameters, e.g. {missed[0]!r}; "
                "use them in the loss, or set requires_grad=False on what is frozen."
            )
        return (
            f"on a batch of {size} ({source}): {', '.join(f'{k}={v:.4g}' for k, v in losses.items())}; "
            f"gradients reach all {len(trained)} optimised parameters"
            + (f" (not optimised: {', '.join(idle)})" if idle else "")
        )

    def _check_closed_form_step(self, step: Any, model: Any, batch: dict[str, Any], size: int, source: str) -> str:
        """A ``closed_form`` step: no optimiser, no gradient; one step must change the model's tensors, finitely."""
        if step.opts:
            _fail(f"The step is closed_form but its optimizers() make {', '.join(step.opts)}; return {{}}.")
        learning = sorted(name for name, p in model.named_parameters() if p.requires_grad)
        if learning:
            _fail(
                f"The step is closed_form but the parameter {learning[0]!r} requires a gradient; create the "
                "model's parameters with requires_grad=False."
            )
        before = {k: v.detach().clone() for k, v in model.state_dict().items()}
        logged = step.train_step(batch, 0)
        if not isinstance(logged, dict) or not logged:
            _fail(f"train_step returned {type(logged).__name__}, not a dict of the numbers to log.")
        losses = {k: float(v) for k, v in logged.items()}
        bad = {k: v for k, v in losses.items() if not math.isfinite(v)}
        if bad:
            _fail(f"train_step returned a number that is not finite: {bad}.")
        after = model.state_dict()
        if not all(torch.isfinite(v).all() for v in after.values() if v.is_floating_point()):
            _fail("train_step left tensors of the model that are not finite.")
        changed = [k for k, v in before.items() if not torch.equal(v, after[k])]
        if not changed:
            _fail("The closed_form step changed none of the model's tensors; set them from the batch's statistics.")
        return (
            f"on a batch of {size} ({source}): {', '.join(f'{k}={v:.4g}' for k, v in losses.items())}; "
            f"closed form: {len(changed)} of {len(before)} tensors set from the batch"
        )

    def check_registry(self, entries: dict[str, dict[str, Any]] | None) -> str:
        from .._registry import validate_entry
        from ..publish import card_metadata, render_card

        if entries is None:
            from .._catalog import get_catalog

            catalog = get_catalog()
            entries = {}
            for name, info in catalog.models.items():
                if info.architecture == self.spec.name:
                    entries[name] = _entry_of(info)
        if not entries:
            raise _Skip("no registered model of this architecture yet (checked once you `zoo registry add` one)")
        for name, entry in entries.items():
            entry = validate_entry(name, entry, f"the entry {name!r}")
            arch, _, tag = name.partition(".")
            if arch != self.spec.name or not tag:
                _fail(f"The model name {name!r} is not {self.spec.name}.TAG.")
            extra = sorted(set(entry["tasks"]) - set(self.spec.tasks))
            if extra:
                _fail(f"{name} declares the task {extra[0]!r}, which the architecture does not serve.")
            self.model_class.config_class.from_dict(dict(entry["config"]), f"the config of {name}")
            try:
                card = render_card(name, entry)
                card_metadata(name, entry)
            except (KeyError, TypeError, ValueError) as exc:
                _fail(f"The model card of {name} cannot be written ({type(exc).__name__}: {exc}).")
            if f"# {name}" not in card:
                _fail(f"The model card of {name} does not name the model.")
        return f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'} valid, cards render"


def _entry_of(info: Any) -> dict[str, Any]:
    """The registry entry behind a catalog's ``ModelInfo``: its fields that the schema knows, set."""
    from .._registry import _validator

    schema = _validator().schema
    entry_schema = schema["properties"]["models"].get("additionalProperties") or {}
    if "$ref" in entry_schema:  # "#/$defs/entry"
        for part in entry_schema["$ref"].lstrip("#/").split("/"):
            schema = schema[part]
        entry_schema = schema
    known = set(entry_schema.get("properties", {}))
    return {k: v for k, v in info.to_dict().items() if k in known and v is not None}


class _Skip(Exception):
    """A check that does not apply (its message says why)."""


def check_architecture(
    architecture: str | Architecture,
    *,
    config: dict[str, Any] | None = None,
    test_data: dict[str, Any] | None = None,
    entries: dict[str, dict[str, Any]] | None = None,
    only: tuple[str, ...] | None = None,
) -> Report:
    """Run the conformance checks on one architecture; never raises for a failing check.

    Args:
        architecture: a registered architecture name, or an ``Architecture`` (registered or not).
        config: the model config to test (default: the architecture's ``test_config``, else the defaults).
        test_data: where the training step's batch comes from (default: the architecture's ``test_data``):
            ``{"dataset": "mnist5k", "options": {"size": 16}, "train_config": {...}, "batch_size": 4}``.
        entries: registry entries to check (default: the catalog's entries of the architecture).
        only: run only these checks (names as in ``CHECKS``; ``"task"`` for every ``task:*``).

    Example:
        >>> report = check_architecture("dcgan")
        >>> report.result("training-step").status
        'ok'
    """
    spec = _resolve(architecture)
    values = dict(config if config is not None else getattr(spec, "test_config", None) or {})
    data = dict(test_data if test_data is not None else getattr(spec, "test_data", None) or {})
    report = Report(spec.name, spec.plugin, values)
    if not values:
        report.notes.append("no test_config declared: the config's defaults are tested (slow for a big model)")
    with tempfile.TemporaryDirectory(prefix="zoo-check-") as tmp:
        try:
            run = _Run(spec, values, data, Path(tmp))
        except Exception as exc:
            report.results.append(CheckResult("config", "failed", _sentence(exc)))
            return report
        checks: list[tuple[str, Callable[[], str]]] = [("config", run.check_config), ("meta", run.check_meta)]
        checks += [(f"task:{task}", lambda task=task: run.check_task(task)) for task in spec.tasks]
        checks += [
            ("eval-mode", run.check_eval_mode),
            ("determinism", run.check_determinism),
            ("save-load", run.check_save_load),
            ("training-step", run.check_training_step),
            ("registry", lambda: run.check_registry(entries)),
        ]
        for name, check in checks:
            if only is not None and name not in only and name.partition(":")[0] not in only:
                continue
            report.results.append(_run_one(name, check))
    return report


def _sentence(exc: BaseException) -> str:
    known = isinstance(exc, (CheckFailed, ZooError, _Skip))
    text = str(exc) if known else f"raised {type(exc).__name__}: {exc}"
    text = " ".join(text.split())
    return text if len(text) <= 400 else text[:397] + "..."


def _run_one(name: str, check: Callable[[], str]) -> CheckResult:
    try:
        with torch.random.fork_rng(devices=[]):
            return CheckResult(name, "ok", check())
    except _Skip as exc:
        return CheckResult(name, "skipped", _sentence(exc))
    except KeyboardInterrupt:
        raise
    except Exception as exc:
        return CheckResult(name, "failed", _sentence(exc))


def check_plugin(target: str, **options: Any) -> list[Report]:
    """A report for each architecture of ``target`` (see ``architectures_of``).

    Example:
        >>> [r.ok for r in check_plugin("zoo-stackgan")]
        [True, True]
    """
    _, specs = architectures_of(target)
    return [check_architecture(spec, **options) for spec in specs]
