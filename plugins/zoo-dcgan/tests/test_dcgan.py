"""zoo-dcgan: faithful to pytorch/examples dcgan/main.py; converters, training step and engine run; the published
dcgan.mnist behaves as its card says; the upstream huggan/dcgan-mnist entry downloads, converts and loads strictly.

Golden outputs (``golden/dcgan.safetensors``) are written by running this module:
``python plugins/zoo-dcgan/tests/test_dcgan.py --write-golden`` (only after a deliberate change).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from safetensors.torch import load_file, save_file
from torch import nn
from zoo_dcgan.convert import HUGGAN_CONFIG
from zoo_dcgan.model import DCGAN, DCGANConfig
from zoo_dcgan.training import DCGANTrainingStep

import zoo_core as zoo
from zoo_core.cli import cli
from zoo_core.data import load_dataset
from zoo_core.training import TrainConfig, train

QUIET = {"progress": False, "verbose": False}
HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[2]
PUBLISHED = REPO_ROOT / "hub" / "zoo" / "dcgan-mnist"
GOLDEN = HERE / "golden" / "dcgan.safetensors"
UPSTREAM = "dcgan.mnist-huggan"


# -- the reference's layers, written out as documented (pytorch/examples dcgan/main.py at 64x64) ---
class ReferenceGenerator(nn.Module):
    def __init__(self, nz: int = 100, ngf: int = 64, nc: int = 3) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False),
            nn.BatchNorm2d(ngf * 8),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 4),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False),
            nn.Tanh(),
        )

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return self.main(input)


class ReferenceDiscriminator(nn.Module):
    def __init__(self, nc: int = 3, ndf: int = 64) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(nc, ndf, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 2),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 4),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 4, ndf * 8, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 8),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False),
            nn.Sigmoid(),
        )

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return self.main(input).view(-1, 1).squeeze(1)


def reference_weights_init(m: nn.Module) -> None:
    classname = m.__class__.__name__
    if classname.find("Conv") != -1:
        torch.nn.init.normal_(m.weight, 0.0, 0.02)
    elif classname.find("BatchNorm") != -1:
        torch.nn.init.normal_(m.weight, 1.0, 0.02)
        torch.nn.init.zeros_(m.bias)


def shapes(state: dict[str, torch.Tensor]) -> dict[str, tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in state.items()}


def randomise_batchnorm(module: nn.Module, seed: int) -> None:
    """Non-trivial running statistics, so that eval-mode outputs depend on them."""
    generator = torch.Generator().manual_seed(seed)
    for m in module.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=generator) * 0.1)
            m.running_var.copy_(torch.rand(m.running_var.shape, generator=generator) + 0.5)


# -- layout ----------------------------------------------------------------------------------------
def test_state_dict_is_the_reference_layout() -> None:
    model = zoo.create("dcgan")
    g, d = ReferenceGenerator(), ReferenceDiscriminator()
    assert shapes(model.generator.state_dict()) == shapes(g.state_dict())
    assert shapes(model.discriminator.state_dict()) == shapes(d.state_dict())
    assert list(model.state_dict()) == [f"generator.{k}" for k in g.state_dict()] + [
        f"discriminator.{k}" for k in d.state_dict()
    ]
    weights = {k for k in g.state_dict() if k.endswith(".weight") and g.state_dict()[k].dim() == 4}
    assert weights == {f"main.{i}.weight" for i in (0, 3, 6, 9, 12)}
    assert {k.rsplit(".", 1)[0] for k in g.state_dict() if "running_mean" in k} == {f"main.{i}" for i in (1, 4, 7, 10)}
    assert {k.rsplit(".", 1)[0] for k in d.state_dict() if "running_mean" in k} == {f"main.{i}" for i in (3, 6, 9)}
    assert sum(p.numel() for p in model.generator.parameters()) == 3_576_704


def test_a_reference_state_dict_loads_strictly_and_computes_the_same() -> None:
    torch.manual_seed(0)
    g, d = ReferenceGenerator(nc=1), ReferenceDiscriminator(nc=1)
    randomise_batchnorm(g, 1)
    randomise_batchnorm(d, 2)
    state = {f"generator.{k}": v for k, v in g.state_dict().items()}
    state |= {f"discriminator.{k}": v for k, v in d.state_dict().items()}
    model = DCGAN.from_weights(DCGANConfig(channels=1), state).eval()
    g.eval(), d.eval()
    z = torch.randn(3, 100, 1, 1)
    with torch.no_grad():
        assert torch.equal(model.generator(z), g(z))
        assert torch.allclose(model.generate(z), (g(z) + 1) / 2)
        x = torch.rand(3, 1, 64, 64)
        assert torch.equal(model.discriminator(x * 2 - 1), d(x * 2 - 1))
        assert torch.allclose(model.discriminate(x), d(x * 2 - 1))
        # sample(): z ~ N(0, I) (n, nz, 1, 1) from the seeded CPU generator, Tanh mapped to [0, 1]
        expected = (g(torch.randn(4, 100, 1, 1, generator=torch.Generator().manual_seed(5))) + 1) / 2
        assert torch.allclose(model.sample(4, seed=5), expected.clamp(0, 1))


def test_init_is_the_references_weights_init() -> None:
    torch.manual_seed(0)
    model = zoo.create("dcgan")
    for name, module in model.named_modules():
        if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)) and module.weight.numel() > 10_000:
            assert module.weight.std().item() == pytest.approx(0.02, rel=0.05), name
            assert abs(module.weight.mean().item()) < 2e-3, name
        if isinstance(module, nn.BatchNorm2d):
            assert module.weight.mean().item() == pytest.approx(1.0, abs=6e-3), name
            assert torch.equal(module.bias, torch.zeros_like(module.bias)), name
    bn = torch.cat([m.weight for m in model.modules() if isinstance(m, nn.BatchNorm2d)])
    assert bn.std().item() == pytest.approx(0.02, rel=0.1)
    # The reference's order of draws (netG, its weights_init, netD, its weights_init): equal weights.
    torch.manual_seed(0)
    g = ReferenceGenerator()
    g.apply(reference_weights_init)
    d = ReferenceDiscriminator()
    d.apply(reference_weights_init)
    for ours, theirs in ((model.generator, g), (model.discriminator, d)):
        for (key, a), b in zip(ours.state_dict().items(), theirs.state_dict().values(), strict=True):
            assert torch.equal(a, b), key


@pytest.mark.parametrize(("size", "widest"), [(32, 4), (64, 8), (128, 16)])
def test_image_sizes(size: int, widest: int) -> None:
    model = zoo.create("dcgan", image_size=size, channels=1, ngf=4, ndf=4, nz=8).eval()
    assert model.generator.main[0].out_channels == 4 * widest
    assert model.discriminator.main[-2].in_channels == 4 * widest
    blocks = int(math.log2(size)) - 2
    assert len(model.generator.main) == 3 * blocks + 2 and len(model.discriminator.main) == 3 * blocks + 1
    images = model.sample(2, seed=0)
    assert images.shape == (2, 1, size, size)
    assert images.min() >= 0 and images.max() <= 1
    assert model.discriminate(images).shape == (2,)


@pytest.mark.parametrize(
    ("size", "match"),
    [
        (28, r"^DCGAN image_size must be a power of two"),
        (48, r"^DCGAN image_size must be a power of two"),
        (0, r"^Config key 'image_size' of architecture 'dcgan' must be from 1 to"),
        ("64", r"^Config key 'image_size' of architecture 'dcgan' must be an integer, not '64'"),
    ],
)
def test_a_wrong_image_size_is_one_sentence(size: object, match: str) -> None:
    with pytest.raises(zoo.ZooError, match=match) as info:
        zoo.create("dcgan", image_size=size)
    assert "\n" not in str(info.value)


def test_verbs_check_their_inputs() -> None:
    model = zoo.create("dcgan", image_size=32, channels=1, ngf=4, ndf=4).eval()
    with pytest.raises(zoo.ZooError, match=r"codes shaped \(N, 100, 1, 1\)"):
        model.generate(torch.randn(2, 10))
    with pytest.raises(zoo.ZooError, match="32x32 images, got 64x64"):
        model.discriminate(torch.rand(2, 1, 64, 64))


# -- converters ------------------------------------------------------------------------------------
def test_huggan_checkpoint_converts_with_zoo_convert(tmp_path: Path) -> None:
    """A state dict in huggan/dcgan-mnist's layout (model.N, nc 3) becomes a generator-only model."""
    torch.manual_seed(3)
    g = ReferenceGenerator(nc=3)
    randomise_batchnorm(g, 4)
    path = tmp_path / "pytorch_model.bin"
    torch.save({k.replace("main.", "model.", 1): v for k, v in g.state_dict().items()}, path)
    out = tmp_path / "converted"
    result = CliRunner().invoke(cli, ["convert", "dcgan-huggan", str(path), "-o", str(out)])
    assert result.exit_code == 0, result.output
    config = json.loads((out / "config.json").read_text())
    assert config["with_discriminator"] is False and config["channels"] == 3 and config["image_size"] == 64
    loaded = zoo.load(str(out))
    assert loaded.discriminator is None
    assert all(k.startswith("generator.main.") for k in loaded.state_dict())
    expected = (g.eval()(torch.randn(6, 100, 1, 1, generator=torch.Generator().manual_seed(0))) + 1) / 2
    assert torch.allclose(loaded.sample(6, seed=0), expected.detach().clamp(0, 1), atol=1e-6)
    with pytest.raises(zoo.ZooError, match="generator only"):
        loaded.discriminate(torch.rand(1, 3, 64, 64))


