"""zoo-gated-pixelcnn: the paper's gated layer, causality without a blind spot, the Bernoulli likelihood and its
input checks, naive and cached sampling drawing the same images, and the published model.

Golden outputs (``golden/gated_pixelcnn.safetensors``) are written by running this module:
``python plugins/zoo-gated-pixelcnn/tests/test_gated_pixelcnn.py --write-golden`` (only after a deliberate change).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from click.testing import CliRunner
from safetensors.torch import load_file, save_file
from zoo_gated_pixelcnn.model import GatedPixelCNN, gate
from zoo_gated_pixelcnn.sampling import CachedGatedPixelCNN, draw_noise, draw_pixel, sample_cached, sample_naive

import zoo_core as zoo
from zoo_core import ZooError
from zoo_core.cli import cli
from zoo_core.data import load_dataset

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[2]
GOLDEN = HERE / "golden" / "gated_pixelcnn.safetensors"
TINY = {"image_size": 8, "n_gated": 2, "gated_channels": 4, "head_channels": 8}

pytestmark = pytest.mark.usefixtures("one_blas_thread")


def tiny(seed: int = 0, **config) -> GatedPixelCNN:
    torch.manual_seed(seed)
    model = GatedPixelCNN.from_config(config or TINY).double().eval()
    with torch.no_grad():  # larger weights than the default init, so that no logit is near 0 or 1 everywhere
        for p in model.parameters():
            p.normal_(0.0, 0.5)
    return model


def binary(shape: tuple[int, ...], seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(shape, generator=g) > 0.5).double()


def seen_by(model: GatedPixelCNN, i: int, j: int) -> torch.Tensor:
    """Which pixels the logit of (i, j) depends on: ``(H, W)`` booleans, from the gradient."""
    size = model.config.image_size
    x = binary((1, 1, size, size)).requires_grad_(True)
    (grad,) = torch.autograd.grad(model(x)[0, 0, i, j], x)
    return grad[0, 0] != 0


# -- the paper's layer ---------------------------------------------------------------------------------
def test_layers_are_the_papers() -> None:
    """1 + n_gated layers: vertical (k//2+1) x k and horizontal 1 x (k//2+1) convs to 2p, the 2p -> 2p link, 1x1s."""
    model = GatedPixelCNN.from_config({})
    assert len(model.layers) == 11 and model.config.gated_channels == 128
    first, later = model.layers[0], model.layers[1]
    assert first.v_conv.kernel_size == (4, 7) and first.h_conv.kernel_size == (1, 3)  # mask A: left of the pixel
    assert later.v_conv.kernel_size == (2, 3) and later.h_conv.kernel_size == (1, 2)  # mask B: up to the pixel
    assert (later.v_to_h.in_channels, later.v_to_h.out_channels) == (256, 256)
    assert (later.h_out.in_channels, later.h_out.out_channels, later.skip.out_channels) == (128, 128, 128)
    assert set(model.state_dict()) >= {"layers.0.v_conv.weight", "layers.1.v_to_h.bias", "head_out.weight"}
    assert model.layers[-1].h_out is None and "layers.10.h_out.weight" not in model.state_dict()  # it feeds nothing


def test_a_layer_gates_links_and_adds_its_residual() -> None:
    """Figure 2 written out: v' = gate(V(v)), h' = h + W(gate(H(h) + L(shift_down(V(v))))), skip = S(gate(...))."""
    layer = tiny().layers[1]
    v, h = torch.randn(2, 4, 5, 6, dtype=torch.float64), torch.randn(2, 4, 5, 6, dtype=torch.float64)
    v_pre = F.conv2d(F.pad(v, (1, 1, 1, 0)), layer.v_conv.weight, layer.v_conv.bias)
    shifted = torch.cat([torch.zeros_like(v_pre[:, :, :1]), v_pre[:, :, :-1]], dim=2)
    h_pre = F.conv2d(F.pad(h, (1, 0, 0, 0)), layer.h_conv.weight, layer.h_conv.bias) + layer.v_to_h(shifted)
    a, b = h_pre.chunk(2, dim=1)
    gated = torch.tanh(a) * torch.sigmoid(b)
    v_new, h_new, skip = layer(v, h)
    torch.testing.assert_close(v_new, gate(v_pre), rtol=0, atol=1e-12)
    torch.testing.assert_close(h_new, h + layer.h_out(gated), rtol=0, atol=1e-12)
    torch.testing.assert_close(skip, layer.skip(gated), rtol=0, atol=1e-12)


def test_every_output_sees_only_earlier_pixels() -> None:
    model = tiny()
    size = model.config.image_size
    order = torch.arange(size * size).view(size, size)
    for i in range(size):
        for j in range(size):
            seen = seen_by(model, i, j)
            assert not seen[order >= i * size + j].any(), f"pixel ({i}, {j}) sees itself or a later pixel"


def test_there_is_no_blind_spot() -> None:
    """Pixel (i, j) sees every earlier pixel within its receptive field, the upper right included: with a 7x7
    first layer and two 3x3 layers that is rows i - 5 .. i - 1 at columns j - 5 .. j + 5, and row i up to j - 1.
    (A masked PixelCNN of the same depth misses (i - 1, j + 4): zoo-pixelcnn's test_..._blind_spot.)"""
    model = tiny(image_size=13)
    i, j = 6, 6
    seen = seen_by(model, i, j)
    assert seen[1:i, 1:12].all(), "a pixel above within the receptive field is not seen"
    assert seen[i, :j].all() and not seen[i, j:].any() and not seen[i + 1 :].any()


# -- the likelihood -----------------------------------------------------------------------------------
def test_log_prob_is_the_sum_of_the_pixels_bernoulli_log_probabilities() -> None:
    model = tiny()
    x = binary((3, 1, 8, 8))
    with torch.inference_mode():
        p = torch.sigmoid(model(x))
        expected = torch.where(x == 1, p, 1 - p).log().sum(dim=(1, 2, 3))
        torch.testing.assert_close(model.log_prob(x), expected, rtol=1e-10, atol=1e-10)
        assert torch.allclose(model.bits_per_dim(x), -expected / (64 * math.log(2)))


def test_log_prob_refuses_grey_or_misshapen_images_in_one_sentence() -> None:
    model = tiny()
    with pytest.raises(ZooError, match=r"binary pixels .* binarize=stochastic"):
        model.log_prob(torch.full((1, 1, 8, 8), 0.5))
    with pytest.raises(ZooError, match="8x8 images, got 9x9"):
        model.log_prob(torch.zeros(1, 1, 9, 9))


@pytest.mark.parametrize(
    ("config", "match"),
    [
        ({"channels": 3}, "channels"),
        ({"kernel": 4}, "must be odd"),
        ({"n_gated": 65}, "n_gated"),
        ({"pixel_levels": 16}, "pixel_levels=2"),
    ],
)
def test_bad_configs_are_one_sentence(config: dict, match: str) -> None:
    with pytest.raises(ZooError, match=match):
        GatedPixelCNN.from_config(config)


# -- sampling -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "config", [TINY, {"image_size": 9, "n_gated": 3, "gated_channels": 5, "input_kernel": 5, "kernel": 5}]
)
def test_cached_sampling_draws_the_naive_loops_images(config: dict) -> None:
    model = tiny(**config)
    with torch.inference_mode():
        naive = sample_naive(model, 3, torch.Generator().manual_seed(7))
        cached = sample_cached(model, 3, torch.Generator().manual_seed(7))
    assert torch.equal(naive, cached)
    assert 0.1 < float(naive.mean()) < 0.9  # real draws, not a constant image


