"""zoo-gan: the networks, init and optimiser of goodfeli/adversarial mnist.yaml; AdversaryCost2's gradients; the
Parzen-window log-likelihood of the paper; the training engine's run.

Golden outputs (``golden/gan.safetensors``) are written by running this module:
``python plugins/zoo-gan/tests/test_gan.py --write-golden`` (only after a deliberate change).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from zoo_gan.model import GAN, GANConfig, Maxout, marginal_logits
from zoo_gan.training import (
    PARZEN_RECORD,
    GANParams,
    GANTrainingStep,
    Pylearn2Momentum,
    learning_rate,
    momentum,
)

import zoo_core as zoo
from zoo_core.data import load_dataset
from zoo_core.metrics import create_metric
from zoo_core.metrics.parzen import ParzenLogLikelihood, choose_sigma, parzen_log_likelihood, sigma_grid
from zoo_core.training import TrainConfig, train

QUIET = {"progress": False, "verbose": False}
HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "golden" / "gan.safetensors"
TINY = {"nz": 6, "g_hidden": 12, "d_units": 5, "d_pieces": 3}


# -- layout and init (mnist.yaml) -----------------------------------------------------------------
def test_state_dict_is_mnist_yaml_layout() -> None:
    """nvis 100 -> 1200 -> 1200 -> 784 (G); 784 -> 240x5 -> 240x5 -> 1 (D), keys named after the pylearn2 layers."""
    state = GAN(GANConfig()).state_dict()
    assert {k: tuple(v.shape) for k, v in state.items()} == {
        "generator.h0.weight": (1200, 100),
        "generator.h0.bias": (1200,),
        "generator.h1.weight": (1200, 1200),
        "generator.h1.bias": (1200,),
        "generator.y.weight": (784, 1200),
        "generator.y.bias": (784,),
        "discriminator.h0.linear.weight": (1200, 784),
        "discriminator.h0.linear.bias": (1200,),
        "discriminator.h1.linear.weight": (1200, 240),
        "discriminator.h1.linear.bias": (1200,),
        "discriminator.y.weight": (1, 240),
        "discriminator.y.bias": (1,),
    }
    assert sum(v.numel() for v in state.values()) == 3_735_425


def test_init_is_pylearn2_irange() -> None:
    """Weights ~ U(-irange, irange) (G .05, D .005), biases 0."""
    torch.manual_seed(0)
    model = GAN(GANConfig())
    for name, tensor in model.state_dict().items():
        irange = 0.05 if name.startswith("generator") else 0.005
        if name.endswith("bias"):
            assert not tensor.any(), name
        elif tensor.numel() < 10_000:  # D's output unit (240 weights): too few for the moments
            assert tensor.abs().max() <= irange, name
        else:
            assert tensor.abs().max() <= irange and tensor.abs().max() > 0.99 * irange, name
            # uniform: variance irange^2 / 3 (a normal init of the same range would be far off)
            assert tensor.var().item() == pytest.approx(irange**2 / 3, rel=0.05), name


def test_maxout_is_the_max_of_consecutive_pieces() -> None:
    layer = Maxout(7, units=4, pieces=3, irange=1.0)
    x = torch.randn(5, 7)
    z = x @ layer.linear.weight.T + layer.linear.bias
    expected = torch.stack([z[:, 3 * j : 3 * j + 3].max(1).values for j in range(4)], 1)
    assert torch.allclose(layer(x), expected)


def test_output_bias_is_the_logit_of_the_pixel_marginals() -> None:
    """init_sigmoid_bias_from_marginals: logit(mean) with the mean clipped to [1e-5, 1 - 1e-5]."""
    images = torch.tensor([[0.0, 1.0, 0.2], [0.0, 1.0, 0.6]])
    expected = torch.tensor([math.log(1e-5 / (1 - 1e-5)), math.log((1 - 1e-5) / 1e-5), math.log(0.4 / 0.6)])
    assert torch.allclose(marginal_logits(images), expected, atol=1e-4)
    with pytest.raises(zoo.ZooError, match=r"non-empty batch"):
        marginal_logits(torch.zeros(0, 3))


def test_the_training_step_sets_the_output_bias_from_the_data(tmp_path: Path) -> None:
    model = zoo.create("gan")
    step = GANTrainingStep(model, TrainConfig("gan", "mnist5k", str(tmp_path)))
    data = load_dataset("mnist5k", split="test")
    step.check_dataset(data)
    expected = marginal_logits(data.tensors())
    assert torch.allclose(model.generator.y.bias, expected)
    assert model.generator.y.bias.min() < -10 and model.generator.y.bias.max() > 0  # blank borders, inked centre


def test_noise_is_mnist_yaml_uniform_with_unit_variance() -> None:
    model = zoo.create("gan")
    z = model.noise(20_000, torch.Generator().manual_seed(0))
    assert z.abs().max() <= math.sqrt(3) and z.abs().max() > 1.7
    assert z.var().item() == pytest.approx(1.0, rel=0.02)
    gaussian = zoo.create("gan", noise="gaussian").noise(20_000, torch.Generator().manual_seed(0))
    assert gaussian.abs().max() > 3  # not bounded
    with pytest.raises(zoo.ZooError, match=r"noise is one of uniform, gaussian, not 'normal'"):
        zoo.create("gan", noise="normal")


def test_sample_is_seeded_grey_digits_in_unit_range() -> None:
    model = zoo.create("gan", **TINY).eval()
    a, b, c = model.sample(8, seed=0), model.sample(8, seed=0), model.sample(8, seed=1)
    assert a.shape == (8, 1, 28, 28) and a.min() >= 0 and a.max() <= 1
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_verbs_check_their_inputs() -> None:
    model = zoo.create("gan", **TINY).eval()
    with pytest.raises(zoo.ZooError, match=r"takes noise shaped \(N, 6\), not \(2, 5\)"):
        model.generate(torch.zeros(2, 5))
    with pytest.raises(zoo.ZooError, match=r"takes 28x28 images, got 32x32"):
        model.discriminate(torch.zeros(2, 1, 32, 32))
    x = torch.rand(3, 1, 28, 28)
    with torch.no_grad():
        assert torch.equal(model.discriminate(x), model.discriminate(x))  # the test-time network: no dropout


# -- optimiser (mnist.yaml algorithm) -------------------------------------------------------------
def test_learning_rate_decays_per_update_to_its_floor() -> None:
    p = GANParams()
    assert learning_rate(0, p) == 0.1
    assert learning_rate(1, p) == pytest.approx(0.1 / 1.000004)
    assert learning_rate(250_000, p) == pytest.approx(0.1 * math.exp(-250_000 * math.log(1.000004)))
    assert learning_rate(10**8, p) == 1e-6


def test_momentum_follows_momentum_adjustor_over_reference_epochs() -> None:
    """0.5 during the reference's first epoch (500 updates), then + 0.2 / 249 per epoch up to 0.7 at epoch 250."""
    p = GANParams()
    assert momentum(0, p) == momentum(499, p) == 0.5
    assert momentum(500, p) == pytest.approx(0.5 + 0.2 / 249)
    assert momentum(500 * 125, p) == pytest.approx(0.5 + 0.2 * 125 / 249)
    assert momentum(500 * 249, p) == pytest.approx(0.7) and momentum(10**7, p) == pytest.approx(0.7)


