"""zoo-pixelrnn: the paper's Row LSTM and Diagonal BiLSTM (checked cell by cell against the paper's equations),
causality and receptive fields, the Bernoulli likelihood and its input checks, naive and cached sampling drawing
the same images, and the published models.

Golden outputs (``golden/pixelrnn.safetensors``) are written by running this module:
``python plugins/zoo-pixelrnn/tests/test_pixelrnn.py --write-golden`` (only after a deliberate change).
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
from zoo_pixelrnn.model import LAYERS, DiagonalBiLSTM, PixelRNN, RowLSTM, skew, unskew
from zoo_pixelrnn.sampling import CachedPixelRNN, draw_noise, sample_cached, sample_naive

import zoo_core as zoo
from zoo_core import ZooError
from zoo_core.cli import cli
from zoo_core.data import load_dataset
from zoo_core.layers import MaskedConv2d

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[2]
GOLDEN = HERE / "golden" / "pixelrnn.safetensors"
TINY = {"image_size": 8, "n_layers": 2, "hidden_channels": 4, "head_channels": 8}
PUBLISHED = ("pixelrnn.mnist", "pixelrnn.mnist-row-lstm")

pytestmark = pytest.mark.usefixtures("one_blas_thread")


def tiny(seed: int = 0, **config) -> PixelRNN:
    torch.manual_seed(seed)
    model = PixelRNN.from_config({**TINY, **config}).double().eval()
    with torch.no_grad():  # larger weights than the default init, so that no logit is near 0 or 1 everywhere
        for p in model.parameters():
            p.normal_(0.0, 0.5)
    return model


def binary(shape: tuple[int, ...], seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(shape, generator=g) > 0.5).double()


# -- the paper's network, checked against its equations cell by cell --------------------------------------
def cell(gates: torch.Tensor, c: torch.Tensor, h: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The paper's equation (3): [o, f, i, g] = [sigma, sigma, sigma, tanh](gates); c' = f c + i g; h' = o tanh(c')."""
    o, f, i = (torch.sigmoid(gates[k * h : (k + 1) * h]) for k in range(3))
    c = f * c + i * torch.tanh(gates[3 * h :])
    return o * torch.tanh(c), c


def row_lstm_by_the_equations(layer: RowLSTM, x: torch.Tensor) -> torch.Tensor:
    """Section 3.1 for one image ``(2h, H, W)``, one cell at a time: K_is over (r, c - 1), (r, c); K_ss over
    h(r - 1, c - 1 .. c + 1); c from (r - 1, c)."""
    hid, (_, height, width) = layer.hidden, x.shape
    w_is, b_is = layer.input_to_state.weight[:, :, 0], layer.input_to_state.bias  # (4h, 2h, k)
    w_ss = layer.state_to_state.weight  # (4h, h, k)
    hs = torch.zeros(height + 1, width + 2, hid, dtype=x.dtype)  # zero row above, zero columns at both ends
    cs = torch.zeros(height + 1, width, hid, dtype=x.dtype)
    padded = F.pad(x, (1, 1))
    for r in range(height):
        for c in range(width):
            gates = b_is + w_is[:, :, 0] @ padded[:, r, c] + w_is[:, :, 1] @ padded[:, r, c + 1]  # mask B: no c + 1
            gates = gates + sum(w_ss[:, :, t] @ hs[r, c + t] for t in range(3))
            hs[r + 1, c + 1], cs[r + 1, c] = cell(gates, cs[r, c], hid)
    lstm = hs[1:, 1:-1].permute(2, 0, 1)
    return x + layer.output(lstm[None])[0]


