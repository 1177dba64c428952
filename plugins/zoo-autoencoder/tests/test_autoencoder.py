"""zoo-autoencoder: faithful to lazyprogrammer's autoencoder_tf.py, the Gaussian over codes that sampling decodes,
the recon-mse metric and its baselines, and the published autoencoder.mnist as recorded.

Golden outputs (``golden/autoencoder_mnist.safetensors``) are written by running this module:
``python plugins/zoo-autoencoder/tests/test_autoencoder.py --write-golden`` (only after a deliberate change).
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
from zoo_autoencoder.baselines import reconstruction_baselines
from zoo_autoencoder.metrics import ReconstructionMSE
from zoo_autoencoder.model import Autoencoder, AutoencoderConfig, reconstruction_loss

import zoo_core as zoo
from zoo_core import ZooError
from zoo_core.cli import cli
from zoo_core.data import load_dataset

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[2]
PUBLISHED = REPO_ROOT / "hub" / "zoo" / "autoencoder-mnist"
GOLDEN = HERE / "golden" / "autoencoder_mnist.safetensors"


def test_parameters_are_the_references_variables() -> None:
    """autoencoder_tf.py: W (D, M), b (M,), V (M, D), c (D,); plus the two buffers of the fitted Gaussian."""
    with torch.device("meta"):
        model = Autoencoder.from_config()
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert shapes == {
        "W": (784, 300), "b": (300,), "V": (300, 784), "c": (784,), "code_mean": (300,), "code_scale_tril": (300, 300)
    }  # fmt: skip
    assert model.num_parameters() == 784 * 300 * 2 + 300 + 784


def test_init_is_the_references() -> None:
    torch.manual_seed(0)
    model = Autoencoder.from_config()
    assert model.W.std().item() == pytest.approx(math.sqrt(2 / 300), rel=0.02)  # random_normal * sqrt(2 / M)
    assert model.V.std().item() == pytest.approx(math.sqrt(2 / 784), rel=0.02)  # random_normal * sqrt(2 / D)
    assert not model.b.any() and not model.c.any()


def test_forward_and_loss_are_the_references_graph() -> None:
    """Z = relu(X W + b); logits = Z V + c; cost = reduce_sum(sigmoid_cross_entropy_with_logits(X, logits))."""
    torch.manual_seed(1)
    model = Autoencoder.from_config().double()
    with torch.no_grad():
        model.b.normal_()
        model.c.normal_()
    x = torch.rand(5, 1, 28, 28, dtype=torch.float64)
    flat = x.reshape(5, 784)
    logits = torch.relu(flat @ model.W + model.b) @ model.V + model.c
    torch.testing.assert_close(model(x), logits, rtol=0, atol=1e-12)
    # sigmoid_cross_entropy_with_logits as TF documents it: max(l, 0) - l x + log(1 + exp(-|l|))
    tf_cost = (logits.clamp(min=0) - logits * flat + torch.log1p(torch.exp(-logits.abs()))).sum()
    torch.testing.assert_close(reconstruction_loss(logits, x), tf_cost)
    torch.testing.assert_close(model.eval().decode(model.encode(x)), torch.sigmoid(logits).view(5, 1, 28, 28))


def test_the_fitted_gaussian_has_the_codes_mean_and_covariance() -> None:
    torch.manual_seed(2)
    model = Autoencoder.from_config(code_dim=6, prior_jitter=0.0).double().eval()
    x = load_dataset("mnist5k", split="train").tensors()[:400].double()
    model.fit_prior(x)
    codes = model.encode(x)
    torch.testing.assert_close(model.code_mean, codes.mean(0))
    cov = model.code_scale_tril @ model.code_scale_tril.t()
    torch.testing.assert_close(cov, torch.cov(codes.t()))
    # sampling decodes draws of that Gaussian: their codes' statistics, with many draws
    g = torch.Generator().manual_seed(0)
    eps = torch.randn(20_000, 6, generator=g, dtype=torch.float64)
    draws = model.code_mean + eps @ model.code_scale_tril.t()
    assert (draws.mean(0) - codes.mean(0)).abs().max() < 0.05 * codes.std(0).max()
    images = model.sample(3, seed=0)
    assert images.shape == (3, 1, 28, 28) and torch.equal(images, model.sample(3, seed=0))


def test_dead_code_units_still_give_a_gaussian() -> None:
    """A ReLU unit that never fires has zero variance: the jitter keeps the covariance positive definite."""
    model = Autoencoder.from_config(code_dim=4).eval()
    with torch.no_grad():
        model.b[0] = -1e6  # unit 0 never fires
    model.fit_prior(load_dataset("mnist5k", split="train").tensors()[:100])
    assert torch.isfinite(model.code_scale_tril).all() and model.code_scale_tril[0, 0] > 0


def test_a_training_step_on_real_digits_lowers_the_loss() -> None:
    torch.manual_seed(0)
    x = load_dataset("mnist5k", split="train").tensors()[:256]
    model = zoo.create("autoencoder")
    optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-3, alpha=0.9, eps=1e-10)
    first = reconstruction_loss(model(x), x).item()
    for _ in range(30):
        optimizer.zero_grad()
        reconstruction_loss(model(x), x).backward()
        optimizer.step()
    assert reconstruction_loss(model(x), x).item() < 0.6 * first


def test_verbs_check_their_inputs() -> None:
    model = zoo.create("autoencoder").eval()
    with pytest.raises(ZooError, match="1 channel\\(s\\), got 3"):
        model.encode(torch.rand(2, 3, 28, 28))
    with pytest.raises(ZooError, match="28x28 images, got 32x32"):
        model.encode(torch.rand(2, 1, 32, 32))
    with pytest.raises(ZooError, match="codes shaped \\(N, 300\\)"):
        model.decode(torch.rand(2, 20))
    with pytest.raises(ZooError, match="at least 2 images"):
        model.fit_prior(torch.rand(1, 1, 28, 28))


# -- the metric and its baselines --------------------------------------------------------------------
def test_recon_mse_is_the_mean_squared_error_per_pixel() -> None:
    model = zoo.create("autoencoder").eval()
    x = load_dataset("mnist5k", split="test").tensors()[:20]
    metric = ReconstructionMSE()
    metric.update(model=model, images=x[:7])
    metric.update(model=model, images=x[7:])
    expected = (model.decode(model.encode(x)) - x).pow(2).mean().item()
    assert metric.compute()["recon-mse"] == pytest.approx(expected, rel=1e-6)
    with pytest.raises(ZooError, match="encode\\(\\) and decode\\(\\)"):
        metric.update(model=object(), images=x)


def test_recon_mse_scores_any_latent_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """The VAE is a latent model too: the metric is fed by the core's likelihood protocol."""
    monkeypatch.setenv("ZOO_HUB_DIR", str(REPO_ROOT / "hub"))
    [record] = zoo.evaluate("vae.mnist", ["recon-mse"], "mnist5k", n=50)
    assert record["evaluation"] == "likelihood" and 0 < record["value"] < 0.1


