"""zoo-wgan-gp: faithful to igul222/improved_wgan_training gan_mnist.py (MODE 'wgan-gp'): the networks' sizes and
init, the gradient penalty, the critic-iteration schedule, Adam's settings and an engine run."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from torch import nn
from zoo_wgan_gp.model import WGANGP, WGANGPConfig
from zoo_wgan_gp.training import WGANGPTrainingStep

import zoo_core as zoo
from zoo_core.data import load_dataset
from zoo_core.layers.gan_losses import gradient_penalty
from zoo_core.training import TrainConfig, train

QUIET = {"progress": False, "verbose": False}


# -- layout ----------------------------------------------------------------------------------------
def test_layers_are_gan_mnists() -> None:
    model = zoo.create("wgan-gp")
    assert {k: tuple(v.shape) for k, v in model.state_dict().items()} == {
        "generator.input.weight": (4096, 128),  # Generator.Input: Linear(128, 4*4*4*DIM)
        "generator.input.bias": (4096,),
        "generator.deconv2.weight": (256, 128, 5, 5),  # Generator.2: Deconv2D(4DIM, 2DIM, 5)
        "generator.deconv2.bias": (128,),
        "generator.deconv3.weight": (128, 64, 5, 5),  # Generator.3: Deconv2D(2DIM, DIM, 5)
        "generator.deconv3.bias": (64,),
        "generator.deconv5.weight": (64, 1, 5, 5),  # Generator.5: Deconv2D(DIM, 1, 5)
        "generator.deconv5.bias": (1,),
        "critic.conv1.weight": (64, 1, 5, 5),  # Discriminator.1: Conv2D(1, DIM, 5, stride 2)
        "critic.conv1.bias": (64,),
        "critic.conv2.weight": (128, 64, 5, 5),
        "critic.conv2.bias": (128,),
        "critic.conv3.weight": (256, 128, 5, 5),
        "critic.conv3.bias": (256,),
        "critic.output.weight": (1, 4096),  # Discriminator.Output: Linear(4*4*4*DIM, 1)
        "critic.output.bias": (1,),
    }
    norms = (nn.BatchNorm2d, nn.BatchNorm1d, nn.LayerNorm, nn.InstanceNorm2d, nn.GroupNorm)
    assert not any(isinstance(m, norms) for m in model.modules())  # MODE 'wgan-gp': no batch norm at all


def test_feature_map_sizes_and_output_range() -> None:
    """4x4 -> 8x8 cropped to 7x7 -> 14x14 -> 28x28 (Sigmoid); the critic 28 -> 14 -> 7 -> 4 -> one score."""
    model = zoo.create("wgan-gp", dim=8).eval()
    g, sizes = model.generator, []
    hooks = [
        m.register_forward_hook(lambda _m, _i, out: sizes.append(tuple(out.shape[1:])))
        for m in (g.deconv2, g.deconv3, g.deconv5)
    ]
    images = model.generate(torch.randn(3, 128))
    for hook in hooks:
        hook.remove()
    assert sizes == [(16, 8, 8), (8, 14, 14), (1, 28, 28)]
    assert images.shape == (3, 1, 28, 28) and images.min() > 0 and images.max() < 1
    c, sizes = model.critic, []
    hooks = [
        m.register_forward_hook(lambda _m, _i, out: sizes.append(tuple(out.shape[1:])))
        for m in (c.conv1, c.conv2, c.conv3)
    ]
    assert model.critique(images).shape == (3,)
    assert sizes == [(8, 14, 14), (16, 7, 7), (32, 4, 4)]
    with pytest.raises(zoo.ZooError, match="28x28 images, got 32x32"):
        model.critique(torch.rand(2, 1, 32, 32))
    with pytest.raises(zoo.ZooError, match=r"codes shaped \(N, 128\)"):
        model.generate(torch.randn(2, 128, 1, 1))


def test_init_is_tflibs() -> None:
    """Uniform weights of tflib's standard deviations (Glorot for Linear, he_init for the convolutions), zero biases."""
    torch.manual_seed(0)
    model = zoo.create("wgan-gp")
    g, c = model.generator, model.critic
    expected = {
        "generator.input": math.sqrt(2 / (128 + 4096)),
        "generator.deconv2": math.sqrt(4 / (256 * 25 / 4 + 128 * 25)),
        "generator.deconv3": math.sqrt(4 / (128 * 25 / 4 + 64 * 25)),
        "critic.conv2": math.sqrt(4 / (64 * 25 + 128 * 25 / 4)),
        "critic.conv3": math.sqrt(4 / (128 * 25 + 256 * 25 / 4)),
        "critic.output": math.sqrt(2 / (4096 + 1)),
    }
    modules = dict(model.named_modules())
    for name, std in expected.items():
        weight = modules[name].weight.detach()
        assert weight.std().item() == pytest.approx(std, rel=0.05), name
        assert weight.abs().max().item() <= std * math.sqrt(3) + 1e-7, name  # uniform: bounded at std * sqrt(3)
        assert weight.abs().max().item() > 0.95 * std * math.sqrt(3), name
    assert all(float(m.bias.detach().abs().max()) == 0 for m in (g.input, g.deconv2, g.deconv5, c.conv1, c.output))