def test_pylearn2_momentum_rule() -> None:
    """v <- mu v - lr g; p <- p + v (the velocity keeps the old learning rate, unlike torch's SGD)."""
    w = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    opt = Pylearn2Momentum([w], lr=0.1, momentum=0.5)
    w.grad = torch.tensor([1.0, 1.0])
    opt.step()
    assert torch.allclose(w.detach(), torch.tensor([0.9, -2.1]))
    opt.param_groups[0]["lr"] = 0.01
    w.grad = torch.tensor([2.0, 0.0])
    opt.step()  # v = 0.5 * -0.1 - 0.01 * g
    assert torch.allclose(w.detach(), torch.tensor([0.9 - 0.05 - 0.02, -2.1 - 0.05]))
    with pytest.raises(zoo.ZooError, match="momentum < 1"):
        Pylearn2Momentum([w], lr=0.1, momentum=1.0)


# -- AdversaryCost2 ---------------------------------------------------------------------------------
def _step(model: GAN, tmp_path: Path, batch: int) -> GANTrainingStep:
    step = GANTrainingStep(model, TrainConfig("gan", "mnist5k", str(tmp_path)))
    step.nets, step.global_batch_size = step.networks(), batch
    step.opts = step.optimizers()
    return step


def test_dropout_masks_keep_inputs_with_mnist_yaml_probabilities(tmp_path: Path) -> None:
    step = _step(zoo.create("gan"), tmp_path, 100)
    masks = step._masks(2000, torch.device("cpu"))
    assert [tuple(m.shape) for m in masks] == [(2000, 784), (2000, 240), (2000, 240)]
    for mask, keep, scale in zip(masks, (0.8, 0.5, 0.5), (1.25, 2.0, 2.0), strict=True):
        assert set(mask.unique().tolist()) == {0.0, scale}
        assert (mask > 0).float().mean().item() == pytest.approx(keep, abs=0.01)