def test_pytorch_examples_checkpoints(tmp_path: Path) -> None:
    """netG_epoch_N.pth converts (with the config it was trained with); netD is refused in one sentence."""
    torch.manual_seed(0)
    g, d = ReferenceGenerator(nc=1, ngf=8), ReferenceDiscriminator(nc=1, ndf=8)
    torch.save(g.state_dict(), tmp_path / "netG_epoch_0.pth")
    torch.save(d.state_dict(), tmp_path / "netD_epoch_0.pth")
    run = CliRunner().invoke
    args = ["convert", "dcgan-pytorch-examples", str(tmp_path / "netG_epoch_0.pth"), "-o", str(tmp_path / "o")]
    result = run(cli, args)
    assert result.exit_code == 1
    assert (
        "holds a generator with image_size=64, channels=1, nz=100, ngf=8; pass --config channels=1 --config ngf=8"
        in (result.output)
    )
    result = run(cli, [*args, "--config", "channels=1", "--config", "ngf=8"])
    assert result.exit_code == 0, result.output
    z = torch.randn(2, 100, 1, 1)
    assert torch.allclose(zoo.load(str(tmp_path / "o")).generate(z), (g.eval()(z) + 1) / 2)
    result = run(cli, ["convert", "dcgan-pytorch-examples", str(tmp_path / "netD_epoch_0.pth"), "-o", "x"])
    assert result.exit_code == 1 and "holds a discriminator (a convolution at 'main.2.weight')" in result.output