# -- training --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def digits() -> torch.Tensor:
    return load_dataset("mnist5k", split="train").tensors()[:10]


def make_step(tmp_path: Path, **train_config: object) -> WGANGPTrainingStep:
    torch.manual_seed(0)
    model = zoo.create("wgan-gp", dim=8, nz=16)
    step = WGANGPTrainingStep(model, TrainConfig("wgan-gp", "mnist5k", str(tmp_path), step_config=train_config))
    step.nets, step.global_batch_size = step.networks(), 10
    step.opts = step.optimizers()
    return step


def test_adam_settings_are_gan_mnists(tmp_path: Path) -> None:
    step = make_step(tmp_path)
    for optimizer in step.opts.values():
        assert isinstance(optimizer, torch.optim.Adam)
        assert optimizer.defaults["lr"] == 1e-4 and optimizer.defaults["betas"] == (0.5, 0.9)
    assert WGANGPTrainingStep.default_batch_size == 50 and step.params.lambda_gp == 10 and step.params.n_critic == 5
    assert make_step(tmp_path, beta1=0.0).opts["d"].defaults["betas"] == (0.0, 0.9)  # the paper's Algorithm 1


def test_the_gradient_penalty_by_hand() -> None:
    """A linear critic D(x) = w.x + b has gradient w at every point: the penalty is lambda (||w|| - 1)^2."""
    critic = nn.Sequential(nn.Flatten(), nn.Linear(4, 1))
    with torch.no_grad():
        critic[1].weight.copy_(torch.tensor([[3.0, 0.0, 4.0, 0.0]]))  # ||w|| = 5
    penalty, grads = gradient_penalty(critic, torch.rand(6, 1, 2, 2), torch.rand(6, 1, 2, 2), "mixed", 1.0, 10.0)
    assert float(penalty.detach()) == pytest.approx(10 * (5 - 1) ** 2)
    assert torch.allclose(grads, torch.tensor([3.0, 0.0, 4.0, 0.0]).expand(6, 4))


