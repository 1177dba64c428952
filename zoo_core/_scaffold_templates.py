"""The files ``zoo plugin new`` writes (``string.Template``: $dist, $pkg, $arch, $Cls), by task.

Every template passes its own tests and ``zoo plugin check`` once installed (``tests/test_plugin_kit.py``).
"""

from __future__ import annotations

PYPROJECT = """\
[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "$dist"
version = "0.1.0"
description = "A zoo plugin: the $arch architecture."
requires-python = ">=3.10"
dependencies = ["zoo-core", "torch"]

# zoo finds the plugin through this entry point: the module holds its hooks (no torch there)
[project.entry-points.zoo]
$arch = "$pkg.plugin"

[tool.setuptools.packages.find]
include = ["$pkg*"]

[tool.setuptools.package-data]
$pkg = ["catalog.json"]
"""

CATALOG = """\
{
  "version": 1,
  "models": {}
}
"""

INIT = '''\
"""$dist: a zoo plugin (see plugin.py for its hooks, model.py for the network, training.py for its recipe)."""
'''

PLUGIN = '''\
"""The zoo hooks of $dist. Keep torch out of this module: `zoo list` imports it and must stay fast.

Every name points lazily at code ("module:attribute"), imported only when a model is built or trained.
"""

from __future__ import annotations

import json
from importlib.resources import files

from zoo_core import Architecture, hookimpl


@hookimpl
def register_architectures(register):
    register(
        Architecture(
            name="$arch",
            model="$pkg.model:$Cls",
            tasks=($tasks),
            description="$description",
            training_step="$pkg.training:${Cls}TrainingStep",
            # a tiny config, so that the conformance kit (`zoo plugin check $dist`) runs in a second
            test_config=$test_config,
        )
    )


@hookimpl
def register_models(register):
    """The pretrained models this plugin ships: catalog.json, a fragment of zoo's registry (same schema)."""
    catalog = json.loads(files(__package__).joinpath("catalog.json").read_text(encoding="utf-8"))
    for name, entry in catalog["models"].items():
        register(name, entry)
'''

TESTS = '''\
"""The tests of $dist: zoo's conformance kit, then what is particular to this model."""

from __future__ import annotations

import torch

import zoo_core as zoo
from zoo_core.testing import check_architecture, conformance_tests

# one test per check of the kit: config round trip, meta build, verbs, eval mode, determinism,
# save -> load, a training step, registry entries
test_conformance = conformance_tests("$arch")


def test_the_kit_passes_as_a_function() -> None:
    report = check_architecture("$arch")
    assert report.ok, report.text()


$extra_test'''

README = """\
# $dist

A [zoo](https://github.com/) plugin: the `$arch` architecture ($task_words).

```bash
pip install -e .                  # registers the plugin (entry point group `zoo`)
zoo plugin check $dist            # zoo's conformance kit: one line per check
python -m pytest tests            # the same kit, plus this model's own tests
zoo train $arch --dataset $dataset --out runs/$arch --steps 200$train_options
```

- `$pkg/plugin.py`: the hooks (no torch): the architecture, with a tiny `test_config` for the kit, and
  the models of `catalog.json`.
- `$pkg/model.py`: the network and its config dataclass (every value checked against its type).
- `$pkg/training.py`: the training step `zoo train` runs.
- `$pkg/catalog.json`: pretrained models this plugin ships (entries as `zoo registry add` writes them).
- `tests/`: `zoo_core.testing.conformance_tests("$arch")` and the model's own tests.
"""

UNCONDITIONAL_MODEL = '''\
"""A small fully connected GAN: the network, its config and the verbs of the task ``unconditional``.

Example:
    >>> import zoo_core as zoo
    >>> gan = zoo.create("$arch", nz=16)
    >>> gan.sample(4, seed=0).shape
    torch.Size([4, 1, 28, 28])
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from zoo_core.modeling import ModelConfig, UnconditionalGenerator, ZooModel


@dataclass
class ${Cls}Config(ModelConfig):
    """Every value is checked against its type (and ``range``) wherever a config comes from."""

    image_size: int = 28
    channels: int = 1
    nz: int = 32
    hidden: int = 128
    slope: float = field(default=0.2, metadata={"range": (0.0, 1.0)})  # the discriminator's LeakyReLU


class ${Cls}(UnconditionalGenerator, ZooModel):
    """Generator ``nz -> hidden -> C x H x W`` (sigmoid: images in [0, 1]); discriminator back to one logit."""

    architecture = "$arch"
    config_class = ${Cls}Config

    def __init__(self, config: ${Cls}Config) -> None:
        super().__init__(config)
        pixels = config.channels * config.image_size * config.image_size
        self.generator = nn.Sequential(
            nn.Linear(config.nz, config.hidden),
            nn.BatchNorm1d(config.hidden),
            nn.ReLU(),
            nn.Linear(config.hidden, pixels),
            nn.Sigmoid(),
        )
        self.discriminator = nn.Sequential(
            nn.Flatten(),
            nn.Linear(pixels, config.hidden),
            nn.LeakyReLU(config.slope),
            nn.Linear(config.hidden, 1),
        )

    def generate(self, z: torch.Tensor) -> torch.Tensor:
        """Images ``(N, C, H, W)`` in [0, 1] for codes ``(N, nz)``."""
        c = self.config
        return self.generator(z).view(-1, c.channels, c.image_size, c.image_size)

    def sample_batch(self, n: int, generator: torch.Generator) -> torch.Tensor:
        # the noise comes from `generator` (seeded by sample(n, seed=...)); the base class runs this in
        # eval mode under torch.inference_mode() and restores the module's mode afterwards
        z = torch.randn(n, self.config.nz, generator=generator).to(self.device, self.dtype)
        return self.generate(z)
'''