def diagonal_bilstm_by_the_equations(layer: DiagonalBiLSTM, x: torch.Tensor) -> torch.Tensor:
    """Section 3.2 for one image ``(2h, H, W)`` without any skewing: the left-to-right LSTM at (r, c) reads
    h(r - 1, c), h(r, c - 1) and c(r, c - 1); the right-to-left one h(r - 1, c), h(r, c + 1), c(r, c + 1); the
    second's output is shifted down one row and added to the first's."""
    hid, (_, height, width) = layer.hidden, x.shape
    outputs = []
    for lstm, columns, step in ((layer.forward_lstm, range(width), -1), (layer.backward_lstm, range(width)[::-1], 1)):
        w_is, b_is = lstm.input_to_state.weight[:, :, 0, 0], lstm.input_to_state.bias
        w_ss = lstm.state_to_state.weight  # (4h, h, 2): [above, before]
        hs = torch.zeros(height + 1, width + 2, hid, dtype=x.dtype)  # (r + 1, c + 1); zeros outside the image
        cs = torch.zeros(height + 1, width + 2, hid, dtype=x.dtype)
        for r in range(height):
            for c in columns:
                before = c + 1 + step  # the previous cell along this direction's sweep
                gates = b_is + w_is @ x[:, r, c] + w_ss[:, :, 0] @ hs[r, c + 1] + w_ss[:, :, 1] @ hs[r + 1, before]
                hs[r + 1, c + 1], cs[r + 1, c + 1] = cell(gates, cs[r + 1, before], hid)
        outputs.append(hs[1:, 1:-1])
    forward, backward = outputs
    backward = torch.cat([torch.zeros_like(backward[:1]), backward[:-1]])  # shifted down one row
    return x + layer.output((forward + backward).permute(2, 0, 1)[None])[0]


@pytest.mark.parametrize("layer", LAYERS)
def test_each_layer_is_the_papers_equations(layer: str) -> None:
    model = tiny(image_size=5, layer=layer, n_layers=1, hidden_channels=3)
    x = torch.randn(2, 6, 5, 5, dtype=torch.float64)
    by_the_equations = row_lstm_by_the_equations if layer == "row-lstm" else diagonal_bilstm_by_the_equations
    with torch.no_grad():
        got = model.layers[0](x)
        for b in range(2):
            torch.testing.assert_close(got[b], by_the_equations(model.layers[0], x[b]), rtol=0, atol=1e-12)


def test_the_default_is_the_papers_mnist_model() -> None:
    """Table 4's best: 7 Diagonal BiLSTM layers, h = 16 (2h = 32 in the residual stream); 7x7 mask A in; the head."""
    model = PixelRNN.from_config({})
    c = model.config
    assert (c.layer, c.n_layers, c.hidden_channels, c.head_channels, c.input_kernel) == (
        "diagonal-bilstm",
        7,
        16,
        32,
        7,
    )
    first = model.input_conv
    assert isinstance(first, MaskedConv2d) and first.mask_type == "A" and first.kernel_size == (7, 7)
    assert (first.in_channels, first.out_channels) == (1, 32)
    layer = model.layers[0]
    assert isinstance(layer, DiagonalBiLSTM)
    for lstm in (layer.forward_lstm, layer.backward_lstm):
        assert lstm.input_to_state.weight.shape == (64, 32, 1, 1) and lstm.input_to_state.mask_type == "B"
        assert lstm.state_to_state.weight.shape == (64, 16, 2) and lstm.state_to_state.bias is None
    assert layer.output.weight.shape == (32, 16, 1, 1)
    assert (model.head_in.out_channels, model.head_out.out_channels) == (32, 1)
    row = PixelRNN.from_config(layer="row-lstm").layers[0]
    assert isinstance(row, RowLSTM) and row.input_to_state.kernel_size == (1, 3) and row.input_to_state.mask_type == "B"
    assert row.state_to_state.weight.shape == (64, 16, 3)
    assert not any("mask" in key for key in model.state_dict())  # masks are rebuilt, never stored


def test_skew_and_unskew() -> None:
    x = torch.arange(24.0).view(3, 4, 2)
    s = skew(x)
    assert s.shape == (3, 6, 2) and torch.equal(unskew(s, 4), x)
    for r in range(3):
        assert torch.equal(s[r, r : r + 4], x[r]) and not s[r, :r].any() and not s[r, r + 4 :].any()


