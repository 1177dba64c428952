"""Issue 14, items 1-2: task contracts (refused at definition and registration) and the model hygiene of the base."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass

import pytest
import torch
from torch import nn

import zoo_core as zoo
from zoo_core.modeling import (
    DensityModel,
    ImageTranslator,
    LatentModel,
    ModelConfig,
    UnconditionalGenerator,
    ZooModel,
)
from zoo_core.specs import Architecture
from zoo_core.tasks import TASKS, ImageToImage, Unconditional, check_contract


@dataclass
class BNConfig(ModelConfig):
    size: int = 4


class BNGenerator(UnconditionalGenerator, ZooModel):
    """A generator with BatchNorm and dropout: train mode would change its statistics and its output."""

    architecture = "bn-generator"
    config_class = BNConfig

    def __init__(self, config: BNConfig) -> None:
        super().__init__(config)
        self.net = nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.Dropout(0.5), nn.Linear(16, 16))
        self.seen: list[tuple[bool, bool, bool]] = []

    def sample_batch(self, n: int, generator: torch.Generator) -> torch.Tensor:
        self.seen.append((self.training, torch.is_inference_mode_enabled(), torch.is_grad_enabled()))
        z = torch.randn(n, 8, generator=generator)
        return torch.sigmoid(self.net(z)).view(n, 1, 4, 4)


def test_sample_one_image_in_train_mode_leaves_batchnorm_and_the_mode_alone() -> None:
    torch.manual_seed(0)
    model = BNGenerator(BNConfig()).train()
    bn = model.net[1]
    mean, var, count = bn.running_mean.clone(), bn.running_var.clone(), int(bn.num_batches_tracked)
    images = model.sample(1, seed=0)  # BatchNorm in train mode cannot normalise one sample: this needs eval mode
    assert images.shape == (1, 1, 4, 4) and images.min() >= 0 and images.max() <= 1
    assert torch.equal(bn.running_mean, mean) and torch.equal(bn.running_var, var)
    assert int(bn.num_batches_tracked) == count
    assert model.training and all(m.training for m in model.modules())
    assert model.seen == [(False, True, False)]  # eval mode, inference mode, no gradients inside the verb
    assert torch.equal(model.sample(3, seed=5), model.sample(3, seed=5))  # dropout off: the seed decides


def test_a_submodule_kept_in_eval_mode_stays_there() -> None:
    model = BNGenerator(BNConfig()).train()
    model.net[2].eval()  # e.g. a frozen part while the rest trains
    model.sample(2, seed=0)
    assert model.training and model.net[1].training and not model.net[2].training


def test_every_verb_of_a_task_runs_in_eval_mode() -> None:
    class Both(UnconditionalGenerator, LatentModel, ZooModel):
        architecture, config_class = "both", BNConfig

        def __init__(self, config: BNConfig) -> None:
            super().__init__(config)
            self.bn = nn.BatchNorm1d(2)
            self.modes: list[tuple[str, bool, bool]] = []

        def _note(self, verb: str) -> None:
            self.modes.append((verb, self.bn.training, torch.is_inference_mode_enabled()))

        def encode(self, x: torch.Tensor) -> torch.Tensor:
            self._note("encode")
            return self.bn(x.flatten(1)[:, :2])

        def decode(self, z: torch.Tensor) -> torch.Tensor:
            self._note("decode")
            return torch.sigmoid(z).view(-1, 1, 1, 2)

        def sample_batch(self, n: int, generator: torch.Generator) -> torch.Tensor:
            self._note("sample_batch")
            return self.decode(torch.randn(n, 2, generator=generator))

    model = Both(BNConfig()).train()
    model.encode(torch.rand(1, 1, 1, 2))
    model.sample(1, seed=0)
    assert model.modes == [(v, False, True) for v in ("encode", "sample_batch", "decode")]
    assert model.training and model.bn.training


def test_translate_is_seeded_and_leaves_the_global_generator_alone() -> None:
    class Noisy(ImageTranslator, ZooModel):
        architecture, config_class = "noisy", BNConfig
        input_channels = output_channels = 1

        def translate(self, x, *, direction=None, seed=0, progress=False):
            return nn.functional.dropout(x, 0.5, training=True)  # test-time noise from torch's generator

    model = Noisy(BNConfig())
    x = torch.ones(1, 1, 8, 8)
    torch.manual_seed(123)
    state = torch.random.get_rng_state()
    a, b = model.translate(x, seed=1), model.translate(x, seed=1)
    assert torch.equal(a, b) and not torch.equal(a, model.translate(x, seed=2))
    assert torch.equal(torch.random.get_rng_state(), state)  # forked: the caller's stream is untouched
    with pytest.raises(zoo.ZooError, match="translates one way only; call translate without a direction"):
        model.translate(x, direction="AtoB")


# -- contracts ------------------------------------------------------------------------------------------
def test_a_model_class_without_a_verb_of_its_task_is_refused_naming_it() -> None:
    with pytest.raises(zoo.ZooError) as info:

        class NoDecode(LatentModel, ZooModel):
            architecture, config_class = "no-decode", BNConfig

            def encode(self, x: torch.Tensor) -> torch.Tensor:
                return x

    assert str(info.value) == (
        "The model class test_a_model_class_without_a_verb_of_its_task_is_refused_naming_it.<locals>.NoDecode "
        "('no-decode') declares the task 'latent' but has no verb decode(z); add it to the class."
    )


def test_an_image_to_image_model_must_declare_its_attributes_and_signature() -> None:
    with pytest.raises(
        zoo.ZooError, match=r"declares the task 'image-to-image' but not its attribute 'input_channels'"
    ):

        class NoChannels(ImageTranslator, ZooModel):
            architecture, config_class = "no-channels", BNConfig

            def translate(self, x, *, direction=None, seed=0, progress=False):
                return x

    with pytest.raises(zoo.ZooError) as info:

        class OldSignature(ImageTranslator, ZooModel):
            architecture, config_class = "old-signature", BNConfig
            input_channels = output_channels = 3

            def translate(self, x):
                return x

    assert "its translate does not take the keyword 'direction'; the contract is " in str(info.value)
    assert "translate(x, *, direction=None, seed=0, progress=False)." in str(info.value)
    with pytest.raises(zoo.ZooError, match="its sample_batch needs the argument 'scale' that the contract does not"):

        class ExtraArgument(UnconditionalGenerator, ZooModel):
            architecture, config_class = "extra", BNConfig

            def sample_batch(self, n, generator, scale):
                return torch.zeros(n, 1, 2, 2)


def test_extra_keywords_with_defaults_fulfil_the_contract() -> None:
    class Extra(UnconditionalGenerator, ZooModel):  # as PixelCNN++'s sample(method=...)
        architecture, config_class = "extra-ok", BNConfig

        def sample_batch(self, n, generator, *, method="fast"):
            return torch.zeros(n, 1, 2, 2)

    assert isinstance(Extra(BNConfig()), Unconditional) and not isinstance(Extra(BNConfig()), ImageToImage)


def test_an_architecture_registered_with_a_task_its_class_does_not_serve_is_refused() -> None:
    architecture = Architecture("bn-generator", model=BNGenerator, tasks=("unconditional", "density"), plugin="demo")
    with pytest.raises(zoo.ZooError) as info:
        architecture.model_class()
    assert str(info.value) == (
        "The architecture 'bn-generator' (plugin demo) declares the task 'density' but its model class BNGenerator "
        "does not serve it; mix in zoo_core.modeling.DensityModel."
    )
    assert Architecture("bn-generator", model=BNGenerator, tasks=("unconditional",)).model_class() is BNGenerator


def test_a_class_that_is_no_zoo_model_is_checked_by_its_verbs() -> None:
    class Duck:
        def log_prob(self, x):
            return x

    with pytest.raises(zoo.ZooError, match=r"has no verb bits_per_dim\(x\)"):
        check_contract(Duck, ["density"], "The model class Duck")
    assert DensityModel.bits_per_dim  # the base class derives it


@pytest.mark.parametrize("name", ["vae", "dcgan", "pixelcnnpp", "cyclegan", "pix2pix", "srgan", "stackgan", "mnistnet"])
def test_every_first_party_architecture_fulfils_its_contracts(name: str) -> None:
    from zoo_core._catalog import get_catalog

    architecture = get_catalog().architecture(name)
    cls = architecture.model_class()  # checks the contracts of the tasks it declares
    assert set(architecture.tasks) <= set(cls.task_names())
    for task in architecture.tasks:
        for verb in TASKS[task].verbs:
            assert getattr(cls, verb).__zoo_verb__  # the base class's hygiene wraps every verb


def test_the_task_table_stays_free_of_torch() -> None:
    code = "import sys, zoo_core.tasks, zoo_core.specs; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
    assert TASKS["image-to-image"][1] == TASKS["image-to-image"].pipeline_tag == "image-to-image"