def test_one_critic_step_logs_the_penalty_and_the_wasserstein_estimate(digits: torch.Tensor, tmp_path: Path) -> None:
    """The step's numbers equal gan_mnist.py's disc_cost computed independently on the same draws."""
    step = make_step(tmp_path)
    model = step.model
    g0 = {k: v.clone() for k, v in model.generator.state_dict().items()}
    c0 = {k: v.clone() for k, v in model.critic.state_dict().items()}
    torch.manual_seed(7)
    values = {k: float(v) for k, v in step.train_step({"image": digits}, 0).items()}
    assert set(values) == {"loss_D", "gradient_penalty", "wasserstein", "loss_G", "generator_iters"}
    assert all(math.isfinite(v) for v in values.values())
    # the same draws (noise, then alpha) on the initial weights, written out as the reference does
    reference = WGANGP(WGANGPConfig(dim=8, nz=16))
    reference.generator.load_state_dict(g0), reference.critic.load_state_dict(c0)
    torch.manual_seed(7)
    with torch.no_grad():
        fake = reference.generator(torch.randn(10, 16))
    disc_real, disc_fake = reference.critic(digits), reference.critic(fake)
    alpha = torch.rand(10, 1, 1, 1)
    interpolates = (alpha * digits + (1 - alpha) * fake).requires_grad_(True)
    (gradients,) = torch.autograd.grad(reference.critic(interpolates).sum(), interpolates)
    slopes = gradients.flatten(1).square().sum(1).sqrt()
    penalty = 10 * ((slopes - 1) ** 2).mean()
    disc_cost = (disc_fake.mean() - disc_real.mean() + penalty).detach()
    assert values["gradient_penalty"] == pytest.approx(float(penalty), rel=1e-5)
    assert values["loss_D"] == pytest.approx(float(disc_cost), rel=1e-5)
    estimate = float((disc_real.mean() - disc_fake.mean()).detach())
    assert values["wasserstein"] == pytest.approx(estimate, rel=1e-4, abs=1e-7)
    assert values["generator_iters"] == 0
    assert all(torch.equal(v, g0[k]) for k, v in model.generator.state_dict().items())  # G frozen in a critic step
    assert not all(torch.equal(v, c0[k]) for k, v in model.critic.state_dict().items())


def test_the_generator_updates_after_every_fifth_critic_iteration(digits: torch.Tensor, tmp_path: Path) -> None:
    step = make_step(tmp_path)
    weight = step.model.generator.input.weight
    updates, logged = [], []
    for i in range(11):
        before = weight.detach().clone()
        values = step.train_step({"image": digits}, i)
        updates.append(not torch.equal(before, weight))
        logged.append(float(values["generator_iters"]))
        assert all(math.isfinite(float(v)) for v in values.values())
    assert updates == [False] * 4 + [True] + [False] * 4 + [True, False]  # CRITIC_ITERS = 5, no warm-up
    assert logged == [0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2]
    state = json.loads(json.dumps(step.extra_state()))
    assert state["critic_iters"] == 1 and state["generator_iters"] == 2


def test_training_checks_the_data_and_the_model(tmp_path: Path) -> None:
    step = make_step(tmp_path)
    with pytest.raises(
        zoo.ZooError, match=r"^The dataset 'mnist5k' has 32x32 images but wgan-gp's networks take 28x28 only"
    ):
        step.check_dataset(load_dataset("mnist5k", split="test", size=32))
    step.check_dataset(load_dataset("mnist5k", split="test"))
    generator_only = zoo.create("wgan-gp", dim=4, with_critic=False)
    with pytest.raises(zoo.ZooError, match="generator only"):
        WGANGPTrainingStep(generator_only, TrainConfig("wgan-gp", "mnist5k", str(tmp_path)))


def test_zoo_train_wgan_gp_logs_the_wasserstein_estimate(tmp_path: Path) -> None:
    result = train(
        "wgan-gp",
        "mnist5k",
        tmp_path / "run",
        steps=6,
        batch_size=10,
        log_every=3,
        config={"dim": 4, "nz": 8},
        evaluate=False,
        **QUIET,
    )
    assert result.step == 6 and all(math.isfinite(v) for v in result.losses.values())
    lines = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    logged = [line for line in lines if "wasserstein" in line]
    assert [line["step"] for line in logged] == [3, 6] and logged[-1]["gradient_penalty"] >= 0
    model = zoo.load(str(result.model_dir))
    assert isinstance(model, WGANGP) and model.sample(2, seed=0).shape == (2, 1, 28, 28)