@pytest.mark.parametrize("layer", LAYERS)
def test_every_output_sees_only_earlier_pixels(layer: str) -> None:
    model = tiny(image_size=10, layer=layer)
    x = binary((1, 1, 10, 10)).requires_grad_(True)
    out = model(x)
    order = torch.arange(100).view(10, 10)
    for i, j in [(0, 0), (0, 5), (3, 0), (3, 4), (5, 9), (9, 9)]:
        (grad,) = torch.autograd.grad(out[0, 0, i, j], x, retain_graph=True)
        seen = grad[0, 0] != 0
        assert not seen[order >= i * 10 + j].any(), f"logit ({i}, {j}) sees itself or a later pixel"
        if i > 0 and j > 0:
            assert seen[i - 1, j] and seen[i, j - 1]


def test_the_diagonal_bilstm_sees_the_whole_context_and_the_row_lstm_a_triangle() -> None:
    """The paper's Figure 4: from (9, 0), the Diagonal BiLSTM sees (8, 8) far to the right of the row above; the
    Row LSTM's triangular field does not reach it. (Neither reaches (8, 9): the last pixel of a row enters the
    next row only through the 7x7 input convolution.)"""
    x = binary((1, 1, 10, 10)).requires_grad_(True)
    seen = {}
    for layer in LAYERS:
        (grad,) = torch.autograd.grad(tiny(image_size=10, layer=layer)(x)[0, 0, 9, 0], x)
        seen[layer] = grad[0, 0] != 0
    assert seen["diagonal-bilstm"][8, 8] and not seen["row-lstm"][8, 8]
    assert int(seen["diagonal-bilstm"].sum()) == 89  # all 90 earlier pixels but (8, 9)
    assert seen["row-lstm"][0, 9]  # far up, the triangle is wide


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
    with pytest.raises(ZooError, match="1 channel"):
        model.log_prob(torch.zeros(1, 3, 8, 8))


@pytest.mark.parametrize(
    ("config", "match"),
    [
        ({"layer": "grid-lstm"}, "layer"),
        ({"input_kernel": 6}, "must be odd"),
        ({"row_kernel": 4}, "must be odd"),
        ({"n_layers": 65}, "n_layers"),
    ],
)
def test_bad_configs_are_one_sentence(config: dict, match: str) -> None:
    with pytest.raises(ZooError, match=match):
        PixelRNN.from_config(config)


# -- sampling -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "config", [{"layer": "diagonal-bilstm"}, {"layer": "row-lstm"}, {"layer": "row-lstm", "row_kernel": 5}]
)
def test_cached_sampling_draws_the_naive_loops_images(config: dict) -> None:
    model = tiny(**config)
    with torch.inference_mode():
        naive = sample_naive(model, 3, torch.Generator().manual_seed(7))
        cached = sample_cached(model, 3, torch.Generator().manual_seed(7))
    assert torch.equal(naive, cached)
    assert 0.1 < float(naive.mean()) < 0.9  # real draws, not a constant image


@pytest.mark.parametrize("layer", LAYERS)
def test_cached_logits_equal_the_full_forward_pass(layer: str) -> None:
    """Every pixel's logit from the cached states equals that of one forward pass over the final image."""
    model = tiny(image_size=9, layer=layer, n_layers=3)
    noise = draw_noise(model, 2, torch.Generator().manual_seed(0))
    sampler = CachedPixelRNN(model, 2)
    got = torch.zeros(2, 1, 9, 9, dtype=torch.float64)
    with torch.inference_mode():
        for i in range(9):
            sampler.start_row(i)
            for j in range(9):
                got[:, 0, i, j] = sampler.logit(j)
                sampler.set_pixel(j, (noise[:, 0, i, j] < torch.sigmoid(got[:, 0, i, j])).double())
        torch.testing.assert_close(got, model(sampler.image()), rtol=0, atol=1e-11)


