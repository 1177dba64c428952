"""ELBO, the importance-weighted NLL and bits per dimension, on the published VAE and the mnist5k test digits."""

from __future__ import annotations

import math

import pytest
import torch

import zoo_core as zoo
from zoo_core import ZooError
from zoo_core.data import load_dataset
from zoo_core.metrics import create_metric
from zoo_core.metrics.likelihood import ELBO, IWAENLL, BitsPerDim, bits_per_dim
from zoo_core.modeling import DensityModel

PUBLISHED = "hub/zoo/vae-mnist"


@pytest.fixture(scope="module")
def vae():
    return zoo.ZooModel.from_pretrained(PUBLISHED)


@pytest.fixture(scope="module")
def digits() -> torch.Tensor:
    return load_dataset("mnist5k", split="test").tensors()


def test_bits_per_dim_known_values() -> None:
    assert bits_per_dim(784 * math.log(256), 784) == pytest.approx(8.0, rel=1e-12)  # uniform 8-bit
    assert bits_per_dim(torch.tensor([math.log(2) * 10]), 10).item() == pytest.approx(1.0)
    with pytest.raises(ZooError, match="positive number"):
        bits_per_dim(1.0, 0)


def test_elbo_metric_is_the_published_protocol(vae, digits) -> None:
    """One update over the test split is -negative_elbo averaged, with one generator seeded 0 (the card's protocol)."""
    metric = create_metric("elbo")
    assert isinstance(metric, ELBO) and metric.unit == "nats" and metric.higher_is_better
    with torch.inference_mode():
        metric.update(model=vae, images=digits)
        expected = -vae.negative_elbo(digits, torch.Generator().manual_seed(0)).double().mean().item()
    assert metric.compute()["elbo"] == pytest.approx(expected, rel=1e-6)
    assert -130 < expected < -90
    metric.reset()  # the same seed again after a reset
    with torch.inference_mode():
        metric.update(model=vae, images=digits)
    assert metric.compute()["elbo"] == pytest.approx(expected, rel=1e-6)


def test_log_importance_weights_k1_is_the_elbo_sample_with_a_monte_carlo_kl(vae, digits) -> None:
    """For k = 1 the weight uses the same posterior sample as negative_elbo; the two differ only in the KL term:
    log w = -BCE(z) + log p(z) - log q(z|x), -ELBO = BCE(z) + KL(q || p) (analytic)."""
    from zoo_vae.model import kl_divergence

    x = digits[:64]
    with torch.inference_mode():
        log_w = vae.log_importance_weights(x, 1, torch.Generator().manual_seed(5))
        negative_elbo = vae.negative_elbo(x, torch.Generator().manual_seed(5))
        mu, logvar = vae.posterior(x)
        eps = torch.randn(mu.shape, generator=torch.Generator().manual_seed(5))
        z = mu + eps * torch.exp(0.5 * logvar)
        q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
        prior = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
        monte_carlo_kl_gap = prior.log_prob(z).sum(1) - q.log_prob(z).sum(1) + kl_divergence(mu, logvar)
    assert log_w.shape == (64, 1)
    torch.testing.assert_close(log_w[:, 0] + negative_elbo, monte_carlo_kl_gap, rtol=1e-4, atol=2e-3)


def test_iwae_nll_bounds_the_elbo_and_tightens_with_k(vae, digits) -> None:
    values = {}
    with torch.inference_mode():
        elbo = ELBO(seed=0)
        elbo.update(model=vae, images=digits)
        for k in (1, 10, 100):
            metric = IWAENLL(k=k, seed=0)
            for batch in digits.split(250):
                metric.update(model=vae, images=batch)
            values[k] = metric.compute()["iwae-nll"]
    negative_elbo = -elbo.compute()["elbo"]
    # k = 1 estimates -ELBO without bias (Monte Carlo KL): within the noise of 500 digits
    assert values[1] == pytest.approx(negative_elbo, abs=0.5)
    assert values[100] < values[10] < values[1]
    assert values[10] < negative_elbo - 2  # a strictly tighter bound on average
    assert "k=100" in metric.protocol


class _HistogramDensity(DensityModel, torch.nn.Module):
    """Every pixel independent, with the 256-level histogram of the training digits (a real density model)."""

    pixel_levels = 256

    def __init__(self, train: torch.Tensor) -> None:
        super().__init__()
        levels = (train * 255).round().long().flatten()
        counts = torch.bincount(levels, minlength=256).double() + 1
        self.log_p = (counts / counts.sum()).log()

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        return self.log_p[(x * 255).round().long()].flatten(1).sum(1)


def test_bits_per_dim_metric_equals_the_density_models_own(digits) -> None:
    model = _HistogramDensity(load_dataset("mnist5k", split="train").tensors())
    metric = create_metric("bpd")
    assert isinstance(metric, BitsPerDim)
    for batch in digits.split(200):
        metric.update(model=model, images=batch)
    expected = model.bits_per_dim(digits).mean().item()
    # direct count: mean over pixels of -log2 p(level)
    direct = -(model.log_p[(digits * 255).round().long()] / math.log(2)).mean().item()
    assert metric.compute()["bpd"] == pytest.approx(expected, rel=1e-12)
    assert expected == pytest.approx(direct, rel=1e-12)
    assert 0.5 < expected < 8


