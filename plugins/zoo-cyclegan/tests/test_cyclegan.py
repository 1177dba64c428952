"""zoo-cyclegan: faithful to junyanz/pytorch-CycleGAN-and-pix2pix; the official checkpoints' layout loads strictly
(legacy InstanceNorm keys too) through cyclegan-junyanz, also through a download from a loopback server; the
training step is the reference's optimize_parameters and resumes exactly; the published cyclegan.digits2mnist
behaves as its card says.

Golden outputs (``golden/cyclegan.safetensors``) are written by running this module:
``python plugins/zoo-cyclegan/tests/test_cyclegan.py --write-golden`` (only after a deliberate change).
"""

from __future__ import annotations

import copy
import hashlib
import io
import itertools
import json
import sys
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import torch
from click.testing import CliRunner
from safetensors.torch import load_file, save_file
from torch import nn
from zoo_cyclegan.convert import OFFICIAL_CONFIG, convert_junyanz
from zoo_cyclegan.data import DigitsMnistDataset
from zoo_cyclegan.model import CycleGAN
from zoo_cyclegan.training import LOSS_NAMES, CycleGANTrainingStep
from zoo_cyclegan.upstream import OFFICIAL, official_entries

import zoo_core as zoo
from conftest import serve_files
from zoo_core.cli import cli
from zoo_core.data import load_dataset
from zoo_core.training import TrainConfig, train

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[2]
GOLDEN = HERE / "golden" / "cyclegan.safetensors"
PUBLISHED_NAME = "cyclegan.digits2mnist"
PUBLISHED = REPO_ROOT / "hub" / "zoo" / "cyclegan-digits2mnist"
QUIET = {"progress": False, "verbose": False}
TINY = {"input_nc": 1, "output_nc": 1, "ngf": 4, "ndf": 4, "netG": "resnet_2blocks", "image_size": 24}
TINY_DATA = {"size": 24, "margin": 0}