def test_sample_api_and_its_errors() -> None:
    model = tiny()
    a, b = model.sample(3, seed=4), model.sample(3, seed=4)
    assert a.shape == (3, 1, 8, 8) and a.dtype == torch.float32 and torch.equal(a, b)
    assert set(a.unique().tolist()) <= {0.0, 1.0}
    assert not torch.equal(a, model.sample(3, seed=5))
    with pytest.raises(ZooError, match="sampling method 'slow'"):
        model.sample(1, method="slow")
    with pytest.raises(ZooError, match="at least 1"):
        model.sample(0)


# -- the published models -----------------------------------------------------------------------------
@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZOO_HUB_DIR", str(REPO_ROOT / "hub"))


def golden_outputs() -> dict[str, torch.Tensor]:
    digits = load_dataset("mnist5k", split="test", binarize="stochastic")
    x = torch.stack([digits[i]["image"] for i in range(8)])
    outputs = {}
    with torch.inference_mode():
        for layer in LAYERS:
            tiny_model = tiny(layer=layer)
            outputs[f"tiny_{layer}_forward"] = tiny_model(binary((2, 1, 8, 8), seed=1))
            outputs[f"tiny_{layer}_samples"] = tiny_model.sample(2, seed=0)
        for name in PUBLISHED:
            model = zoo.load(name)
            outputs[f"{name}_log_prob"] = model.log_prob(x)
            outputs[f"{name}_samples"] = model.sample(2, seed=0)
    return outputs


@pytest.mark.usefixtures("hub")
def test_published_models_match_their_golden_outputs() -> None:
    golden = load_file(GOLDEN)
    got = golden_outputs()
    for layer in LAYERS:
        torch.testing.assert_close(got[f"tiny_{layer}_forward"], golden[f"tiny_{layer}_forward"], rtol=0, atol=1e-10)
        assert torch.equal(got[f"tiny_{layer}_samples"], golden[f"tiny_{layer}_samples"])
    for name in PUBLISHED:
        torch.testing.assert_close(got[f"{name}_log_prob"], golden[f"{name}_log_prob"], rtol=1e-5, atol=1e-3)
        # float32 noise may flip a pixel
        assert (got[f"{name}_samples"] != golden[f"{name}_samples"]).float().mean() < 0.01


@pytest.mark.usefixtures("hub")
@pytest.mark.parametrize("name", PUBLISHED)
def test_published_model_card_and_cli(name: str, tmp_path: Path) -> None:
    entry = zoo.info(name)
    nll = next(m for m in entry.metrics if m["name"] == "nll-binarized")
    assert nll["split"] == "test" and nll["dataset_options"] == {"binarize": "stochastic"}
    assert 60 < nll["value"] < 150  # nats; the independent-pixel baseline is about 213
    assert "zoo train pixelrnn" in entry.made_by["command"]
    assert zoo.load(name).config.layer == ("row-lstm" if "row-lstm" in name else "diagonal-bilstm")
    result = CliRunner().invoke(cli, ["sample", name, "-n", "4", "--seed", "1", "-o", str(tmp_path / "g.png")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "g.png").stat().st_size > 100


@pytest.mark.slow
@pytest.mark.usefixtures("hub")
@pytest.mark.parametrize("name", PUBLISHED)
def test_zoo_eval_reproduces_the_card(name: str) -> None:
    """`zoo eval NAME --metric nll-binarized` gives the held-out NLL in nats recorded in the card."""
    result = CliRunner().invoke(cli, ["eval", name, "--metric", "nll-binarized", "--json"])
    assert result.exit_code == 0, result.output
    (measured,) = json.loads(result.output)
    recorded = next(m for m in zoo.info(name).metrics if m["name"] == "nll-binarized")
    assert measured["value"] == pytest.approx(recorded["value"], rel=1e-4)  # recorded on another CPU: float32 noise


if __name__ == "__main__" and "--write-golden" in sys.argv:
    import os

    os.environ["ZOO_HUB_DIR"] = str(REPO_ROOT / "hub")
    GOLDEN.parent.mkdir(exist_ok=True)
    outputs = {k: v.contiguous() for k, v in golden_outputs().items()}
    save_file(outputs, GOLDEN)
    print(f"wrote {GOLDEN}: {', '.join(outputs)}")