# -- training --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def digits32() -> torch.Tensor:
    return load_dataset("mnist5k", split="train", size=32).tensors()[:32]


def test_one_training_step_on_real_digits(digits32: torch.Tensor, tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = zoo.create("dcgan", image_size=32, channels=1, ngf=8, ndf=8)
    step = DCGANTrainingStep(model, TrainConfig("dcgan", "mnist5k", str(tmp_path)))
    step.nets, step.global_batch_size = step.networks(), len(digits32)
    step.opts = step.optimizers()
    assert {n: o.defaults["betas"] for n, o in step.opts.items()} == {"d": (0.5, 0.999), "g": (0.5, 0.999)}
    assert all(o.defaults["lr"] == 2e-4 for o in step.opts.values())
    before = {k: v.clone() for k, v in model.state_dict().items()}
    values = step.train_step({"image": digits32}, 0)
    assert set(values) == {"loss_D", "loss_G", "D_x", "D_G_z1", "D_G_z2"}  # finite: the kit's training-step check
    assert 0 < values["D_x"] < 1 and 0 < values["D_G_z2"] < 1
    for net in ("generator", "discriminator"):
        changed = [k for k, v in model.state_dict().items() if k.startswith(net) and not torch.equal(v, before[k])]
        assert any(k.endswith("main.0.weight") for k in changed), net


def test_training_checks_the_data_and_the_model(tmp_path: Path) -> None:
    cfg = TrainConfig("dcgan", "mnist5k", str(tmp_path))
    step = DCGANTrainingStep(zoo.create("dcgan", image_size=32, channels=1, ngf=4, ndf=4), cfg)
    with pytest.raises(zoo.ZooError, match=r"has 28x28 images but this dcgan takes 32x32; resize them with "):
        step.check_dataset(load_dataset("mnist5k", split="test"))
    step.check_dataset(load_dataset("mnist5k", split="test", size=32))
    generator_only = zoo.create("dcgan", with_discriminator=False, ngf=4)
    with pytest.raises(zoo.ZooError, match="generator only"):
        DCGANTrainingStep(generator_only, cfg)
    # FID-MNIST is the final metric on MNIST-like data only
    assert step.eval_metrics == ("fid-mnist",)
    faces = DCGANTrainingStep(zoo.create("dcgan", ngf=4, ndf=4), TrainConfig("dcgan", "faces", str(tmp_path)))
    assert faces.eval_metrics == ()


def test_zoo_train_writes_a_model_that_loads_and_samples(tmp_path: Path) -> None:
    result = train(
        "dcgan",
        "mnist5k",
        tmp_path / "run",
        steps=3,
        batch_size=16,
        dataset_options={"size": 32},
        config={"image_size": 32, "channels": 1, "ngf": 8, "ndf": 8},
        evaluate=False,
        **QUIET,
    )
    assert result.step == 3 and all(math.isfinite(v) for v in result.losses.values())
    model = zoo.load(str(result.model_dir))
    assert isinstance(model, DCGAN) and model.sample(4, seed=0).shape == (4, 1, 32, 32)
    lines = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert {"loss_D", "loss_G", "D_x", "D_G_z1", "D_G_z2"} <= set(lines[-1])
    entry = json.loads((tmp_path / "run" / "zoo-entry.json").read_text())
    assert "--dataset-option size=32" in entry["entry"]["made_by"]["command"]


# -- golden outputs --------------------------------------------------------------------------------
def tiny_reference_layout() -> tuple[DCGAN, ReferenceGenerator, torch.Tensor]:
    """A tiny randomly-initialised DCGAN in the reference's 64x64 layout, the reference's G with its weights, codes."""
    torch.manual_seed(0)
    model = zoo.create("dcgan", nz=8, ngf=4, ndf=4, channels=1)
    randomise_batchnorm(model, 1)
    reference = ReferenceGenerator(nz=8, ngf=4, nc=1)
    reference.load_state_dict(model.generator.state_dict(), strict=True)
    z = torch.randn(2, 8, 1, 1, generator=torch.Generator().manual_seed(2))
    return model.eval(), reference.eval(), z


def golden_values() -> dict[str, torch.Tensor]:
    """What golden/dcgan.safetensors holds, computed by the code under test."""
    model, _, z = tiny_reference_layout()
    with torch.no_grad():
        images = model.generate(z)
        probabilities = model.discriminate(images)
    published = zoo.ZooModel.from_pretrained(PUBLISHED)
    return {
        "tiny_images": images,
        "tiny_discriminator": probabilities,
        "mnist_samples_seed0": published.sample(4, seed=0),
    }


def test_tiny_reference_layout_golden_forward() -> None:
    """Fixed seed: the tiny model's images and D's outputs equal the stored ones, and the reference's G agrees."""
    golden = load_file(GOLDEN)
    model, reference, z = tiny_reference_layout()
    with torch.no_grad():
        images = model.generate(z)
        assert images.shape == (2, 1, 64, 64)
        assert torch.allclose(images, golden["tiny_images"], atol=1e-5)
        assert torch.allclose(model.discriminate(images), golden["tiny_discriminator"], atol=1e-5)
        assert torch.allclose(images, (reference(z) + 1) / 2, atol=1e-6)


def test_published_dcgan_mnist_golden_samples() -> None:
    """A fixed seed's samples of the published weights equal the stored golden output."""
    golden = load_file(GOLDEN)["mnist_samples_seed0"]
    model = zoo.ZooModel.from_pretrained(PUBLISHED)
    samples = model.sample(4, seed=0)
    assert samples.shape == (4, 1, 32, 32)
    assert torch.allclose(samples, golden, atol=1e-5)


# -- the published dcgan.mnist ---------------------------------------------------------------------
def test_published_weights_load_strictly() -> None:
    """The published file has exactly the keys of its config's model; one key too few or too many is refused."""
    state = load_file(PUBLISHED / "model.safetensors")
    config = zoo.info("dcgan.mnist").config
    assert set(state) == set(zoo.create("dcgan", **config).state_dict())
    model = DCGAN.from_weights(config, state)
    assert model.discriminator is not None and model.num_parameters() == zoo.info("dcgan.mnist").num_params
    missing = dict(state)
    missing.pop("generator.main.1.running_var")
    with pytest.raises(zoo.ZooError, match=r"missing 1 key\(s\) such as 'generator.main.1.running_var'"):
        DCGAN.from_weights(config, missing)
    with pytest.raises(zoo.ZooError, match=r"unexpected key\(s\) such as 'discriminator.main.0.weight'"):
        DCGAN.from_weights({**config, "with_discriminator": False}, state)
    with pytest.raises(zoo.ZooError, match="do not fit DCGAN's config"):
        DCGAN.from_weights({**config, "ngf": 32}, state)


def test_zoo_sample_dcgan_mnist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`zoo sample dcgan.mnist` writes the grid of model.sample(n, seed) from the sha256-checked published file."""
    import numpy as np
    from PIL import Image

    from zoo_core._images import make_grid

    monkeypatch.setenv("ZOO_HUB_DIR", str(REPO_ROOT / "hub"))
    out = tmp_path / "grid.png"
    result = CliRunner().invoke(cli, ["sample", "dcgan.mnist", "-n", "16", "--seed", "3", "-o", str(out)])
    assert result.exit_code == 0, result.output
    pixels = torch.from_numpy(np.array(Image.open(out)))
    assert pixels.shape == (4 * 34 + 2, 4 * 34 + 2)
    expected = make_grid(zoo.ZooModel.from_pretrained(PUBLISHED).sample(16, seed=3))[:, :, 0]
    assert torch.equal(pixels, torch.from_numpy(expected))


def test_zoo_info_dcgan_mnist() -> None:
    info = zoo.info("dcgan.mnist")
    result = CliRunner().invoke(cli, ["info", "dcgan.mnist"])
    assert result.exit_code == 0, result.output
    fid = next(m["value"] for m in info.metrics if m["name"] == "fid-mnist")
    for text in (
        "architecture: dcgan (plugin zoo-dcgan)",
        "source:       trained by zoo",
        "parameters:   1,728,128",
        f"fid-mnist:    {fid:.3f} (mnist5k test)",
        info.made_by["command"],
        '"image_size": 32, "channels": 1',
    ):
        assert text in result.output
    assert info.weights["repo_id"] == "zoo/dcgan-mnist" and info.dataset["name"] == "mnist5k"
    assert "--dataset-option size=32 --config image_size=32 --config channels=1" in info.made_by["command"]


@pytest.mark.slow
def test_published_card_matches_registry_and_hub_revision() -> None:
    """The card carries the registry's FID-MNIST, the command, and the comparison with vae.mnist; the revision
    `zoo hub serve` gives the folder is the registry's."""
    import yaml

    info = zoo.info("dcgan.mnist")
    fid = next(m["value"] for m in info.metrics if m["name"] == "fid-mnist")
    vae_fid = next(m["value"] for m in zoo.info("vae.mnist").metrics if m["name"] == "fid-mnist")
    card = (PUBLISHED / "README.md").read_text()
    header = yaml.safe_load(card.split("---")[1])
    assert header["model-index"][0]["results"][0]["metrics"][0] == {
        "type": "fid-mnist",
        "value": fid,
        "name": "fid-mnist",
    }
    assert info.made_by["command"] in card and f"| fid-mnist | {fid:.4g} |" in card
    assert f"| `dcgan.mnist` samples | {fid:.1f} |" in card and f"| `vae.mnist` samples | {vae_fid:.1f} |" in card
    assert fid < vae_fid  # the GAN's samples are closer to the held-out digits than the VAE's
    assert (PUBLISHED / "samples.png").is_file()
    result = CliRunner().invoke(cli, ["hub", "revisions", str(REPO_ROOT / "hub"), "--json"])
    assert json.loads(result.output)["zoo/dcgan-mnist"] == info.weights["revision"]


def test_zoo_eval_reproduces_the_card(monkeypatch: pytest.MonkeyPatch) -> None:
    """`zoo eval dcgan.mnist --metric fid-mnist --dataset mnist5k` gives the number in the card and the registry."""
    monkeypatch.setenv("ZOO_HUB_DIR", str(REPO_ROOT / "hub"))  # the published files, sha256-checked
    args = ["eval", "dcgan.mnist", "--metric", "fid-mnist", "--dataset", "mnist5k", "--json"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    (measured,) = json.loads(result.output)
    recorded = next(m for m in zoo.info("dcgan.mnist").metrics if m["name"] == "fid-mnist")
    # computed on this CPU, recorded on another: float32 kernels differ in the 6th-7th digit, a real change in the 2nd
    assert measured["samples"] == 500 and measured["value"] == pytest.approx(recorded["value"], rel=1e-4)


#: the first logged steps of the published run (its log.jsonl): losses are means over each 10 steps
PUBLISHED_RUN_LOG = [
    {"step": 10, "loss_D": 0.74378, "loss_G": 2.970203, "D_x": 0.870762, "D_G_z1": 0.383652, "D_G_z2": 0.084353},
    {"step": 20, "loss_D": 0.260787, "loss_G": 4.283741, "D_x": 0.920863, "D_G_z1": 0.14886, "D_G_z2": 0.018526},
]


@pytest.mark.slow
def test_the_cards_command_retraces_the_published_run(tmp_path: Path) -> None:
    """The card's command, stopped after 20 of its 1,775 steps (about 10 s), logs the published run's losses.

    The whole run takes 3 minutes on 2 cores: too long for the suite; data order, noise, init and
    updates are what a short run checks. It runs on one thread (steady on a shared machine), the
    published run on two: the float sums differ, by up to 2e-3 relative in these 20 steps, while
    another seed or beta1 0.9 changes them by 2-30 %.
    """
    import os
    import shlex
    import subprocess

    words = shlex.split(zoo.info("dcgan.mnist").made_by["command"])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "ZOO_"))}
    env |= {"HF_HOME": str(tmp_path / "hf"), "ZOO_CACHE": str(tmp_path / "zoo-cache"), "OMP_NUM_THREADS": "1"}
    while "=" in words[0]:  # leading VAR=value assignments
        key, value = words.pop(0).split("=", 1)
        env[key] = value
    assert words[:3] == ["zoo", "train", "dcgan"]
    words[words.index("--out") + 1] = str(tmp_path / "run")
    args = [sys.executable, "-m", "zoo_core", *words[1:], "--steps", "20", "--no-eval"]
    done = subprocess.run(args, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    logged = [line for line in lines if "loss_D" in line]
    assert [line["step"] for line in logged] == [10, 20]
    for line, expected in zip(logged, PUBLISHED_RUN_LOG, strict=True):
        assert {k: line[k] for k in expected} == pytest.approx(expected, rel=1e-2)


# -- the upstream entry: huggan/dcgan-mnist ---------------------------------------------------------
def test_upstream_entry_is_an_unpinned_pickle_from_the_authors() -> None:
    info = zoo.info(UPSTREAM)
    assert info.source == "upstream" and info.architecture == "dcgan"
    assert info.weights == {
        "repo_id": "huggan/dcgan-mnist",
        "filename": "pytorch_model.bin",
        "revision": "main",
        "sha256": None,
        "format": "pickle",
        "converter": "dcgan-huggan",
    }
    assert info.config == HUGGAN_CONFIG
    assert info.num_params == zoo.create("dcgan", **HUGGAN_CONFIG).num_parameters() == 3_576_704
    assert "pinned on the first verified download" in info.description
    assert zoo.info("dcgan").name == "dcgan.mnist"  # the architecture's default is ours, not the download
    listed = CliRunner().invoke(cli, ["list", "dcgan.*"]).output
    row = next(line for line in listed.splitlines() if line.startswith(f"{UPSTREAM} "))
    assert row.split()[-4:] == ["downloaded", "from", "the", "authors"] and "3.58M" in row
    shown = CliRunner().invoke(cli, ["info", UPSTREAM]).output
    assert "sha256:       not pinned in the registry: pinned on the first verified download" in shown


@pytest.fixture
def huggan_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, ReferenceGenerator]:
    """A local Hub folder holding huggan/dcgan-mnist's pytorch_model.bin in its layout (model.N, nc 3, 64x64)."""
    torch.manual_seed(11)
    g = ReferenceGenerator(nc=3)  # modeling_dcgan.Generator: the same layers under `model`
    randomise_batchnorm(g, 12)
    weights = tmp_path / "hub" / "huggan" / "dcgan-mnist" / "pytorch_model.bin"
    weights.parent.mkdir(parents=True)
    torch.save({f"model.{k.removeprefix('main.')}": v for k, v in g.state_dict().items()}, weights)
    monkeypatch.setenv("ZOO_HUB_DIR", str(tmp_path / "hub"))
    return weights, g.eval()


