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
