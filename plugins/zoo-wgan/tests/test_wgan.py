"""zoo-wgan: faithful to martinarjovsky/WassersteinGAN (models/dcgan.py, models/mlp.py, main.py); the converter,
the training step (clipping, the critic-iteration schedule, the Wasserstein estimate) and an engine run."""

from __future__ import annotations

import json
import math
import pickle
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from torch import nn
from zoo_wgan.model import WGAN, WGANConfig
from zoo_wgan.training import WGANTrainingStep

import zoo_core as zoo
from zoo_core.cli import cli
from zoo_core.data import load_dataset
from zoo_core.training import TrainConfig, train
from zoo_core.training.critic import CriticSchedule

QUIET = {"progress": False, "verbose": False}


# -- the reference's networks, written out for one size as models/dcgan.py builds them ------------
def reference_generator_32(nz: int = 100, ngf: int = 64, nc: int = 1, batch_norm: bool = True) -> nn.Sequential:
    """DCGAN_G(isize=32) (DCGAN_G_nobn without batch norm): cngf = 4 ngf, two pyramid blocks."""
    c = 4 * ngf
    main = nn.Sequential()
    main.add_module(f"initial:{nz}-{c}:convt", nn.ConvTranspose2d(nz, c, 4, 1, 0, bias=False))
    if batch_norm:
        main.add_module(f"initial:{c}:batchnorm", nn.BatchNorm2d(c))
    main.add_module(f"initial:{c}:relu", nn.ReLU(True))
    for width in (c, c // 2):
        main.add_module(
            f"pyramid:{width}-{width // 2}:convt", nn.ConvTranspose2d(width, width // 2, 4, 2, 1, bias=False)
        )
        if batch_norm:
            main.add_module(f"pyramid:{width // 2}:batchnorm", nn.BatchNorm2d(width // 2))
        main.add_module(f"pyramid:{width // 2}:relu", nn.ReLU(True))
    main.add_module(f"final:{ngf}-{nc}:convt", nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False))
    main.add_module(f"final:{nc}:tanh", nn.Tanh())
    return main


def reference_critic_32(nc: int = 1, ndf: int = 64) -> nn.Sequential:
    """DCGAN_D(isize=32): 32 -> 16 (initial) -> 8 -> 4 (pyramid) -> 1 (final)."""
    main = nn.Sequential()
    main.add_module(f"initial:{nc}-{ndf}:conv", nn.Conv2d(nc, ndf, 4, 2, 1, bias=False))
    main.add_module(f"initial:{ndf}:relu", nn.LeakyReLU(0.2, inplace=True))
    for width in (ndf, 2 * ndf):
        main.add_module(f"pyramid:{width}-{2 * width}:conv", nn.Conv2d(width, 2 * width, 4, 2, 1, bias=False))
        main.add_module(f"pyramid:{2 * width}:batchnorm", nn.BatchNorm2d(2 * width))
        main.add_module(f"pyramid:{2 * width}:relu", nn.LeakyReLU(0.2, inplace=True))
    main.add_module(f"final:{4 * ndf}-1:conv", nn.Conv2d(4 * ndf, 1, 4, 1, 0, bias=False))
    return main


class Holder(nn.Module):
    """netG / netD: the reference's modules keep their Sequential as ``main``."""

    def __init__(self, main: nn.Module) -> None:
        super().__init__()
        self.main = main


def reference_weights_init(m: nn.Module) -> None:
    name = m.__class__.__name__
    if name.find("Conv") != -1:
        m.weight.data.normal_(0.0, 0.02)
    elif name.find("BatchNorm") != -1:
        m.weight.data.normal_(1.0, 0.02)
        m.bias.data.fill_(0)


def largest(module: nn.Module, *_: object) -> float:
    """The largest absolute value of ``module``'s parameters."""
    return max(float(p.detach().abs().max()) for p in module.parameters())


def randomise_batchnorm(module: nn.Module, seed: int) -> None:
    generator = torch.Generator().manual_seed(seed)
    for m in module.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=generator) * 0.1)
            m.running_var.copy_(torch.rand(m.running_var.shape, generator=generator) + 0.5)


# -- layout ----------------------------------------------------------------------------------------
def test_keys_are_the_references_at_64x64_rgb() -> None:
    model = zoo.create("wgan")
    g_weights = [k for k in model.generator.state_dict() if k.endswith(".weight")]
    assert g_weights == [
        "main.initial:100-512:convt.weight",
        "main.initial:512:batchnorm.weight",
        "main.pyramid:512-256:convt.weight",
        "main.pyramid:256:batchnorm.weight",
        "main.pyramid:256-128:convt.weight",
        "main.pyramid:128:batchnorm.weight",
        "main.pyramid:128-64:convt.weight",
        "main.pyramid:64:batchnorm.weight",
        "main.final:64-3:convt.weight",
    ]
    d_weights = [k for k in model.critic.state_dict() if k.endswith(".weight")]
    assert d_weights == [
        "main.initial:3-64:conv.weight",
        "main.pyramid:64-128:conv.weight",
        "main.pyramid:128:batchnorm.weight",
        "main.pyramid:128-256:conv.weight",
        "main.pyramid:256:batchnorm.weight",
        "main.pyramid:256-512:conv.weight",
        "main.pyramid:512:batchnorm.weight",
        "main.final:512-1:conv.weight",
    ]
    assert next(iter(model.state_dict())) == "generator.main.initial:100-512:convt.weight"
    assert not any(isinstance(m, nn.Sigmoid) for m in model.critic.modules())  # a critic, not a classifier
    assert all(m.bias is None for m in model.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)))