def test_upstream_download_converts_pins_and_loads_strictly(huggan_hub, capsys: pytest.CaptureFixture[str]) -> None:
    """zoo.load fetches the pickle, pins its sha256, converts it once to safetensors and loads it strictly."""
    from zoo_core.hub import verify as _verify
    from zoo_core.hub.cache import zoo_cache_dir

    weights, g = huggan_hub
    model = zoo.load(UPSTREAM)
    assert isinstance(model, DCGAN) and model.discriminator is None
    sha = _verify.sha256_file(weights)
    assert f"pinned {sha}" in capsys.readouterr().err
    assert list(json.loads((zoo_cache_dir() / "pins.json").read_text()).values()) == [sha]
    converted = model.weights_path
    assert converted.suffix == ".safetensors" and converted.parent.name == "converted"
    assert set(load_file(converted)) == set(zoo.create("dcgan", **HUGGAN_CONFIG).state_dict())
    z = torch.randn(5, 100, 1, 1, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.allclose(model.sample(5, seed=0), ((g(z) + 1) / 2).clamp(0, 1), atol=1e-6)
    again = zoo.load(UPSTREAM)  # the converted file is reused: no new pin, the pickle is not read again
    assert again.weights_path == converted and "pinned" not in capsys.readouterr().err


def test_upstream_file_that_changed_after_pinning_is_refused(huggan_hub) -> None:
    from zoo_core.hub import verify as _verify

    weights, _ = huggan_hub
    zoo.load(UPSTREAM)
    _verify.forget_verified()
    state = torch.load(weights, weights_only=True)
    state["model.1.bias"] += 1
    torch.save(state, weights)
    with pytest.raises(zoo.ChecksumMismatchError, match="failed their sha256 check"):
        zoo.load(UPSTREAM)


if __name__ == "__main__" and sys.argv[1:] == ["--write-golden"]:
    GOLDEN.parent.mkdir(exist_ok=True)
    save_file({k: v.contiguous() for k, v in golden_values().items()}, GOLDEN)
    print(f"wrote {GOLDEN}")