def test_one_step_is_adversary_cost2_simultaneous_gradients(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One update moves D along -grad of 0.5 (BCE(D(x), 1) + BCE(D(G(z)), 0)) and G along -grad of BCE(D(G(z)), 1),
    both taken at the same weights with the same dropout masks on D(G(z)) (first step: v = -lr g)."""
    torch.manual_seed(0)
    model = zoo.create("gan", **TINY)
    x = load_dataset("mnist5k", split="test").tensors()[:16]
    step = _step(model, tmp_path, 16)
    gen = torch.Generator().manual_seed(1)
    masks = [[(torch.rand(16, n, generator=gen) < 0.7).float() / 0.7 for n in (784, 5, 5)] for _ in range(2)]
    draws = iter(masks)
    monkeypatch.setattr(step, "_masks", lambda rows, device: next(draws))
    torch.manual_seed(5)
    z = model.noise(16)
    torch.manual_seed(5)  # the step draws the same noise

    before = {k: v.clone() for k, v in model.named_parameters()}
    d_params = list(model.discriminator.parameters())
    g_params = list(model.generator.parameters())
    fake = model.generator(z)
    real_logit = model.discriminator(x.flatten(1), masks[0])
    fake_logit = model.discriminator(fake, masks[1])
    d_obj = 0.5 * (
        F.binary_cross_entropy_with_logits(real_logit, torch.ones(16))
        + F.binary_cross_entropy_with_logits(fake_logit, torch.zeros(16))
    )
    g_obj = F.binary_cross_entropy_with_logits(fake_logit, torch.ones(16))
    d_grads = torch.autograd.grad(d_obj, d_params, retain_graph=True)
    g_grads = torch.autograd.grad(g_obj, g_params)

    values = step.train_step({"image": x}, 0)
    assert values["objective_d"].item() == pytest.approx(d_obj.item(), rel=1e-6)
    assert values["objective_g"].item() == pytest.approx(g_obj.item(), rel=1e-6)
    names = [k for k, _ in model.named_parameters()]
    grads = dict(zip([n for n in names if n.startswith("discriminator")], d_grads, strict=True))
    grads |= dict(zip([n for n in names if n.startswith("generator")], g_grads, strict=True))
    for name, param in model.named_parameters():
        assert torch.allclose(param.detach(), before[name] - 0.1 * grads[name], atol=1e-7), name
    assert any(g.abs().sum() > 0 for g in g_grads) and any(g.abs().sum() > 0 for g in d_grads)


def test_final_metrics_only_on_digits(tmp_path: Path) -> None:
    step = GANTrainingStep(zoo.create("gan", **TINY), TrainConfig("gan", "mnist5k", str(tmp_path)))
    assert step.eval_metrics[:2] == ("fid-mnist", PARZEN_RECORD)
    faces = GANTrainingStep(zoo.create("gan", **TINY), TrainConfig("gan", "faces", str(tmp_path)))
    assert faces.eval_metrics == ()
    with pytest.raises(zoo.ZooError, match=r"d_hidden_include_prob is a probability in \(0, 1\], not 0.0"):
        GANTrainingStep(
            zoo.create("gan", **TINY),
            TrainConfig("gan", "mnist5k", str(tmp_path), step_config={"d_hidden_include_prob": 0.0}),
        )


def test_zoo_train_writes_a_model_that_loads_and_samples(tmp_path: Path) -> None:
    result = train("gan", "mnist5k", tmp_path / "run", steps=3, batch_size=20, config=TINY, evaluate=False, **QUIET)
    assert result.step == 3 and all(math.isfinite(v) for v in result.losses.values())
    model = zoo.load(str(result.model_dir))
    assert isinstance(model, GAN) and model.sample(4, seed=0).shape == (4, 1, 28, 28)
    lines = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert {"objective_d", "objective_g", "D_x", "D_G_z", "lr", "momentum"} <= set(lines[-1])


# -- the Parzen-window log-likelihood --------------------------------------------------------------
def test_parzen_log_likelihood_is_the_gaussian_mixture_density() -> None:
    gen = torch.Generator().manual_seed(0)
    samples, x = torch.rand(50, 3, generator=gen, dtype=torch.float64), torch.rand(7, 3, generator=gen)
    mixture = torch.distributions.MixtureSameFamily(
        torch.distributions.Categorical(torch.ones(50, dtype=torch.float64)),
        torch.distributions.Independent(torch.distributions.Normal(samples, 0.3), 1),
    )
    assert torch.allclose(parzen_log_likelihood(x, samples, 0.3), mixture.log_prob(x.double()), atol=1e-10)
    both = parzen_log_likelihood(x, samples, [0.3, 0.5])
    assert both.shape == (2, 7) and torch.allclose(both[0], mixture.log_prob(x.double()))


def test_sigma_grid_is_numpy_logspace_and_cross_validation_picks_the_best() -> None:
    import numpy as np

    assert np.allclose(sigma_grid(), np.logspace(-1, 0, 10))
    gen = torch.Generator().manual_seed(0)
    samples, valid = torch.randn(3000, 2, generator=gen), torch.randn(300, 2, generator=gen)
    grid = [0.01, 0.3, 10.0]
    sigma, means = choose_sigma(samples, valid, grid)
    assert sigma == 0.3 and means[1] == max(means)


def test_parzen_metric_reports_mean_and_standard_error() -> None:
    gen = torch.Generator().manual_seed(0)
    samples, real = torch.rand(200, 1, 4, 4, generator=gen), torch.rand(30, 1, 4, 4, generator=gen)
    metric = ParzenLogLikelihood(log10_sigma_min=-1.5, log10_sigma_max=0.5, sigma_steps=5)
    metric.validation = torch.rand(40, 16, generator=gen)
    metric.update(fake=samples[:120])
    metric.update(fake=samples[120:], real=real)
    result = metric.compute()
    sigma, _ = choose_sigma(samples.flatten(1).double(), metric.validation.double(), metric.sigmas)
    ll = parzen_log_likelihood(real, samples, sigma)
    assert metric.chosen_sigma == sigma
    assert result["parzen-ll"] == pytest.approx(ll.mean().item())
    assert result["parzen-ll-se"] == pytest.approx(ll.std(unbiased=False).item() / math.sqrt(30))
    assert f"chosen sigma {sigma:.4g}" in metric.protocol and "last 500 images of mnist5k train" in metric.protocol


def test_parzen_metric_is_registered_and_refuses_bad_input() -> None:
    metric = create_metric("parzen-ll", validation_size=100)
    assert isinstance(metric, ParzenLogLikelihood) and metric.higher_is_better and metric.unit == "nats"
    with pytest.raises(zoo.ZooError, match="needs samples and images"):
        metric.compute()
    metric.update(fake=torch.rand(4, 1, 28, 28), real=torch.rand(2, 1, 8, 8))
    metric.validation = torch.rand(3, 784)
    with pytest.raises(zoo.ZooError, match=r"samples of the images' size: got \(4, 784\) samples for images of 64"):
        metric.compute()
    with pytest.raises(zoo.ZooError, match="validation_size must be at least 1"):
        ParzenLogLikelihood(validation_size=0)
    too_many = ParzenLogLikelihood(validation_dataset="mnist5k", validation_split="test", validation_size=501)
    too_many.update(fake=torch.rand(4, 1, 28, 28), real=torch.rand(2, 1, 28, 28))
    with pytest.raises(zoo.ZooError, match="has 500 images, fewer than the 501"):
        too_many.compute()


def test_parzen_metric_validates_on_the_last_train_digits() -> None:
    metric = ParzenLogLikelihood(validation_size=3)
    expected = load_dataset("mnist5k", split="train").tensors()[-3:].flatten(1).double()
    assert torch.equal(metric._validation(), expected)


# -- golden outputs --------------------------------------------------------------------------------
def golden_values() -> dict[str, torch.Tensor]:
    """What golden/gan.safetensors holds, computed by the code under test (a tiny seeded model)."""
    torch.manual_seed(0)
    model = zoo.create("gan", **TINY).eval()
    images = model.sample(3, seed=0)
    with torch.no_grad():
        return {"tiny_images": images, "tiny_discriminator": model.discriminate(images)}


def test_tiny_golden_forward() -> None:
    """Fixed seeds: the tiny model's init, noise, samples and D's outputs equal the stored ones."""
    golden = load_file(GOLDEN)
    values = golden_values()
    assert values["tiny_images"].shape == (3, 1, 28, 28)
    for key, value in values.items():
        assert torch.allclose(value, golden[key], atol=1e-6), key


if __name__ == "__main__" and sys.argv[1:] == ["--write-golden"]:
    GOLDEN.parent.mkdir(exist_ok=True)
    save_file({k: v.contiguous() for k, v in golden_values().items()}, GOLDEN)
    print(f"wrote {GOLDEN}")