# -- the reference's networks, written out as documented (architectures.md; models/networks.py) -------------
class ReferenceResnetBlock(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.conv_block = nn.Sequential(
            nn.ReflectionPad2d(1),
            nn.Conv2d(dim, dim, 3),
            nn.InstanceNorm2d(dim),
            nn.ReLU(True),
            nn.ReflectionPad2d(1),
            nn.Conv2d(dim, dim, 3),
            nn.InstanceNorm2d(dim),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv_block(x)


class ReferenceResnetGenerator(nn.Module):
    """resnet_Nblocks with instance norm: convolutions with bias, InstanceNorm2d(affine=False), Tanh."""

    def __init__(self, input_nc: int = 3, output_nc: int = 3, ngf: int = 64, n_blocks: int = 9) -> None:
        super().__init__()
        layers: list[nn.Module] = [
            nn.ReflectionPad2d(3),
            nn.Conv2d(input_nc, ngf, 7),
            nn.InstanceNorm2d(ngf),
            nn.ReLU(True),
        ]
        layers += [nn.Conv2d(ngf, 2 * ngf, 3, 2, 1), nn.InstanceNorm2d(2 * ngf), nn.ReLU(True)]
        layers += [nn.Conv2d(2 * ngf, 4 * ngf, 3, 2, 1), nn.InstanceNorm2d(4 * ngf), nn.ReLU(True)]
        layers += [ReferenceResnetBlock(4 * ngf) for _ in range(n_blocks)]
        layers += [nn.ConvTranspose2d(4 * ngf, 2 * ngf, 3, 2, 1, output_padding=1), nn.InstanceNorm2d(2 * ngf)]
        layers += [nn.ReLU(True), nn.ConvTranspose2d(2 * ngf, ngf, 3, 2, 1, output_padding=1)]
        layers += [
            nn.InstanceNorm2d(ngf),
            nn.ReLU(True),
            nn.ReflectionPad2d(3),
            nn.Conv2d(ngf, output_nc, 7),
            nn.Tanh(),
        ]
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class ReferenceDiscriminator(nn.Module):
    """basic (70x70 PatchGAN) with instance norm: convolutions model.0, 2, 5, 8, 11, all with bias."""

    def __init__(self, input_nc: int = 3, ndf: int = 64) -> None:
        super().__init__()
        self.model = nn.Sequential(
            nn.Conv2d(input_nc, ndf, 4, 2, 1),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf, 2 * ndf, 4, 2, 1),
            nn.InstanceNorm2d(2 * ndf),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(2 * ndf, 4 * ndf, 4, 2, 1),
            nn.InstanceNorm2d(4 * ndf),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(4 * ndf, 8 * ndf, 4, 1, 1),
            nn.InstanceNorm2d(8 * ndf),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(8 * ndf, 1, 4, 1, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


def reference_init(net: nn.Module) -> nn.Module:
    """init_weights('normal', 0.02): conv weights N(0, 0.02), biases 0, visited with net.apply."""

    def init(m: nn.Module) -> None:
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            nn.init.constant_(m.bias, 0.0)

    return net.apply(init)


def randomised(net: nn.Module, seed: int) -> nn.Module:
    """Weights far from the N(0, 0.02) init (std 0.1 weights, non-zero biases), so outputs depend on every tensor."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=generator) * 0.1)
    return net.eval()


def legacy_state_dict(net: nn.Module, with_count: bool = False) -> dict[str, torch.Tensor]:
    """The state dict a pre-0.4 save would hold: running_mean / running_var for every InstanceNorm."""
    state = dict(net.state_dict())
    for name, module in net.named_modules():
        if isinstance(module, nn.InstanceNorm2d):
            state[f"{name}.running_mean"] = torch.randn(module.num_features) * 0.1
            state[f"{name}.running_var"] = torch.rand(module.num_features) + 0.5
            if with_count:
                state[f"{name}.num_batches_tracked"] = torch.tensor(7)
    return state


def pickled(state: dict[str, torch.Tensor]) -> bytes:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


def shapes(state: dict[str, torch.Tensor]) -> dict[str, tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in state.items()}


# -- layout and strict loading --------------------------------------------------------------------------
def test_generator_is_the_documented_official_layout() -> None:
    """resnet_9blocks / instance: model.1, 4, 7, 10-18 conv_block.{1,5}, 19, 22, 26; 48 tensors, 11,378,179 params."""
    model = zoo.create("cyclegan", with_discriminators=False)
    reference = ReferenceResnetGenerator()
    ours = model.netG_A.state_dict()
    assert shapes(ours) == shapes(reference.state_dict()) and list(ours) == list(reference.state_dict())
    assert len(ours) == 48 and sum(v.numel() for v in ours.values()) == 11_378_179
    convs = {k.rsplit(".", 1)[0] for k in ours}
    blocks = {f"model.{i}.conv_block.{j}" for i in range(10, 19) for j in (1, 5)}
    assert convs == {"model.1", "model.4", "model.7", "model.19", "model.22", "model.26"} | blocks
    assert list(model.state_dict()) == [f"netG_A.{k}" for k in ours] + [f"netG_B.{k}" for k in ours]
    assert model.size_multiple == 4 and model.directions == ("AtoB", "BtoA")


def test_a_reference_cyclegan_loads_strictly_and_computes_the_same() -> None:
    """The reference's four networks (G_A 1->3 channels, G_B 3->1, D_A on B, D_B on A) under the model's prefixes."""
    torch.manual_seed(0)
    g_a, g_b = randomised(ReferenceResnetGenerator(1, 3, 8, 3), 1), randomised(ReferenceResnetGenerator(3, 1, 8, 3), 2)
    d_a, d_b = randomised(ReferenceDiscriminator(3, 8), 3), randomised(ReferenceDiscriminator(1, 8), 4)
    state = {}
    for prefix, net in (("netG_A", g_a), ("netG_B", g_b), ("netD_A", d_a), ("netD_B", d_b)):
        state |= {f"{prefix}.{k}": v for k, v in net.state_dict().items()}
    config = {"input_nc": 1, "output_nc": 3, "ngf": 8, "ndf": 8, "netG": "resnet_3blocks", "image_size": 32}
    model = CycleGAN.from_weights(config, state).eval()
    a, b = torch.rand(2, 1, 32, 36), torch.rand(2, 3, 32, 36)
    with torch.no_grad():
        assert torch.allclose(model.translate(a), (g_a(a * 2 - 1) + 1) / 2, atol=1e-6)
        assert torch.allclose(model.translate(b, direction="BtoA"), (g_b(b * 2 - 1) + 1) / 2, atol=1e-6)
        assert torch.allclose(model.reconstruct(a, "AtoB"), (g_b(g_a(a * 2 - 1)) + 1) / 2, atol=1e-6)
        assert torch.equal(model.netD_A(b), d_a(b)) and torch.equal(model.netD_B(a), d_b(a))
    missing = dict(state)
    missing.pop("netD_B.model.11.bias")
    with pytest.raises(zoo.ZooError, match=r"missing 1 key\(s\) such as 'netD_B.model.11.bias'"):
        CycleGAN.from_weights(config, missing)


def test_init_draws_as_the_reference_g_a_g_b_d_a_d_b() -> None:
    torch.manual_seed(0)
    model = zoo.create("cyclegan", input_nc=1, output_nc=1, ngf=8, ndf=8, netG="resnet_6blocks", image_size=32)
    torch.manual_seed(0)
    nets = [ReferenceResnetGenerator(1, 1, 8, 6), None, None, None]
    reference_init(nets[0])
    nets[1] = reference_init(ReferenceResnetGenerator(1, 1, 8, 6))
    nets[2] = reference_init(ReferenceDiscriminator(1, 8))
    nets[3] = reference_init(ReferenceDiscriminator(1, 8))
    for ours, theirs in zip((model.netG_A, model.netG_B, model.netD_A, model.netD_B), nets, strict=True):
        for (key, x), y in zip(ours.state_dict().items(), theirs.state_dict().values(), strict=True):
            assert torch.equal(x, y), key
    weights = torch.cat([m.weight.flatten() for m in model.modules() if isinstance(m, nn.Conv2d)])
    assert weights.std().item() == pytest.approx(0.02, rel=0.05)


@pytest.mark.parametrize("with_count", [False, True])
def test_legacy_official_file_converts_and_loads_strictly(tmp_path: Path, with_count: bool) -> None:
    """A pre-0.4 official file (InstanceNorm running stats) through `zoo convert cyclegan-junyanz`: same outputs."""
    reference = randomised(ReferenceResnetGenerator(), 5)
    state = legacy_state_dict(reference, with_count)
    assert len(state) == 48 + (3 if with_count else 2) * (5 + 2 * 9)
    path = tmp_path / "horse2zebra.pth"
    torch.save(state, path)
    result = CliRunner().invoke(cli, ["convert", "cyclegan-junyanz", str(path), "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    config = json.loads((tmp_path / "out" / "config.json").read_text())
    assert config == {"architecture": "cyclegan", **OFFICIAL_CONFIG}
    model = zoo.load(str(tmp_path / "out"))
    assert model.netG_B is None and model.netD_A is None and model.directions == ("AtoB",)
    assert set(load_file(tmp_path / "out" / "model.safetensors")) == {f"netG_A.{k}" for k in reference.state_dict()}
    x = torch.rand(1, 3, 24, 20)
    with torch.no_grad():
        assert torch.allclose(model.translate(x), (reference(x * 2 - 1) + 1) / 2, atol=1e-6)


def test_single_direction_models_refuse_the_other_direction_in_one_sentence() -> None:
    reference = randomised(ReferenceResnetGenerator(3, 1, 8, 2), 6)  # a latest_net_G_B.pth of a 1 -> 3 model
    config = {**OFFICIAL_CONFIG, "input_nc": 1, "output_nc": 3, "ngf": 8, "netG": "resnet_2blocks"}
    with pytest.raises(
        zoo.ZooError, match=r"holds a AtoB generator with .*; pass --config input_nc=3 --config output_nc=1"
    ):
        convert_junyanz(reference.state_dict(), config)
    state = convert_junyanz(reference.state_dict(), {**config, "directions": "BtoA"})
    model = CycleGAN.from_weights({**config, "directions": "BtoA"}, state).eval()
    y = torch.rand(2, 3, 16, 16)
    assert torch.allclose(model.translate(y), (reference(y * 2 - 1) + 1) / 2, atol=1e-6)  # its own direction
    with pytest.raises(zoo.ZooError) as info:
        model.translate(torch.rand(1, 1, 16, 16), direction="AtoB")
    message = str(info.value)
    assert (
        message
        == "This cyclegan model holds only its BtoA direction, so it cannot translate AtoB; use direction='BtoA'."
    )
    with pytest.raises(zoo.ZooError, match="holds only its BtoA generator"):
        model.reconstruct(y, "BtoA")
    from zoo_core.translate import input_channels, translate_images

    assert input_channels(model) == 3  # `zoo translate` without --direction reads images for its B -> A input
    assert translate_images(model, torch.rand(3, 20, 20)).shape == (1, 20, 20)  # padded to 4s, cropped back


def test_converter_refuses_what_is_not_an_official_generator() -> None:
    g = ReferenceResnetGenerator(3, 3, 8, 2).state_dict()
    small = {**OFFICIAL_CONFIG, "ngf": 8, "netG": "resnet_2blocks"}
    assert set(convert_junyanz({f"module.{k}": v for k, v in g.items()}, small)) == {f"netG_A.{k}" for k in g}
    with pytest.raises(zoo.ZooError, match=r"with netG=resnet_2blocks, ngf=8, .*; pass --config netG=resnet_2blocks"):
        convert_junyanz(g, OFFICIAL_CONFIG)
    with pytest.raises(zoo.ZooError, match=r"holds a discriminator \(a 4x4 convolution at 'model.0.weight'\)"):
        convert_junyanz(ReferenceDiscriminator(3, 8).state_dict(), small)
    with pytest.raises(zoo.ZooError, match="directions=AtoB"):
        convert_junyanz(g, {**small, "directions": "both"})
    with pytest.raises(zoo.ZooError, match="with_discriminators=false"):
        convert_junyanz(g, {**small, "with_discriminators": True})
    with pytest.raises(zoo.ZooError, match="not a generator key"):
        convert_junyanz({"netG_A.model.1.weight": torch.zeros(1)}, small)
    # a key the model has no place for (not a legacy InstanceNorm statistic) is still refused by the strict load
    with pytest.raises(zoo.ZooError, match=r"unexpected key\(s\) such as 'netG_A.model.3.running_mean'"):
        CycleGAN.from_weights(small, convert_junyanz({**g, "model.3.running_mean": torch.zeros(8)}, small))


def test_config_and_input_errors_are_one_sentence() -> None:
    for config, text in (
        ({"netG": "resnet_x"}, "Unknown CycleGAN generator 'resnet_x'"),
        ({"netD": "huge"}, "Unknown CycleGAN discriminator 'huge'"),
        ({"directions": "sideways"}, "CycleGAN directions must be 'both', 'AtoB' or 'BtoA'"),
        ({"directions": "AtoB"}, "has no discriminators; set with_discriminators=false"),
        ({"image_size": 30}, "image_size must be a multiple of 4 for resnet_9blocks, not 30"),
        ({"ngf": 0}, "'ngf' of architecture 'cyclegan' must be from 1 to"),
    ):
        with pytest.raises(zoo.ZooError, match=text) as info:
            zoo.create("cyclegan", **{"ngf": 4, "ndf": 4, **config})
        assert "\n" not in str(info.value)
    model = zoo.create("cyclegan", **TINY).eval()
    with pytest.raises(zoo.ZooError, match=r"takes images with 1 channel\(s\), got 3"):
        model.translate(torch.rand(1, 3, 8, 8))
    with pytest.raises(zoo.ZooError, match=r"sides are multiples of 4, got 10x8; pad or resize them first"):
        model.translate(torch.rand(1, 1, 10, 8))
    with pytest.raises(zoo.ZooError, match="direction 'AtoB' or 'BtoA', not 'up'"):
        model.translate(torch.rand(1, 1, 8, 8), direction="up")
    out = model.translate(torch.rand(3, 1, 12, 16), direction="BtoA")
    assert out.shape == (3, 1, 12, 16) and out.dtype == torch.float32 and out.min() >= 0 and out.max() <= 1
    assert zoo.create("cyclegan", netG="unet_256", ngf=4, ndf=4).size_multiple == 256


# -- the data ---------------------------------------------------------------------------------------------
def test_digits_mnist_is_unpaired_real_digits() -> None:
    train_set = load_dataset("digits-mnist", split="train")
    assert (len(train_set), train_set.kind, train_set.channels, train_set.image_size) == (4500, "unpaired", 1, (28, 28))
    assert (len(train_set.domain_a), len(train_set.domain_b)) == (1442, 4500)
    item = train_set[1442]
    assert torch.equal(item["image"], train_set.domain_a[0]["image"])  # A[i % len(A)]
    assert torch.equal(train_set[5]["target"], train_set[5]["target"])  # B drawn from the item's seeded generator
    train_set.set_epoch(1)
    assert any(not torch.equal(train_set[i]["target"], load_dataset("digits-mnist")[i]["target"]) for i in range(4))
    assert torch.equal(load_dataset("digits-mnist", serial=True)[7]["target"], train_set.domain_b[7]["image"])
    swapped = load_dataset("digits-mnist", split="test", direction="BtoA", size=32)
    assert (len(swapped.domain_a), len(swapped.domain_b), swapped.image_size) == (500, 355, (32, 32))
    assert train_set.domain_a.tensors()[:, :, :4].max() == 0  # a 4-pixel black frame, as MNIST's


# -- training -------------------------------------------------------------------------------------------------
def reference_optimize_parameters(model: CycleGAN, real_a: torch.Tensor, real_b: torch.Tensor) -> dict[str, float]:
    """cycle_gan_model.py's optimize_parameters on a copy: G step (D frozen), then D step; the pools are empty."""
    g_a, g_b, d_a, d_b = model.netG_A, model.netG_B, model.netD_A, model.netD_B
    mse, l1 = nn.MSELoss(), nn.L1Loss()
    opt_g = torch.optim.Adam(itertools.chain(g_a.parameters(), g_b.parameters()), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(itertools.chain(d_a.parameters(), d_b.parameters()), lr=2e-4, betas=(0.5, 0.999))
    fake_b, fake_a = g_a(real_a), g_b(real_b)
    rec_a, rec_b = g_b(fake_b), g_a(fake_a)
    for p in itertools.chain(d_a.parameters(), d_b.parameters()):
        p.requires_grad_(False)
    opt_g.zero_grad()
    pred_a, pred_b = d_a(fake_b), d_b(fake_a)
    losses = {
        "idt_A": l1(g_a(real_b), real_b) * 10 * 0.5,
        "idt_B": l1(g_b(real_a), real_a) * 10 * 0.5,
        "G_A": mse(pred_a, torch.ones_like(pred_a)),
        "G_B": mse(pred_b, torch.ones_like(pred_b)),
        "cycle_A": l1(rec_a, real_a) * 10,
        "cycle_B": l1(rec_b, real_b) * 10,
    }
    sum(losses.values()).backward()
    opt_g.step()
    for p in itertools.chain(d_a.parameters(), d_b.parameters()):
        p.requires_grad_(True)
    opt_d.zero_grad()
    for name, net, real, fake in (("D_A", d_a, real_b, fake_b), ("D_B", d_b, real_a, fake_a)):
        pred_real, pred_fake = net(real), net(fake.detach())
        loss = (mse(pred_real, torch.ones_like(pred_real)) + mse(pred_fake, torch.zeros_like(pred_fake))) * 0.5
        loss.backward()
        losses[name] = loss
    opt_d.step()
    return {k: float(v.detach()) for k, v in losses.items()}


def make_step(model: CycleGAN, tmp_path: Path, **step_config: Any) -> CycleGANTrainingStep:
    step = CycleGANTrainingStep(model, TrainConfig("cyclegan", "digits-mnist", str(tmp_path), step_config=step_config))
    step.nets, step.global_batch_size = step.networks(), 1
    step.opts = step.optimizers()
    step.scheds = step.schedulers()
    return step


def test_one_step_is_the_references_optimize_parameters(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = zoo.create("cyclegan", **{**TINY, "image_size": 28})
    reference = copy.deepcopy(model)
    data = load_dataset("digits-mnist")
    batch = {k: v.unsqueeze(0) for k, v in data[3].items()}
    step = make_step(model, tmp_path)
    assert {n: (o.defaults["lr"], o.defaults["betas"]) for n, o in step.opts.items()} == {
        "G": (2e-4, (0.5, 0.999)),
        "D": (2e-4, (0.5, 0.999)),
    }
    assert step.fake_A_pool.pool_size == step.fake_B_pool.pool_size == 50 and step.criterion_gan.gan_mode == "lsgan"
    values = step.train_step(batch, 0)
    assert tuple(values) == LOSS_NAMES
    expected = reference_optimize_parameters(reference, batch["image"] * 2 - 1, batch["target"] * 2 - 1)
    assert {k: float(v) for k, v in values.items()} == pytest.approx(expected, rel=1e-5)
    for (key, ours), theirs in zip(model.state_dict().items(), reference.state_dict().values(), strict=True):
        assert torch.allclose(ours, theirs, atol=1e-7), key
    assert all(p.requires_grad for p in model.parameters())
    assert len(step.fake_A_pool) == len(step.fake_B_pool) == 1


def test_linear_decay_and_checks(tmp_path: Path) -> None:
    model = zoo.create("cyclegan", **TINY)
    step = make_step(model, tmp_path, n_epochs=1, n_epochs_decay=2)
    lrs = []
    for _ in range(3):
        lrs.append(step.opts["G"].param_groups[0]["lr"])
        step.opts["G"].step()  # no gradients: a no-op, in the order the scheduler expects
        step.scheds["G"].step()
    assert lrs == pytest.approx([2e-4, 2e-4 * 2 / 3, 2e-4 / 3])
    with pytest.raises(
        zoo.ZooError, match="has 28x28 images but this cyclegan takes 24x24; pass --config image_size=28"
    ):
        step.check_dataset(load_dataset("digits-mnist"))
    with pytest.raises(zoo.ZooError, match="cyclegan trains on unpaired images from two domains"):
        step.check_dataset(load_dataset("mnist5k", size=24))
    rgb = make_step(zoo.create("cyclegan", **{**TINY, "input_nc": 3, "output_nc": 3}), tmp_path)
    with pytest.raises(zoo.ZooError, match="1-channel images in both domains but this cyclegan takes 3 \\(A\\)"):
        rgb.check_dataset(load_dataset("digits-mnist", **TINY_DATA))
    long_run = CycleGANTrainingStep(
        model,
        TrainConfig(
            "cyclegan", "digits-mnist", str(tmp_path), epochs=4, step_config={"n_epochs": 1, "n_epochs_decay": 2}
        ),
    )
    with pytest.raises(zoo.ZooError, match=r"trains 4 epoch\(s\) but the learning rate decays to 0 after .* = 3; set"):
        long_run.check_dataset(load_dataset("digits-mnist", **TINY_DATA))
    with pytest.raises(zoo.ZooError, match="cannot be trained"):
        make_step(zoo.create("cyclegan", **TINY, with_discriminators=False), tmp_path)
    with pytest.raises(zoo.ZooError, match=r"basic PatchGAN \(3 stride-2 layers\) needs images of at least 24x24"):
        make_step(zoo.create("cyclegan", **{**TINY, "image_size": 16}), tmp_path)
    make_step(zoo.create("cyclegan", **{**TINY, "image_size": 16, "netD": "n_layers", "n_layers_D": 2}), tmp_path)
    with pytest.raises(zoo.ZooError, match="lambda_identity=0"):
        make_step(zoo.create("cyclegan", **{**TINY, "output_nc": 3}), tmp_path)


def test_zoo_train_resumes_exactly_with_the_image_pools(tmp_path: Path) -> None:
    """6 steps at once == 3 steps, then --resume to 6; pools of 2 are full and swapping by then."""
    options = {"config": TINY, "dataset_options": TINY_DATA, "step_config": {"pool_size": 2}, "seed": 3}
    options |= {"evaluate": False, "checkpoint_every": 3, **QUIET}
    whole = train("cyclegan", "digits-mnist", tmp_path / "whole", steps=6, **options)
    train("cyclegan", "digits-mnist", tmp_path / "cut", steps=3, **options)
    extra = load_file(tmp_path / "cut" / "checkpoints" / "step-0000003" / "extra.safetensors")
    assert sorted(extra) == [f"extra/fake_{d}_pool/images/{i}" for d in "AB" for i in (0, 1)]
    resumed = train("cyclegan", "digits-mnist", tmp_path / "cut", steps=6, resume=True, **options)
    assert resumed.step == whole.step == 6
    for (key, a), b in zip(whole.model.state_dict().items(), resumed.model.state_dict().values(), strict=True):
        assert torch.equal(a, b), key
    lines = [json.loads(line) for line in (tmp_path / "whole" / "log.jsonl").read_text().splitlines()]
    assert set(LOSS_NAMES) <= set(lines[-1]) and lines[-1]["lr/G"] == 2e-4
    assert (tmp_path / "whole" / "model" / "samples.png").is_file()  # held-out A, G_A(A), B, G_B(B)
    model = zoo.load(str(tmp_path / "whole" / "model"))
    assert isinstance(model, CycleGAN) and model.translate(torch.rand(1, 1, 8, 8)).shape == (
        1,
        1,
        8,
        8,
    )  # any multiple of 4


# -- the official checkpoints in the registry --------------------------------------------------------------
def test_registry_holds_every_official_checkpoint_as_an_unpinned_upstream_url() -> None:
    names = zoo.list_models("cyclegan.*")
    assert {f"cyclegan.{n}" for n in OFFICIAL} <= set(names) and len(OFFICIAL) == 18
    registry = json.loads((REPO_ROOT / "registry.json").read_text())["models"]
    for name, entry in official_entries().items():
        assert registry[name] == entry, name
        info = zoo.info(name)
        assert info.source == "upstream" and info.weights == {
            "url": f"http://efrosgans.eecs.berkeley.edu/cyclegan/pretrained_models/{name.split('.', 1)[1]}.pth",
            "filename": f"{name.split('.', 1)[1]}.pth",
            "sha256": None,
            "format": "pickle",
            "converter": "cyclegan-junyanz",
        }
        assert info.config == OFFICIAL_CONFIG and info.num_params == 11_378_179
        assert "Downloaded from the authors" in info.description and "pinned on the first verified" in info.description
    assert zoo.create("cyclegan", **OFFICIAL_CONFIG).num_parameters() == 11_378_179
    listed = CliRunner().invoke(cli, ["list", "cyclegan.*"]).output
    row = next(line for line in listed.splitlines() if line.startswith("cyclegan.horse2zebra "))
    assert row.split()[1:3] == ["image-to-image", "11.38M"]
    assert row.endswith("downloaded from the authors (efrosgans.eecs.berkeley.edu)")


@pytest.fixture
def authors_server() -> Iterator[ThreadingHTTPServer]:
    with serve_files() as (_, httpd):
        yield httpd


def test_official_entry_downloads_converts_and_loads_strictly(
    authors_server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """cyclegan.horse2zebra's entry, its url moved to a loopback server holding a legacy file in the official layout."""
    from zoo_core._catalog import reset_catalog
    from zoo_core.hub import verify as _verify
    from zoo_core.hub.cache import zoo_cache_dir

    reference = randomised(ReferenceResnetGenerator(), 7)
    data = pickled(legacy_state_dict(reference))
    path = "/cyclegan/pretrained_models/horse2zebra.pth"
    authors_server.files[path] = data
    entry = json.loads((REPO_ROOT / "registry.json").read_text())["models"]["cyclegan.horse2zebra"]
    url = f"http://127.0.0.1:{authors_server.server_address[1]}{path}"
    entry["weights"]["url"] = url
    registry = tmp_path / "registry.json"
    registry.write_text(json.dumps({"version": 1, "models": {"cyclegan.horse2zebra": entry}}))
    monkeypatch.setenv("ZOO_REGISTRY", str(registry))
    reset_catalog()
    _verify.forget_verified()

    model = zoo.load("cyclegan.horse2zebra")
    sha = hashlib.sha256(data).hexdigest()
    assert f"pinned {sha}" in capsys.readouterr().err and authors_server.requests == [path]
    assert model.weights_path == zoo_cache_dir() / "converted" / f"{sha}-cyclegan.safetensors"
    assert set(load_file(model.weights_path)) == {f"netG_A.{k}" for k in reference.state_dict()}
    horses = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        assert torch.allclose(model.translate(horses), (reference(horses * 2 - 1) + 1) / 2, atol=1e-6)
    with pytest.raises(zoo.ZooError, match="holds only its AtoB direction"):
        model.translate(horses, direction="BtoA")
    again = zoo.load("cyclegan.horse2zebra")  # from the cache: no second request
    assert again.weights_path == model.weights_path and authors_server.requests == [path]


# -- golden outputs --------------------------------------------------------------------------------------------
def tiny_model() -> CycleGAN:
    torch.manual_seed(0)
    return randomised(zoo.create("cyclegan", **TINY), 8)


def published_inputs() -> tuple[torch.Tensor, torch.Tensor]:
    data = DigitsMnistDataset("test")
    return data.domain_a.tensors()[:4], data.domain_b.tensors()[:4]


def golden_values() -> dict[str, torch.Tensor]:
    """What golden/cyclegan.safetensors holds, computed by the code under test."""
    model = tiny_model()
    x = torch.rand(2, 1, 24, 24, generator=torch.Generator().manual_seed(9))
    values = {
        "tiny_a_to_b": model.translate(x, direction="AtoB"),
        "tiny_b_to_a": model.translate(x, direction="BtoA"),
        "tiny_d_a": model.netD_A(x).detach(),
    }
    if PUBLISHED.is_dir():
        published = zoo.ZooModel.from_pretrained(PUBLISHED)
        digits, mnist = published_inputs()
        values |= {
            "published_a_to_b": published.translate(digits),
            "published_b_to_a": published.translate(mnist, direction="BtoA"),
        }
    return values


def test_tiny_model_golden_outputs() -> None:
    golden = load_file(GOLDEN)
    values = golden_values()
    for key in ("tiny_a_to_b", "tiny_b_to_a", "tiny_d_a"):
        assert torch.allclose(values[key], golden[key], atol=1e-5), key


# -- the published cyclegan.digits2mnist ------------------------------------------------------------------------
def test_published_weights_load_strictly_and_translate_as_the_golden() -> None:
    state = load_file(PUBLISHED / "model.safetensors")
    info = zoo.info(PUBLISHED_NAME)
    config = info.config
    assert set(state) == set(zoo.create("cyclegan", **config).state_dict())
    model = CycleGAN.from_weights(config, state).eval()
    assert model.num_parameters() == info.num_params and model.directions == ("AtoB", "BtoA")
    golden = load_file(GOLDEN)
    digits, mnist = published_inputs()
    assert torch.allclose(model.translate(digits), golden["published_a_to_b"], atol=1e-5)
    assert torch.allclose(model.translate(mnist, direction="BtoA"), golden["published_b_to_a"], atol=1e-5)
    with pytest.raises(zoo.ZooError, match=r"unexpected key\(s\) such as 'netD_A.model.0.bias'"):
        CycleGAN.from_weights({**config, "with_discriminators": False}, state)


@pytest.mark.slow
def test_published_card_matches_registry_and_hub_revision() -> None:
    import yaml

    info = zoo.info(PUBLISHED_NAME)
    card = (PUBLISHED / "README.md").read_text()
    header = yaml.safe_load(card.split("---")[1])
    carded = [r["metrics"][0]["value"] for r in header["model-index"][0]["results"]]
    assert carded == [m["value"] for m in info.metrics]
    names = [(m["name"], m["dataset"], m["evaluation"]) for m in info.metrics]
    assert names == [  # FID and agreement of translations read both domains of digits-mnist (the card: mnist5k)
        ("cycle-l1", "digits", "round-trip"),
        ("cycle-l1", "mnist5k", "round-trip"),
        ("fid-mnist", "digits-mnist", "digits-mnist-translations"),
        ("digit-preserved", "digits-mnist", "digits-mnist-translations"),
    ]
    fid = info.metrics[2]["value"]
    assert info.made_by["command"] in card and f"| translated: `{PUBLISHED_NAME}` G_A(digits) | {fid:.1f} |" in card
    untranslated = float(card.split("| untranslated scikit-learn digits | ")[1].split(" |")[0])
    assert fid < untranslated  # the translation brings the digits closer to MNIST
    assert (PUBLISHED / "samples.png").is_file()
    result = CliRunner().invoke(cli, ["hub", "revisions", str(REPO_ROOT / "hub"), "--json"])
    assert json.loads(result.output)["zoo/cyclegan-digits2mnist"] == info.weights["revision"]


def test_zoo_translate_with_the_published_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`zoo translate cyclegan.digits2mnist` on a 30x30 PNG (padded to 32, cropped back), both directions."""
    import numpy as np
    from PIL import Image

    monkeypatch.setenv("ZOO_HUB_DIR", str(REPO_ROOT / "hub"))  # the published files, sha256-checked
    digit = load_dataset("digits", split="test", size=30, margin=5).tensors()[:1]
    Image.fromarray((digit[0, 0] * 255).round().byte().numpy()).save(tmp_path / "digit.png")
    for direction in ("AtoB", "BtoA"):
        out = tmp_path / f"{direction}.png"
        args = ["translate", PUBLISHED_NAME, str(tmp_path / "digit.png"), "-o", str(out), "--direction", direction]
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, result.output
        pixels = np.asarray(Image.open(out))
        assert pixels.shape == (30, 30) and pixels.std() > 10  # a grey image of the input's size, not blank


@pytest.mark.slow
def test_zoo_eval_reproduces_the_card_cycle_l1_both_ways(monkeypatch: pytest.MonkeyPatch) -> None:
    """`zoo eval --metric cycle-l1` (A→B→A on the held-out scikit-learn digits, and B→A→B through
    --metric-option cycle-l1:direction=BtoA on the held-out MNIST digits) gives the card's two values."""
    monkeypatch.setenv("ZOO_HUB_DIR", str(REPO_ROOT / "hub"))
    recorded = [m["value"] for m in zoo.info(PUBLISHED_NAME).metrics if m["name"] == "cycle-l1"]
    runs = [
        ["--dataset", "digits", "--dataset-option", "size=28", "--dataset-option", "margin=4"],
        ["--dataset", "mnist5k", "--metric-option", "cycle-l1:direction=BtoA"],
    ]
    measured = []
    for extra in runs:
        result = CliRunner().invoke(cli, ["eval", PUBLISHED_NAME, "--metric", "cycle-l1", *extra, "--json"])
        assert result.exit_code == 0, result.output
        measured.append(json.loads(result.output)[0]["value"])
    assert measured == pytest.approx(recorded, rel=1e-4)  # computed here, recorded on another CPU: float32 noise
    wrong = ["--metric-option", "cycle-l1:way=BtoA", "--dataset", "mnist5k"]
    result = CliRunner().invoke(cli, ["eval", PUBLISHED_NAME, "--metric", "cycle-l1", *wrong])
    assert result.exit_code == 1 and "has no option 'way'; it takes direction." in result.output


@pytest.mark.slow
def test_the_card_metrics_are_reproduced(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every recorded metric, through the plugin's evaluation protocols, gives the registry's number (about 20 s)."""
    from zoo_core.evaluation import reproduce_metrics

    monkeypatch.setenv("ZOO_HUB_DIR", str(REPO_ROOT / "hub"))  # mnistnet.mnist5k for FID-MNIST, sha256-checked
    model = zoo.ZooModel.from_pretrained(PUBLISHED)
    recorded = zoo.info(PUBLISHED_NAME).metrics
    measured = reproduce_metrics(model, records=recorded)
    assert [m["name"] for m in measured] == [m["name"] for m in recorded]
    for m, r in zip(measured, recorded, strict=True):
        assert m["value"] == pytest.approx(r["value"], rel=1e-4), m["name"]  # recorded on another CPU


def test_a_digits_mnist_run_plans_its_final_metrics_with_their_protocols() -> None:
    from zoo_cyclegan.training import digits_mnist_evaluation

    plans = digits_mnist_evaluation(32, {"margin": 2})
    assert [p["name"] for p in plans] == ["cycle-l1", "cycle-l1", "fid-mnist", "digit-preserved"]
    assert plans[0]["dataset_options"] == {"size": 32, "margin": 2} and plans[1]["dataset_options"] == {"size": 32}
    assert [p.get("metric_options") for p in plans[:2]] == [{"direction": "AtoB"}, {"direction": "BtoA"}]


if __name__ == "__main__" and sys.argv[1:] == ["--write-golden"]:
    GOLDEN.parent.mkdir(exist_ok=True)
    save_file({k: v.contiguous() for k, v in golden_values().items()}, GOLDEN)
    print(f"wrote {GOLDEN}: {sorted(golden_values())}")
