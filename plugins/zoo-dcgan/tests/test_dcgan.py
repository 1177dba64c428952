"""zoo-dcgan: faithful to pytorch/examples dcgan/main.py; converters, training step and engine run."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from torch import nn
from zoo_dcgan.model import DCGAN, DCGANConfig
from zoo_dcgan.training import DCGANTrainingStep

import zoo_core as zoo
from zoo_core.cli import cli
from zoo_core.data import load_dataset
from zoo_core.training import TrainConfig, train

QUIET = {"progress": False, "verbose": False}


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


@pytest.mark.parametrize("size", [28, 0, 48, "64"])
def test_a_wrong_image_size_is_one_sentence(size: object) -> None:
    with pytest.raises(zoo.ZooError, match=r"^DCGAN image_size must be a power of two") as info:
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
    assert set(values) == {"loss_D", "loss_G", "D_x", "D_G_z1", "D_G_z2"}
    assert all(torch.isfinite(v) for v in values.values())
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