def test_keys_with_extra_layers_without_batch_norm_and_mlp() -> None:
    model = zoo.create("wgan", image_size=32, channels=1, ngf=32, ndf=32, n_extra_layers=1)
    assert next(iter(model.generator.state_dict())) == "main.initial:100-128:convt.weight"
    assert "main.extra-layers-0:32:conv.weight" in model.generator.state_dict()
    assert "main.extra-layers-0:32:batchnorm.running_var" in model.generator.state_dict()
    assert "main.extra-layers-0:32:conv.weight" in model.critic.state_dict()
    no_bn = zoo.create("wgan", image_size=32, channels=1, batch_norm=False, critic_batch_norm=False)
    assert not any("batchnorm" in k for k in no_bn.state_dict())
    assert list(no_bn.generator.state_dict()) == [
        "main.initial:100-256:convt.weight",
        "main.pyramid:256-128:convt.weight",
        "main.pyramid:128-64:convt.weight",
        "main.final:64-1:convt.weight",
    ]
    mlp = zoo.create("wgan", model="mlp", image_size=28, channels=1, ngf=512, ndf=512)
    assert {k: tuple(v.shape) for k, v in mlp.generator.state_dict().items() if k.endswith("weight")} == {
        "main.0.weight": (512, 100),
        "main.2.weight": (512, 512),
        "main.4.weight": (512, 512),
        "main.6.weight": (784, 512),
    }
    assert tuple(mlp.critic.state_dict()["main.6.weight"].shape) == (1, 512)
    assert mlp.sample(2, seed=0).shape == (2, 1, 28, 28)


def test_a_reference_state_dict_loads_strictly_and_computes_the_same() -> None:
    torch.manual_seed(0)
    g, d = Holder(reference_generator_32(ngf=16)), Holder(reference_critic_32(ndf=16))
    g.apply(reference_weights_init), d.apply(reference_weights_init)
    randomise_batchnorm(g, 1), randomise_batchnorm(d, 2)
    state = {f"generator.{k}": v for k, v in g.state_dict().items()}
    state |= {f"critic.{k}": v for k, v in d.state_dict().items()}
    model = WGAN.from_weights(WGANConfig(image_size=32, channels=1, ngf=16, ndf=16), state).eval()
    g.eval(), d.eval()
    z = torch.randn(3, 100, 1, 1)
    x = torch.rand(3, 1, 32, 32)
    with torch.no_grad():
        assert torch.equal(model.generator(z), g.main(z))
        assert torch.allclose(model.generate(z), (g.main(z) + 1) / 2)
        # the reference's DCGAN_D.forward returns output.mean(0).view(1): the mean of our per-image scores
        assert torch.allclose(model.critique(x).mean(), d.main(x * 2 - 1).mean())
        assert model.critique(x).shape == (3,)