UNCONDITIONAL_TRAINING = '''\
"""The training step of $arch for ``zoo train``: the non-saturating GAN loss, Adam, D then G on each batch.

Example:
    $$ zoo train $arch --dataset mnist5k --out runs/$arch --steps 200
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from zoo_core.training import StepParams, TrainingStep


@dataclass
class ${Cls}Params(StepParams):
    """Hyper-parameters, set with ``--train-config lr=1e-4``."""

    lr: float = 2e-4
    beta1: float = 0.5


class ${Cls}TrainingStep(TrainingStep):
    params_class = ${Cls}Params
    default_batch_size = 64
    default_epochs = 5
    dataset_kinds = ("images", "labelled")
    # what the final evaluation of `zoo train` reports (e.g. ("fid-mnist",) on MNIST-like data); none here
    eval_metrics: tuple[str, ...] = ()
    paper: dict[str, Any] = {  # noqa: RUF012 (read-only class data)
        "title": "Generative Adversarial Networks",
        "authors": "Ian J. Goodfellow et al.",
        "year": 2014,
        "url": "https://arxiv.org/abs/1406.2661",
    }
    license = "mit"
    recipe = "non-saturating GAN loss (BCE with logits), Adam 2e-4, betas (0.5, 0.999)"

    def networks(self) -> dict[str, nn.Module]:
        # the engine wraps these (DDP, torch.compile); forward passes go through self.nets[name]
        return {"g": self.model.generator, "d": self.model.discriminator}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        betas = (self.params.beta1, 0.999)
        return {
            "g": torch.optim.Adam(self.model.generator.parameters(), lr=self.params.lr, betas=betas),
            "d": torch.optim.Adam(self.model.discriminator.parameters(), lr=self.params.lr, betas=betas),
        }

    def train_step(self, batch: dict[str, Any], step: int) -> dict[str, torch.Tensor]:
        real = batch["image"]
        n, c = len(real), self.model.config
        z = self.global_randn(c.nz)  # the global batch's noise: N processes draw what one draws
        ones, zeros = torch.ones(n, 1, device=real.device), torch.zeros(n, 1, device=real.device)

        self.opts["d"].zero_grad(set_to_none=True)
        with self.autocast():
            fake = self.nets["g"](z).view_as(real)
            d_real, d_fake = self.nets["d"](real), self.nets["d"](fake.detach())
        loss_d = F.binary_cross_entropy_with_logits(d_real.float(), ones) + F.binary_cross_entropy_with_logits(
            d_fake.float(), zeros
        )
        self.global_loss(loss_d).backward()
        self.opts["d"].step()

        self.opts["g"].zero_grad(set_to_none=True)
        with self.autocast():
            d_fake = self.nets["d"](fake)
        loss_g = F.binary_cross_entropy_with_logits(d_fake.float(), ones)
        self.global_loss(loss_g).backward()
        self.opts["g"].step()
        return {"loss_d": loss_d.detach(), "loss_g": loss_g.detach()}
'''

UNCONDITIONAL_EXTRA_TEST = """\
def test_samples_are_digit_sized_images_in_0_1() -> None:
    gan = zoo.create("$arch", nz=8, hidden=16)
    images = gan.sample(3, seed=0)
    assert images.shape == (3, 1, 28, 28)
    assert float(images.min()) >= 0 and float(images.max()) <= 1
    assert torch.equal(images, gan.sample(3, seed=0))
"""