def test_models_without_the_method_get_a_clear_error(digits) -> None:
    with pytest.raises(ZooError, match=r"log_importance_weights\(\)"):
        IWAENLL(k=2).update(model=torch.nn.Linear(1, 1), images=digits[:2])
    with pytest.raises(ZooError, match="seen no images"):
        ELBO().compute()


class _BernoulliPixels(DensityModel, zoo.ZooModel):
    """Every pixel an independent Bernoulli fit to binarized training digits (a real model of binary pixels)."""

    pixel_levels = 2

    def __init__(self, config: zoo.ModelConfig, p: torch.Tensor) -> None:
        super().__init__(config)
        self.register_buffer("p", p.clamp(1e-3, 1 - 1e-3))

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        from zoo_core.modeling import check_density_images

        check_density_images(x, pixel_levels=2, channels=1, size=(28, 28), what="Bernoulli model")
        return (x * self.p.log() + (1 - x) * (1 - self.p).log()).flatten(1).sum(1)


@pytest.fixture(scope="module")
def bernoulli() -> _BernoulliPixels:
    train = load_dataset("mnist5k", split="train", binarize="stochastic").tensors()
    return _BernoulliPixels(zoo.ModelConfig(), train.mean(0))


def test_nll_binarized_is_the_mean_negative_log_prob_of_the_binarized_test_digits(bernoulli) -> None:
    from zoo_core.evaluation import evaluate, reproduce_metrics
    from zoo_core.metrics.likelihood import BinarizedNLL

    binary = load_dataset("mnist5k", split="test", binarize="stochastic").tensors()
    metric = create_metric("nll-binarized")
    assert isinstance(metric, BinarizedNLL) and metric.unit == "nats" and not metric.higher_is_better
    (record,) = evaluate(bernoulli, ["nll-binarized"], "mnist5k", dataset_options={"binarize": "stochastic"})
    direct = -bernoulli.log_prob(binary).double().mean().item()
    assert record["value"] == pytest.approx(direct, rel=1e-9)
    assert 150 < direct < 250  # independent pixels: far worse than NADE's ~88 nats, far better than 784 ln 2 = 543
    assert record["dataset_options"] == {"binarize": "stochastic"} and record["samples"] == 500
    assert (record["unit"], record["split"], record["evaluation"]) == ("nats", "test", "likelihood")
    (again,) = reproduce_metrics(bernoulli, records=[record])  # what `zoo eval NAME --metric nll-binarized` runs
    assert again["value"] == record["value"] == again["recorded"]


def test_density_metrics_refuse_models_of_the_other_pixels_and_grey_images(bernoulli, digits) -> None:
    binary = (digits > 0.5).float()
    with pytest.raises(ZooError, match=r"'bpd' scores models of 8-bit grey levels.*use the metric 'nll-binarized'"):
        create_metric("bpd").update(model=bernoulli, images=binary)
    histogram = _HistogramDensity(digits)
    with pytest.raises(ZooError, match=r"'nll-binarized' scores models of binary pixels.*use the metric 'bpd'"):
        create_metric("nll-binarized").update(model=histogram, images=binary)
    with pytest.raises(ZooError, match=r"grey values such as .*--dataset-option binarize=stochastic"):
        create_metric("nll-binarized").update(model=bernoulli, images=digits)
    # through `zoo eval`'s path: the model's own check names the dataset option too
    from zoo_core.evaluation import evaluate

    with pytest.raises(ZooError, match="binarize=stochastic"):
        evaluate(bernoulli, ["nll-binarized"], "mnist5k", n=10)


def test_check_density_images_says_what_is_wrong_in_one_sentence() -> None:
    from zoo_core.modeling import check_density_images

    ok = torch.zeros(2, 1, 28, 28)
    check_density_images(ok, pixel_levels=2, channels=1, size=(28, 28))
    check_density_images(ok + 0.3, pixel_levels=256, channels=1, size=(28, 28))
    cases = [
        ((ok + 0.5, 2, (28, 28)), "The NADE models binary pixels (0 or 1), got values such as 0.5; binarize"),
        ((ok, 2, (32, 32)), "The NADE takes 32x32 images, got 28x28; resize them first."),
        ((ok[:, :, :, :1].squeeze(-1), 2, None), "The NADE takes a batch of images shaped (N, C, H, W)"),
        ((ok + 2, 256, None), "The NADE models 8-bit grey levels in [0, 1], got values from 2 to 2"),
        ((ok.to(torch.uint8), 2, None), "The NADE takes float images in [0, 1], not torch.uint8"),
        ((ok, 3, None), "The NADE declares pixel_levels=3; a density model declares 2 (binary) or 256 (8-bit)."),
    ]
    for (x, levels, size), message in cases:
        with pytest.raises(ZooError) as info:
            check_density_images(x, pixel_levels=levels, channels=1, size=size, what="NADE")
        assert str(info.value).startswith(message) and str(info.value).endswith(".") and "\n" not in str(info.value)


def test_the_density_contract_names_pixel_levels() -> None:
    from zoo_core.tasks import TASKS, check_contract

    assert TASKS["density"].attributes == ("pixel_levels",)

    class NoLevels(DensityModel):
        def log_prob(self, x):
            return x

    with pytest.raises(ZooError, match="not its attribute 'pixel_levels'"):
        check_contract(NoLevels, ["density"], "The model class NoLevels")
    assert zoo.ZooModel.from_pretrained  # pixelcnnpp declares 256
    from zoo_core._catalog import get_catalog

    assert get_catalog().architecture("pixelcnnpp").model_class().pixel_levels == 256