def test_init_is_the_references_weights_init_in_its_order() -> None:
    torch.manual_seed(0)
    model = zoo.create("wgan")
    for name, module in model.named_modules():
        if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)) and module.weight.numel() > 10_000:
            assert module.weight.std().item() == pytest.approx(0.02, rel=0.05), name
        if isinstance(module, nn.BatchNorm2d):
            assert torch.equal(module.bias, torch.zeros_like(module.bias)), name
    bn = torch.cat([m.weight for m in model.modules() if isinstance(m, nn.BatchNorm2d)])
    assert bn.mean().item() == pytest.approx(1.0, abs=3e-3) and bn.std().item() == pytest.approx(0.02, rel=0.1)
    # netG built, weights_init; netD built, weights_init: the same seed gives the same weights
    torch.manual_seed(0)
    small = zoo.create("wgan", image_size=32, channels=1, ngf=16, ndf=16)
    torch.manual_seed(0)
    g = Holder(reference_generator_32(ngf=16))
    g.apply(reference_weights_init)
    d = Holder(reference_critic_32(ndf=16))
    d.apply(reference_weights_init)
    for ours, theirs in ((small.generator, g), (small.critic, d)):
        for (key, a), b in zip(ours.state_dict().items(), theirs.state_dict().values(), strict=True):
            assert torch.equal(a, b), key


def test_mlp_keeps_pytorchs_default_linear_init() -> None:
    """weights_init matches no Linear: MLP_G / MLP_D keep nn.Linear's own init (not N(0, 0.02))."""
    torch.manual_seed(0)
    mlp = zoo.create("wgan", model="mlp", image_size=16, channels=1, ngf=32, ndf=32)
    torch.manual_seed(0)
    first = nn.Linear(100, 32)
    assert torch.equal(mlp.generator.main[0].weight, first.weight)
    assert mlp.generator.main[0].bias.abs().max() > 0  # PyTorch's uniform bias, not zeros


@pytest.mark.parametrize(
    ("config", "match"),
    [
        ({"image_size": 48}, r"^WGAN image_size must be a power of two of at least 16"),
        ({"image_size": 8}, r"^WGAN image_size must be a power of two of at least 16"),
        ({"model": "mlp", "batch_norm": False}, r"^WGAN's MLP networks have no batch norm"),
        ({"model": "resnet"}, r"'model' of architecture 'wgan'"),
    ],
)
def test_a_wrong_config_is_one_sentence(config: dict, match: str) -> None:
    with pytest.raises(zoo.ZooError, match=match) as info:
        zoo.create("wgan", **config)
    assert "\n" not in str(info.value)