TRANSLATOR_MODEL = '''\
"""A small convolutional image-to-image network: the network, its config and the task ``image-to-image``.

Example:
    >>> import zoo_core as zoo
    >>> net = zoo.create("$arch")
    >>> net.translate(torch.rand(2, 3, 32, 32)).shape
    torch.Size([2, 3, 32, 32])
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from zoo_core.modeling import ImageTranslator, ModelConfig, ZooModel, check_images


@dataclass
class ${Cls}Config(ModelConfig):
    """Every value is checked against its type (and ``range``) wherever a config comes from."""

    input_channels: int = 3
    output_channels: int = 3
    width: int = 32
    image_size: int = 64  # the training crops' side; translate takes any size


class ${Cls}(ImageTranslator, ZooModel):
    """Three 3x3 convolutions with a residual connection when input and output channels agree."""

    architecture = "$arch"
    config_class = ${Cls}Config

    def __init__(self, config: ${Cls}Config) -> None:
        super().__init__(config)
        w = config.width
        self.net = nn.Sequential(
            nn.Conv2d(config.input_channels, w, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(w, w, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(w, config.output_channels, 3, padding=1),
        )

    # the image-to-image contract: what `zoo translate` reads before it calls translate (size_multiple,
    # min_size, scale and directions keep the base class's defaults: any size, one way)
    @property
    def input_channels(self) -> int:
        return self.config.input_channels

    @property
    def output_channels(self) -> int:
        return self.config.output_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.net(x * 2 - 1)
        if self.input_channels == self.output_channels:
            out = out + (x * 2 - 1)
        return (out.clamp(-1, 1) + 1) / 2

    def translate(self, x, *, direction=None, seed=0, progress=False):
        # the base class runs this in eval mode under torch.inference_mode(), seeded, and checks `direction`
        check_images(x, channels=self.input_channels, what="$arch")
        return self(x.to(self.device, self.dtype))
'''

TRANSLATOR_TRAINING = '''\
"""The training step of $arch for ``zoo train``: L1 between the translation and the paired target, Adam.

Example:
    $$ zoo train $arch --dataset photos-colorize --out runs/$arch --steps 200 \\\\
          --config input_channels=1 --config image_size=128
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from zoo_core.training import InputSpec, StepParams, TrainingStep


@dataclass
class ${Cls}Params(StepParams):
    """Hyper-parameters, set with ``--train-config lr=1e-4``."""

    lr: float = 1e-3


class ${Cls}TrainingStep(TrainingStep):
    params_class = ${Cls}Params
    default_batch_size = 8
    default_epochs = 10
    dataset_kinds = ("paired",)
    eval_metrics: tuple[str, ...] = ()  # e.g. ("l1", "psnr") on paired data
    paper: dict[str, Any] = {  # noqa: RUF012 (read-only class data)
        "title": "Image-to-Image Translation with Conditional Adversarial Networks",
        "authors": "Phillip Isola et al.",
        "year": 2017,
        "url": "https://arxiv.org/abs/1611.07004",
    }
    license = "mit"
    recipe = "L1 to the paired target, Adam 1e-3"

    def input_spec(self) -> InputSpec:
        c = self.model.config
        return InputSpec(c.input_channels, (c.image_size, c.image_size), self.dataset_kinds)

    def networks(self) -> dict[str, nn.Module]:
        return {"model": self.model}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"adam": torch.optim.Adam(self.model.parameters(), lr=self.params.lr)}

    def train_step(self, batch: dict[str, Any], step: int) -> dict[str, torch.Tensor]:
        self.opts["adam"].zero_grad(set_to_none=True)
        with self.autocast():
            out = self.nets["model"](batch["image"])
        loss = F.l1_loss(out.float(), batch["target"].float())
        self.global_loss(loss).backward()
        self.opts["adam"].step()
        return {"loss_l1": loss.detach()}
'''

TRANSLATOR_EXTRA_TEST = """\
def test_translate_keeps_the_size_and_the_range() -> None:
    net = zoo.create("$arch", width=8)
    x = torch.rand(2, 3, 20, 36)
    out = net.translate(x)
    assert out.shape == x.shape
    assert float(out.min()) >= 0 and float(out.max()) <= 1
"""


def _files(model: str, training: str, extra_test: str, **values: str) -> dict[str, str]:
    from string import Template

    def fill(text: str) -> str:  # task-specific values first; $dist, $pkg, $arch, $Cls stay for write_plugin
        return Template(text).safe_substitute(values)

    return {
        "pyproject.toml": PYPROJECT,
        "README.md": fill(README),
        "$pkg/__init__.py": INIT,
        "$pkg/plugin.py": fill(PLUGIN),
        "$pkg/model.py": model,
        "$pkg/training.py": training,
        "$pkg/catalog.json": CATALOG,
        "tests/test_$pkg.py": Template(TESTS).safe_substitute(extra_test=extra_test),
    }


#: task -> {relative path: text}, both still holding $dist, $pkg, $arch and $Cls
FILES: dict[str, dict[str, str]] = {
    "unconditional": _files(
        UNCONDITIONAL_MODEL,
        UNCONDITIONAL_TRAINING,
        UNCONDITIONAL_EXTRA_TEST,
        tasks='"unconditional",',
        description="A small fully connected GAN (written by zoo plugin new).",
        test_config='{"nz": 8, "hidden": 16}',
        task_words="unconditional image generation",
        dataset="mnist5k",
        train_options="",
    ),
    "image-to-image": _files(
        TRANSLATOR_MODEL,
        TRANSLATOR_TRAINING,
        TRANSLATOR_EXTRA_TEST,
        tasks='"image-to-image",',
        description="A small convolutional image-to-image network (written by zoo plugin new).",
        test_config='{"width": 4, "image_size": 16}',
        task_words="image-to-image translation",
        dataset="photos-colorize",
        train_options=" --config input_channels=1 --config image_size=128",
    ),
}