def test_cached_logits_equal_the_full_forward_pass() -> None:
    """Every pixel's logit from the row and pixel caches equals that of one forward pass over the final image."""
    model = tiny(image_size=10, n_gated=3, gated_channels=4, head_channels=8)
    noise = draw_noise(model, 2, torch.Generator().manual_seed(0))
    sampler = CachedGatedPixelCNN(model, 2)
    got = torch.zeros(2, 1, 10, 10, dtype=torch.float64)
    with torch.inference_mode():
        for i in range(10):
            sampler.start_row(i)
            for j in range(10):
                got[:, :, i, j] = sampler.logits(j)
                sampler.set_pixel(i, j, (noise[:, 0, i, j] < torch.sigmoid(got[:, 0, i, j])).double())
        torch.testing.assert_close(got, model(sampler.image()), rtol=0, atol=1e-11)


def test_sample_api_and_its_errors() -> None:
    model = tiny()
    a = model.sample(3, seed=4)
    assert a.shape == (3, 1, 8, 8) and a.dtype == torch.float32 and torch.equal(a, model.sample(3, seed=4))
    assert set(a.unique().tolist()) <= {0.0, 1.0} and not torch.equal(a, model.sample(3, seed=5))
    with pytest.raises(ZooError, match="sampling method 'slow'"):
        model.sample(1, method="slow")


# -- 8-bit images: the 256-way softmax (pixel_levels=256) -------------------------------------------------
TINY_8BIT = {**TINY, "pixel_levels": 256}


def test_8_bit_log_prob_is_the_softmax_probability_of_each_grey_level() -> None:
    model = tiny(**TINY_8BIT)
    assert model.pixel_levels == 256 and model.head_out.out_channels == 256
    g = torch.Generator().manual_seed(0)
    levels = torch.randint(0, 256, (2, 1, 8, 8), generator=g)
    x = levels.double() / 255
    with torch.inference_mode():
        log_p = torch.log_softmax(model(x), dim=1)  # (N, 256, H, W)
        expected = log_p.gather(1, levels).sum(dim=(1, 2, 3))
        torch.testing.assert_close(model.log_prob(x), expected, rtol=1e-10, atol=1e-10)
        assert torch.allclose(log_p.exp().sum(1), torch.ones(2, 8, 8, dtype=torch.float64))
    with pytest.raises(ZooError, match="8-bit grey levels in"):
        model.log_prob(x * 2)