# -- the converter ---------------------------------------------------------------------------------
def test_netg_checkpoint_converts_and_samples_the_same(tmp_path: Path) -> None:
    """A netG_epoch_N.pth in the reference's layout (torch.save of netG.state_dict()) becomes a generator-only wgan."""
    torch.manual_seed(3)
    g = Holder(reference_generator_32(ngf=16))
    g.apply(reference_weights_init)
    randomise_batchnorm(g, 4)
    torch.save(g.state_dict(), tmp_path / "netG_epoch_24.pth")
    args = ["convert", "wgan-arjovsky", str(tmp_path / "netG_epoch_24.pth"), "-o", str(tmp_path / "out")]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1
    assert "holds a DCGAN generator with image_size=32, nz=100, channels=1, ngf=16, n_extra_layers=0" in result.output
    assert "pass --config image_size=32 --config channels=1 --config ngf=16." in result.output
    result = CliRunner().invoke(
        cli, [*args, "--config", "image_size=32", "--config", "channels=1", "--config", "ngf=16"]
    )
    assert result.exit_code == 0, result.output
    loaded = zoo.load(str(tmp_path / "out"))
    assert isinstance(loaded, WGAN) and loaded.critic is None
    z = torch.randn(4, 100, 1, 1, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.allclose(loaded.sample(4, seed=0), ((g.eval().main(z) + 1) / 2).clamp(0, 1), atol=1e-6)


def test_an_mlp_g_checkpoint_converts_with_model_mlp(tmp_path: Path) -> None:
    """MLP_G (main.0 ... main.6 Linear layers, no Tanh) from --mlp_G runs; its size comes from --config."""
    torch.manual_seed(5)
    g = Holder(nn.Sequential(nn.Linear(100, 32), nn.ReLU(True), nn.Linear(32, 32), nn.ReLU(True),
                             nn.Linear(32, 32), nn.ReLU(True), nn.Linear(32, 16 * 16)))  # fmt: skip
    torch.save(g.state_dict(), tmp_path / "netG_epoch_3.pth")
    base = ["convert", "wgan-arjovsky", str(tmp_path / "netG_epoch_3.pth"), "-o", str(tmp_path / "o")]
    options = ["--config", "model=mlp", "--config", "channels=1", "--config", "ngf=32"]
    result = CliRunner().invoke(cli, [*base, *options, "--config", "image_size=32"])
    assert result.exit_code == 1 and "holds an MLP generator with nz=100, ngf=32 and 256 outputs" in result.output
    result = CliRunner().invoke(cli, [*base, *options, "--config", "image_size=16"])
    assert result.exit_code == 0, result.output
    z = torch.randn(3, 100, 1, 1, generator=torch.Generator().manual_seed(1))
    expected = ((g.main(z.view(3, 100)).view(3, 1, 16, 16) + 1) / 2).clamp(0, 1)
    assert torch.allclose(zoo.load(str(tmp_path / "o")).sample(3, seed=1), expected.detach(), atol=1e-6)


def test_a_pre_0_4_checkpoint_without_batch_counters_loads(tmp_path: Path) -> None:
    g = Holder(reference_generator_32(ngf=8))
    state = {k: v for k, v in g.state_dict().items() if not k.endswith("num_batches_tracked")}
    torch.save(state, tmp_path / "netG_epoch_0.pth")
    config = ["--config", "image_size=32", "--config", "channels=1", "--config", "ngf=8"]
    result = CliRunner().invoke(
        cli, ["convert", "wgan-arjovsky", str(tmp_path / "netG_epoch_0.pth"), "-o", str(tmp_path / "o"), *config]
    )
    assert result.exit_code == 0, result.output
    assert zoo.load(str(tmp_path / "o")).sample(1, seed=0).shape == (1, 1, 32, 32)


def test_a_critic_file_is_refused(tmp_path: Path) -> None:
    torch.save(Holder(reference_critic_32(ndf=8)).state_dict(), tmp_path / "netD_epoch_0.pth")
    result = CliRunner().invoke(
        cli, ["convert", "wgan-arjovsky", str(tmp_path / "netD_epoch_0.pth"), "-o", str(tmp_path / "o")]
    )
    assert result.exit_code == 1 and "holds a critic (main.initial:NC-NDF:conv)" in result.output
    assert not (tmp_path / "o").exists()


class RunsCode:
    """Unpickling this calls os.getcwd: the shape of every malicious checkpoint."""

    def __reduce__(self):
        import os

        return (os.getcwd, ())


def test_a_malicious_pickle_is_refused_in_one_sentence(tmp_path: Path) -> None:
    path = tmp_path / "netG_epoch_0.pth"
    with open(path, "wb") as handle:
        pickle.dump({"main.initial:100-256:convt.weight": RunsCode()}, handle)
    result = CliRunner().invoke(cli, ["convert", "wgan-arjovsky", str(path), "-o", str(tmp_path / "o")])
    assert result.exit_code == 1
    message = result.output.strip()
    assert message.startswith("Error: ") and "\n" not in message
    assert "refused: unpickling it would run code" in message and "getcwd" in message
    assert not (tmp_path / "o").exists()


# -- training --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def digits32() -> torch.Tensor:
    return load_dataset("mnist5k", split="train", size=32).tensors()[:16]


def make_step(tmp_path: Path, **train_config: object) -> WGANTrainingStep:
    torch.manual_seed(0)
    model = zoo.create("wgan", image_size=32, channels=1, ngf=8, ndf=8)
    step = WGANTrainingStep(model, TrainConfig("wgan", "mnist5k", str(tmp_path), step_config=train_config))
    step.nets, step.global_batch_size = step.networks(), 16
    step.opts = step.optimizers()
    return step


def test_one_critic_step_rmsprop_and_the_wasserstein_estimate(digits32: torch.Tensor, tmp_path: Path) -> None:
    step = make_step(tmp_path)
    assert all(isinstance(o, torch.optim.RMSprop) and o.defaults["lr"] == 5e-5 for o in step.opts.values())
    model = step.model
    before = {k: v.clone() for k, v in model.state_dict().items()}
    values = {k: float(v) for k, v in step.train_step({"image": digits32}, 0).items()}
    assert set(values) == {"loss_D", "loss_D_real", "loss_D_fake", "wasserstein", "loss_G", "generator_iters"}
    assert all(math.isfinite(v) for v in values.values())
    assert values["loss_D"] == pytest.approx(values["loss_D_real"] - values["loss_D_fake"])  # main.py's errD
    assert values["wasserstein"] == pytest.approx(-values["loss_D"])  # the README's -Loss_D
    assert values["generator_iters"] == 0  # the first of 100 warm-up critic iterations
    changed = {k.split(".")[0] for k, v in model.state_dict().items() if not torch.equal(v, before[k])}
    assert "critic" in changed
    generator = [k for k in before if k.startswith("generator.") and "running" not in k and "num_batches" not in k]
    assert all(torch.equal(model.state_dict()[k], before[k]) for k in generator)  # G frozen in a critic step


def test_every_critic_forward_sees_clipped_weights(digits32: torch.Tensor, tmp_path: Path) -> None:
    """main.py clamps all critic parameters (BatchNorm's too) to [-0.01, 0.01] before each critic iteration."""
    step = make_step(tmp_path, n_critic=2, warmup_generator_iters=0, warmup_every=0)
    critic = step.model.critic
    assert largest(critic) > 0.5  # BatchNorm weights start near 1
    seen: list[float] = []
    handle = critic.register_forward_pre_hook(lambda m, _: seen.append(largest(m)))
    try:
        for i in range(4):
            step.train_step({"image": digits32}, i)
    finally:
        handle.remove()
    assert len(seen) == 4 * 2 + 2  # real and fake per critic iteration, one per generator update
    critic_forwards = [v for i, v in enumerate(seen) if i not in (4, 9)]  # the generator's passes follow steps 2, 4
    assert all(v <= float(torch.tensor(0.01)) for v in critic_forwards), critic_forwards
    bn = [m for m in critic.modules() if isinstance(m, nn.BatchNorm2d)]
    # after the last step they are at most one RMSProp step past the clip: |step| <= lr / sqrt(1 - alpha) = 10 lr
    assert all(largest(m) <= 0.01 + 10 * 5e-5 + 1e-6 for m in bn)


def test_clip_bounds_come_from_the_train_config(digits32: torch.Tensor, tmp_path: Path) -> None:
    step = make_step(tmp_path, clamp_lower=-0.003, clamp_upper=0.003)
    seen: list[float] = []
    step.model.critic.register_forward_pre_hook(lambda m, _: seen.append(largest(m)))
    step.train_step({"image": digits32}, 0)
    assert max(seen) <= float(torch.tensor(0.003))  # 0.003 in float32
    with pytest.raises(zoo.ZooError, match=r"^clamp_lower \(0.1\) must be below clamp_upper \(0.01\)\.$"):
        make_step(tmp_path, clamp_lower=0.1)


def test_the_critic_iteration_schedule_is_the_references() -> None:
    """Diters = 100 while gen_iterations < 25 or gen_iterations % 500 == 0, else 5 (main.py l. 176-179)."""
    schedule = CriticSchedule(n_critic=5, warmup_n_critic=100, warmup_generator_iters=25, warmup_every=500)
    per_generator_iteration: list[int] = []
    count = 0
    while schedule.generator_iters < 1002:
        count += 1
        if schedule.critic_step_done():
            per_generator_iteration.append(count)
            count = 0
    assert per_generator_iteration[:25] == [100] * 25
    assert per_generator_iteration[25:500] == [5] * 475
    assert per_generator_iteration[500] == 100 and per_generator_iteration[501:1000] == [5] * 499
    assert per_generator_iteration[1000] == 100 and per_generator_iteration[1001] == 5


def test_the_step_updates_the_generator_on_schedule_and_resumes(digits32: torch.Tensor, tmp_path: Path) -> None:
    step = make_step(tmp_path, n_critic=2, warmup_n_critic=3, warmup_generator_iters=1, warmup_every=0)
    generator = step.model.generator
    updates = []
    for i in range(7):
        before = generator.main[0].weight.clone()
        values = step.train_step({"image": digits32}, i)
        updates.append(not torch.equal(before, generator.main[0].weight))
        assert all(math.isfinite(float(v)) for v in values.values())
    assert updates == [False, False, True, False, True, False, True]  # 3 warm-up critic iterations, then 2
    state = json.loads(json.dumps(step.extra_state()))
    assert state["critic_iters"] == 0 and state["generator_iters"] == 3
    resumed = make_step(tmp_path, n_critic=2, warmup_n_critic=3, warmup_generator_iters=1, warmup_every=0)
    resumed.load_extra_state(state)
    assert resumed.schedule.state() == step.schedule.state()
    assert float(resumed.logged_generator_loss(torch.tensor(0.0))) == pytest.approx(float(values["loss_G"]))


def test_training_checks_the_data_and_the_model(tmp_path: Path) -> None:
    step = make_step(tmp_path)
    with pytest.raises(zoo.ZooError, match=r"has 28x28 images but this wgan takes 32x32; resize them with "):
        step.check_dataset(load_dataset("mnist5k", split="test"))
    generator_only = zoo.create("wgan", with_critic=False, ngf=4)
    with pytest.raises(zoo.ZooError, match="generator only"):
        WGANTrainingStep(generator_only, TrainConfig("wgan", "mnist5k", str(tmp_path)))
    assert step.eval_metrics == ("fid-mnist",)


def test_zoo_train_wgan_logs_the_wasserstein_estimate(tmp_path: Path) -> None:
    result = train(
        "wgan",
        "mnist5k",
        tmp_path / "run",
        steps=4,
        batch_size=16,
        log_every=2,
        dataset_options={"size": 32},
        config={"image_size": 32, "channels": 1, "ngf": 8, "ndf": 8},
        step_config={"n_critic": 2, "warmup_generator_iters": 0, "warmup_every": 0},
        evaluate=False,
        **QUIET,
    )
    assert result.step == 4 and all(math.isfinite(v) for v in result.losses.values())
    lines = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    logged = [line for line in lines if "wasserstein" in line]
    assert [line["step"] for line in logged] == [2, 4] and logged[-1]["generator_iters"] == pytest.approx(1.5)
    model = zoo.load(str(result.model_dir))
    assert isinstance(model, WGAN) and model.sample(2, seed=0).shape == (2, 1, 32, 32)