def test_baselines_pca_is_the_best_linear_code() -> None:
    small = reconstruction_baselines(code_dim=10)
    assert 0.05 < small["mean-digit"] < 0.1  # the mean digit leaves most of a digit unexplained
    assert small["pca-10"] < small["mean-digit"]
    assert reconstruction_baselines(code_dim=50)["pca-50"] < small["pca-10"]


# -- the published model -----------------------------------------------------------------------------
@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> Autoencoder:
    monkeypatch.setenv("ZOO_HUB_DIR", str(REPO_ROOT / "hub"))
    return zoo.load("autoencoder.mnist")


def golden_outputs(model: Autoencoder) -> dict[str, torch.Tensor]:
    x = load_dataset("mnist5k", split="test").tensors()[:8]
    codes = model.encode(x)
    return {"codes": codes, "reconstructions": model.decode(codes), "samples_seed0": model.sample(4, seed=0)}


def test_published_model_matches_its_golden_outputs(published: Autoencoder) -> None:
    golden = load_file(GOLDEN)
    got = golden_outputs(published)
    for key in golden:  # stored on another CPU: float32 kernels round differently
        torch.testing.assert_close(got[key], golden[key], rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("metric", ["recon-mse", "fid-mnist"])
def test_zoo_eval_reproduces_the_card(published: Autoencoder, metric: str) -> None:
    result = CliRunner().invoke(cli, ["eval", "autoencoder.mnist", "--metric", metric, "--json"])
    assert result.exit_code == 0, result.output
    (measured,) = json.loads(result.output)
    recorded = next(m for m in zoo.info("autoencoder.mnist").metrics if m["name"] == metric)
    assert measured["value"] == pytest.approx(recorded["value"], rel=1e-4)
    assert f"| {metric} | {recorded['value']:.4g} |" in (PUBLISHED / "README.md").read_text()


def test_card_reports_the_computed_baselines(published: Autoencoder) -> None:
    card = (PUBLISHED / "README.md").read_text()
    code_dim = published.config.code_dim
    for name, value in reconstruction_baselines(code_dim).items():
        assert f"| {name} | {value:.4g} |" in card, name
    assert isinstance(published.config, AutoencoderConfig) and code_dim == 300


def test_zoo_sample_draws_a_grid(published: Autoencoder, tmp_path: Path) -> None:
    out = tmp_path / "g.png"
    result = CliRunner().invoke(cli, ["sample", "autoencoder.mnist", "-n", "4", "--seed", "1", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 100
    code_dim = published.config.code_dim
    assert not torch.equal(published.code_scale_tril, torch.eye(code_dim))  # the Gaussian was fitted, not N(0, I)


if __name__ == "__main__" and "--write-golden" in sys.argv:
    import os

    os.environ["ZOO_HUB_DIR"] = str(REPO_ROOT / "hub")
    GOLDEN.parent.mkdir(exist_ok=True)
    outputs = {k: v.contiguous() for k, v in golden_outputs(zoo.load("autoencoder.mnist")).items()}
    save_file(outputs, GOLDEN)
    print(f"wrote {GOLDEN}: {', '.join(outputs)}")