def test_8_bit_cached_sampling_draws_the_naive_loops_images() -> None:
    model = tiny(**TINY_8BIT)
    with torch.inference_mode():
        naive = sample_naive(model, 2, torch.Generator().manual_seed(3))
        cached = sample_cached(model, 2, torch.Generator().manual_seed(3))
    assert torch.equal(naive, cached)
    assert naive.unique().numel() > 20 and torch.equal((naive * 255).round() / 255, naive)  # many 8-bit levels


def test_draw_pixel_inverts_the_cumulative_distribution() -> None:
    logits = torch.full((3, 256), -30.0)
    logits[:, 10], logits[:, 200] = 0.0, 0.0  # half on level 10, half on level 200
    got = draw_pixel(logits, torch.tensor([0.25, 0.75, 0.4999]), 256)
    assert (got * 255).round().tolist() == [10.0, 200.0, 10.0]


def test_8_bit_model_passes_the_conformance_kit() -> None:
    from zoo_core.testing import check_architecture

    report = check_architecture("gated-pixelcnn", config=TINY_8BIT, only=("config", "task:density", "save-load"))
    assert report.ok, report.text()


# -- the published model ------------------------------------------------------------------------------
@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> GatedPixelCNN:
    monkeypatch.setenv("ZOO_HUB_DIR", str(REPO_ROOT / "hub"))
    return zoo.load("gated-pixelcnn.mnist")


def golden_outputs(model: GatedPixelCNN) -> dict[str, torch.Tensor]:
    digits = load_dataset("mnist5k", split="test", binarize="stochastic")
    x = torch.stack([digits[i]["image"] for i in range(8)])
    with torch.inference_mode():
        tiny_model = tiny()
        return {
            "tiny_forward": tiny_model(binary((2, 1, 8, 8), seed=1)),
            "tiny_samples": tiny_model.sample(2, seed=0),
            "mnist_log_prob": model.log_prob(x),
            "mnist_samples": model.sample(2, seed=0),
        }


def test_published_model_matches_its_golden_outputs(published: GatedPixelCNN) -> None:
    golden = load_file(GOLDEN)
    got = golden_outputs(published)
    torch.testing.assert_close(got["tiny_forward"], golden["tiny_forward"], rtol=0, atol=1e-10)
    assert torch.equal(got["tiny_samples"], golden["tiny_samples"])
    torch.testing.assert_close(got["mnist_log_prob"], golden["mnist_log_prob"], rtol=1e-5, atol=1e-3)
    assert (got["mnist_samples"] != golden["mnist_samples"]).float().mean() < 0.01  # float32 noise may flip a pixel


def test_published_model_card_and_cli(published: GatedPixelCNN, tmp_path: Path) -> None:
    entry = zoo.info("gated-pixelcnn.mnist")
    nll = next(m for m in entry.metrics if m["name"] == "nll-binarized")
    assert nll["split"] == "test" and nll["dataset_options"] == {"binarize": "stochastic"}
    assert 60 < nll["value"] < 150  # nats; the independent-pixel baseline is 213.1
    assert "zoo train gated-pixelcnn" in entry.made_by["command"] and published.pixel_levels == 2
    out = tmp_path / "g.png"
    result = CliRunner().invoke(cli, ["sample", "gated-pixelcnn.mnist", "-n", "4", "--seed", "1", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 100


@pytest.mark.slow
def test_zoo_eval_reproduces_the_card(published: GatedPixelCNN) -> None:
    """`zoo eval gated-pixelcnn.mnist --metric nll-binarized` gives the held-out NLL in nats recorded in the card."""
    result = CliRunner().invoke(cli, ["eval", "gated-pixelcnn.mnist", "--metric", "nll-binarized", "--json"])
    assert result.exit_code == 0, result.output
    (measured,) = json.loads(result.output)
    recorded = next(m for m in zoo.info("gated-pixelcnn.mnist").metrics if m["name"] == "nll-binarized")
    assert measured["value"] == pytest.approx(recorded["value"], rel=1e-4)  # recorded on another CPU: float32 noise


if __name__ == "__main__" and "--write-golden" in sys.argv:
    import os

    os.environ["ZOO_HUB_DIR"] = str(REPO_ROOT / "hub")
    GOLDEN.parent.mkdir(exist_ok=True)
    outputs = {k: v.contiguous() for k, v in golden_outputs(zoo.load("gated-pixelcnn.mnist")).items()}
    save_file(outputs, GOLDEN)
    print(f"wrote {GOLDEN}: {', '.join(outputs)}")
