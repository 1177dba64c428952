"""zoo-pixelcnnpp: the reference's layout and causality, the discretised logistic mixture with its edge cases,
naive and cached sampling drawing the same images, the pclucas14 converter, training, and the published model.

Golden outputs (``golden/pixelcnnpp.safetensors``) are written by running this module:
``python plugins/zoo-pixelcnnpp/tests/test_pixelcnnpp.py --write-golden`` (only after a deliberate change).
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
from scipy.stats import logistic
from torch import nn
from zoo_pixelcnnpp.likelihood import draw_noise, mixture_log_prob, num_outputs, quantize, sample_pixel
from zoo_pixelcnnpp.model import PixelCNNPP
from zoo_pixelcnnpp.sampling import CachedSampler, sample_cached, sample_naive

import zoo_core as zoo
from zoo_core import ZooError
from zoo_core.cli import cli
from zoo_core.data import load_dataset

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[2]
PUBLISHED = REPO_ROOT / "hub" / "zoo" / "pixelcnnpp-mnist"
GOLDEN = HERE / "golden" / "pixelcnnpp.safetensors"
TINY = {"image_size": 8, "channels": 3, "nr_resnet": 1, "nr_filters": 8, "nr_logistic_mix": 3}

pytestmark = pytest.mark.usefixtures("one_blas_thread")


def tiny(seed: int = 0, **overrides) -> PixelCNNPP:
    torch.manual_seed(seed)
    model = PixelCNNPP.from_config({**TINY, **overrides}).double().eval()
    with torch.no_grad():  # random gains and biases, so that no layer is close to the identity
        for name, p in model.named_parameters():
            if name.endswith(("weight_g", "bias")):
                p.normal_(0.0, 0.5)
    return model


def levels(shape: tuple[int, ...], seed: int = 0) -> torch.Tensor:
    """Random 8-bit images on [0, 1]."""
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, shape, generator=g).double() / 255


# -- the reference's layout, written out from pclucas14/pixel-cnn-pp model.py / layers.py ----------
def pclucas14_shapes(nr_resnet: int, nf: int, channels: int, nr_mix: int) -> dict[str, tuple[int, ...]]:
    shapes: dict[str, tuple[int, ...]] = {}

    def conv(prefix: str, cin: int, cout: int, kh: int, kw: int) -> None:  # weight_norm(nn.Conv2d)
        shapes.update({f"{prefix}.weight_g": (cout, 1, 1, 1), f"{prefix}.weight_v": (cout, cin, kh, kw)})
        shapes[f"{prefix}.bias"] = (cout,)

    def deconv(prefix: str, cin: int, cout: int, kh: int, kw: int) -> None:  # weight_norm(nn.ConvTranspose2d), dim 0
        shapes.update({f"{prefix}.weight_g": (cin, 1, 1, 1), f"{prefix}.weight_v": (cin, cout, kh, kw)})
        shapes[f"{prefix}.bias"] = (cout,)

    def nin(prefix: str, cin: int, cout: int) -> None:  # weight_norm(nn.Linear)
        shapes.update({f"{prefix}.lin_a.weight_g": (cout, 1), f"{prefix}.lin_a.weight_v": (cout, cin)})
        shapes[f"{prefix}.lin_a.bias"] = (cout,)

    def gated(prefix: str, kernel: tuple[int, int], skip: int) -> None:
        conv(f"{prefix}.conv_input.conv", 2 * nf, nf, *kernel)
        if skip:
            nin(f"{prefix}.nin_skip", 2 * skip * nf, nf)
        conv(f"{prefix}.conv_out.conv", 2 * nf, 2 * nf, *kernel)

    for i in range(3):
        for k in range(nr_resnet):
            gated(f"up_layers.{i}.u_stream.{k}", (2, 3), 0)
            gated(f"up_layers.{i}.ul_stream.{k}", (2, 2), 1)
    for i, blocks in enumerate([nr_resnet, nr_resnet + 1, nr_resnet + 1]):
        for k in range(blocks):
            gated(f"down_layers.{i}.u_stream.{k}", (2, 3), 1)
            gated(f"down_layers.{i}.ul_stream.{k}", (2, 2), 2)
    for i in range(2):
        conv(f"downsize_u_stream.{i}.conv", nf, nf, 2, 3)
        conv(f"downsize_ul_stream.{i}.conv", nf, nf, 2, 2)
        deconv(f"upsize_u_stream.{i}.deconv", nf, nf, 2, 3)
        deconv(f"upsize_ul_stream.{i}.deconv", nf, nf, 2, 2)
    conv("u_init.conv", channels + 1, nf, 2, 3)
    conv("ul_init.0.conv", channels + 1, nf, 1, 3)
    conv("ul_init.1.conv", channels + 1, nf, 2, 1)
    nin("nin_out", nf, (3 if channels == 1 else 10) * nr_mix)
    return shapes


@pytest.mark.parametrize("config", [{}, {"channels": 1, "nr_resnet": 2, "nr_filters": 32, "nr_logistic_mix": 5}])
def test_state_dict_is_the_pclucas14_layout(config: dict) -> None:
    with torch.device("meta"):
        model = PixelCNNPP.from_config(config)
    c = model.config
    ours = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert ours == pclucas14_shapes(c.nr_resnet, c.nr_filters, c.channels, c.nr_logistic_mix)
    if not config:  # the paper's CIFAR-10 model: the figures in the references
        assert len(ours) == 567
        assert model.num_parameters() == 53_659_080


def test_weight_norm_is_torchs() -> None:
    """g * v / ||v|| over every dimension but the first, also for the transposed convolution."""
    model = tiny()
    for ours, theirs in [
        (model.u_init.conv, nn.Conv2d(4, 8, (2, 3))),
        (model.upsize_u_stream[0].deconv, nn.ConvTranspose2d(8, 8, (2, 3), 2, output_padding=1)),
        (model.nin_out.lin_a, nn.Linear(8, 30)),
    ]:
        theirs = nn.utils.weight_norm(theirs.double())
        theirs.load_state_dict({k: v for k, v in ours.state_dict().items()})
        x = torch.randn(2, 8, 3, 3, dtype=torch.float64) if not isinstance(theirs, nn.Conv2d) else None
        if isinstance(theirs, nn.Linear):
            x = torch.randn(5, 8, dtype=torch.float64)
        elif isinstance(theirs, nn.Conv2d):
            x = torch.randn(2, 4, 5, 5, dtype=torch.float64)
        torch.testing.assert_close(ours(x), theirs(x), rtol=0, atol=1e-12)


@pytest.mark.parametrize("channels", [1, 3])
def test_every_output_sees_only_earlier_pixels(channels: int) -> None:
    """The gradient of pixel (i, j)'s parameters is zero for (i, j) and every pixel after it in raster order."""
    model = tiny(channels=channels, nr_resnet=2)
    size = model.config.image_size
    x = (levels((1, channels, size, size)) * 2 - 1).requires_grad_(True)
    out = model(x)
    for i, j in [(0, 0), (0, 5), (3, 0), (3, 4), (5, 7), (7, 7)]:
        (grad,) = torch.autograd.grad(out[0, :, i, j].sum(), x, retain_graph=True)
        seen = grad.abs().sum(1)[0] > 0
        order = torch.arange(size * size).view(size, size)
        assert not seen[order >= i * size + j].any(), f"pixel ({i}, {j}) sees itself or a later pixel"
        if i * size + j >= size + 2:  # and it does see the pixels before it (the receptive field is not empty)
            assert seen[i - 1, j] and (j == 0 or seen[i, j - 1])


# -- the discretised logistic mixture ----------------------------------------------------------------
def one_logistic(channels: int, mean: float, log_scale: float, nr_mix: int = 1) -> torch.Tensor:
    """Params for one pixel where every component of every channel is logistic(mean, exp(log_scale))."""
    params = torch.zeros(1, num_outputs(channels, nr_mix), 1, 1, dtype=torch.float64)
    per = 2 if channels == 1 else 3
    for c in range(channels):
        base = nr_mix + c * per * nr_mix
        params[0, base : base + nr_mix] = mean
        params[0, base + nr_mix : base + 2 * nr_mix] = log_scale
    return params


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (-1.0, lambda m, s: logistic.logcdf(-1 + 1 / 255, m, s)),  # level 0: everything below the bin's top
        (1.0, lambda m, s: logistic.logsf(1 - 1 / 255, m, s)),  # level 255: everything above the bin's bottom
        (
            41 / 255 * 2 - 1,
            lambda m, s: math.log(
                logistic.cdf(41 / 127.5 - 1 + 1 / 255, m, s) - logistic.cdf(41 / 127.5 - 1 - 1 / 255, m, s)
            ),
        ),
    ],
)
def test_bins_edges_and_middle_match_the_logistic_distribution(value: float, expected) -> None:
    mean, log_scale = -0.3, math.log(0.2)
    got = mixture_log_prob(torch.full((1, 1, 1, 1), value, dtype=torch.float64), one_logistic(1, mean, log_scale))
    assert got.item() == pytest.approx(expected(mean, math.exp(log_scale)), rel=1e-9)


def test_tiny_bins_fall_back_to_the_density_at_the_centre() -> None:
    """cdf_delta < 1e-5: log_pdf_mid - log(127.5), the density times the bin width."""
    mean, log_scale, x = 0.0, -7.0, 0.5  # far in the tail of a very narrow logistic
    got = mixture_log_prob(torch.full((1, 1, 1, 1), x, dtype=torch.float64), one_logistic(1, mean, log_scale))
    assert got.item() == pytest.approx(logistic.logpdf(x, mean, math.exp(log_scale)) - math.log(127.5), rel=1e-9)


def test_log_scales_are_floored_at_minus_seven() -> None:
    x = torch.full((1, 1, 1, 1), 2 / 255 - 1 + 1 / 255 * 0, dtype=torch.float64)
    assert torch.equal(
        mixture_log_prob(x, one_logistic(1, -0.99, -7.0)), mixture_log_prob(x, one_logistic(1, -0.99, -30))
    )


def test_grey_pixel_probabilities_sum_to_one() -> None:
    torch.manual_seed(1)
    params = torch.randn(1, num_outputs(1, 4), 1, 1, dtype=torch.float64).expand(256, -1, -1, -1)
    x = (torch.arange(256, dtype=torch.float64) / 127.5 - 1).view(256, 1, 1, 1)
    assert mixture_log_prob(x, params).exp().sum().item() == pytest.approx(1.0, abs=1e-12)


@pytest.mark.slow
def test_rgb_pixel_probabilities_sum_to_one() -> None:
    torch.manual_seed(2)
    params = torch.randn(1, num_outputs(3, 2), 1, 1) * 0.5
    grid = torch.arange(256, dtype=torch.float32) / 127.5 - 1
    rgb = torch.cartesian_prod(grid, grid, grid)  # all 256^3 pixels, red slowest
    total = 0.0
    for chunk in rgb.split(1 << 21):
        x = chunk.view(-1, 3, 1, 1)
        total += mixture_log_prob(x, params.expand(len(x), -1, -1, -1)).exp().double().sum().item()
    assert total == pytest.approx(1.0, abs=1e-5)


def test_rgb_channels_are_coupled_through_tanh() -> None:
    """One component: green's mean is m_g + tanh(a) red, blue's m_b + tanh(b) red + tanh(c) green."""
    means, log_scales, coeffs = [0.1, -0.2, 0.3], [-2.0, -2.5, -1.5], [0.7, -1.2, 0.4]
    params = torch.zeros(1, 10, 1, 1, dtype=torch.float64)
    for c in range(3):
        params[0, 1 + 3 * c : 4 + 3 * c, 0, 0] = torch.tensor([means[c], log_scales[c], coeffs[c]])
    red, green, blue = 140 / 127.5 - 1, 110 / 127.5 - 1, 149 / 127.5 - 1  # levels near the coupled means
    t = [math.tanh(a) for a in coeffs]
    coupled = [means[0], means[1] + t[0] * red, means[2] + t[1] * red + t[2] * green]

    def bin_log_prob(x: float, mean: float, log_scale: float) -> float:
        s = math.exp(log_scale)
        return math.log(logistic.cdf(x + 1 / 255, mean, s) - logistic.cdf(x - 1 / 255, mean, s))

    expected = sum(bin_log_prob(x, m, s) for x, m, s in zip([red, green, blue], coupled, log_scales, strict=True))
    x = torch.tensor([red, green, blue], dtype=torch.float64).view(1, 3, 1, 1)
    assert mixture_log_prob(x, params).item() == pytest.approx(expected, rel=1e-9)


def test_sample_pixel_draws_from_the_mixture() -> None:
    """Many draws of one grey pixel: the frequencies of the 256 levels follow the likelihood."""
    torch.manual_seed(3)
    params = torch.randn(1, num_outputs(1, 3), dtype=torch.float64)
    params[0, 3:6] *= 0.5  # means inside [-1, 1]
    n = 200_000
    mix, noise = draw_noise(n, 1, 3, 1, 1, torch.Generator().manual_seed(0))
    draws = sample_pixel(params.expand(n, -1), mix[:, 0, 0], noise[:, 0, 0])
    counts = torch.bincount(((draws[:, 0] + 1) * 127.5).round().long(), minlength=256).double() / n
    grid = (torch.arange(256, dtype=torch.float64) / 127.5 - 1).view(256, 1, 1, 1)
    probs = mixture_log_prob(grid, params.view(1, -1, 1, 1).expand(256, -1, -1, -1)).exp().view(256)
    assert (counts - probs).abs().sum().item() < 0.02  # total variation of 200,000 draws
    assert torch.equal(draws, quantize(draws))


# -- sampling: naive and cached draw the same images ----------------------------------------------------
@pytest.mark.parametrize(
    "config",
    [
        {},
        {"channels": 1, "image_size": 12, "nr_resnet": 2, "nr_logistic_mix": 2},
        {"channels": 3, "image_size": 16, "nr_filters": 4},
    ],
)
def test_cached_sampling_draws_the_naive_loops_images(config: dict) -> None:
    model = tiny(**config)
    with torch.inference_mode():
        naive = sample_naive(model, 3, torch.Generator().manual_seed(7))
        cached = sample_cached(model, 3, torch.Generator().manual_seed(7))
    assert torch.equal(naive, cached)
    assert naive.unique().numel() > 10  # real draws, not a constant image


def test_cached_parameters_equal_the_full_forward_pass() -> None:
    """Every pixel's mixture parameters from the caches equal those of one forward pass over the final image."""
    model = tiny(channels=1, image_size=12, nr_resnet=2)
    c = model.config
    sampler = CachedSampler(model, 2)
    mix, noise = draw_noise(2, 1, c.nr_logistic_mix, 12, 12, torch.Generator().manual_seed(0))
    got = torch.zeros(2, num_outputs(1, c.nr_logistic_mix), 12, 12, dtype=torch.float64)
    with torch.inference_mode():
        for i in range(12):
            sampler.start_row(i)
            for j in range(12):
                got[:, :, i, j] = sampler.pixel_params(i, j)
                sampler.set_pixel(i, j, sample_pixel(got[:, :, i, j], mix[:, i, j], noise[:, i, j]))
        torch.testing.assert_close(got, model(sampler.image()), rtol=0, atol=1e-11)


def test_sample_api_and_its_errors() -> None:
    """Images in [0, 1], the mode restored, the same seed the same images: the kit's checks (test_*_conformance)."""
    model = tiny(channels=1)
    a = model.sample(2, seed=3)
    assert a.shape == (2, 1, 8, 8) and a.dtype == torch.float32  # float32 from this float64 model
    assert torch.equal(a, model.sample(2, seed=3, method="naive"))
    assert not torch.equal(a, model.sample(2, seed=4))
    with pytest.raises(ZooError, match="sampling method 'slow'"):
        model.sample(1, method="slow")
    with pytest.raises(ZooError, match="at least 1"):
        model.sample(0)


@pytest.mark.parametrize(
    ("config", "match"),
    [
        ({"channels": 2}, "grey .* or RGB"),
        ({"image_size": 30}, "multiple of 4"),
        ({"nr_filters": 0}, "'nr_filters' of architecture 'pixelcnnpp' must be from 1 to"),
        ({"dropout": 1.0}, r"\[0, 1\)"),
    ],
)
def test_bad_configs_are_one_sentence(config: dict, match: str) -> None:
    with pytest.raises(ZooError, match=match):
        PixelCNNPP.from_config({**TINY, **config})


def test_log_prob_checks_its_input_and_reads_8_bit_levels() -> None:
    """(Shapes, signs and bits_per_dim = -log_prob / (C H W ln 2) are the kit's task:density check.)"""
    model = tiny(channels=1)
    x = levels((2, 1, 8, 8))
    nats = model.log_prob(x)
    torch.testing.assert_close(model.log_prob(x + 0.3 / 255), nats)  # off-grid values are read as their level
    with pytest.raises(ZooError, match="channel"):
        model.log_prob(levels((2, 3, 8, 8)))
    with pytest.raises(ZooError, match="8x8"):
        model.log_prob(levels((2, 1, 12, 12)))


# -- the pclucas14 converter --------------------------------------------------------------------------
def test_a_pclucas14_checkpoint_converts_and_loads_strictly(tmp_path: Path) -> None:
    config = {"image_size": 8, "channels": 3, "nr_resnet": 1, "nr_filters": 8, "nr_logistic_mix": 3}
    torch.manual_seed(5)
    shapes = pclucas14_shapes(1, 8, 3, 3)
    state = {f"module.{k}": torch.randn(shape) * 0.3 for k, shape in shapes.items()}  # DataParallel's prefix
    path = tmp_path / "pcnn_lr.0.00040_nr-resnet1_nr-filters8_9.pth"
    torch.save(state, path)
    args = ["convert", "pixelcnnpp-pclucas14", str(path), "-o", str(tmp_path / "out")]
    result = CliRunner().invoke(cli, args + [f"--config={k}={v}" for k, v in config.items()])
    assert result.exit_code == 0, result.output
    model = PixelCNNPP.from_pretrained(tmp_path / "out").eval()
    for key, value in model.state_dict().items():
        assert torch.equal(value, state[f"module.{key}"])
    # a re-run of that code with torch's newer weight_norm parametrisation names g and v otherwise
    renamed = {
        k.replace(".weight_g", ".parametrizations.weight.original0").replace(
            ".weight_v", ".parametrizations.weight.original1"
        ): v
        for k, v in state.items()
    }
    torch.save(renamed, tmp_path / "new.pth")
    result = CliRunner().invoke(
        cli,
        ["convert", "pixelcnnpp-pclucas14", str(tmp_path / "new.pth"), "-o", str(tmp_path / "o2")]
        + [f"--config={k}={v}" for k, v in config.items()],
    )
    assert result.exit_code == 0, result.output
    x = levels((1, 3, 8, 8)).float()
    torch.testing.assert_close(PixelCNNPP.from_pretrained(tmp_path / "o2").eval().log_prob(x), model.log_prob(x))


def test_a_checkpoint_of_another_size_names_the_config_it_needs(tmp_path: Path) -> None:
    state = {f"module.{k}": torch.zeros(s) for k, s in pclucas14_shapes(2, 16, 1, 4).items()}
    torch.save(state, tmp_path / "ckpt.pth")
    result = CliRunner().invoke(
        cli, ["convert", "pixelcnnpp-pclucas14", str(tmp_path / "ckpt.pth"), "-o", str(tmp_path / "o")]
    )
    assert result.exit_code != 0
    assert "--config channels=1 --config nr_resnet=2 --config nr_filters=16 --config nr_logistic_mix=4" in result.output
    assert "Traceback" not in result.output
    torch.save({"model": 1}, tmp_path / "junk.pth")
    result = CliRunner().invoke(
        cli, ["convert", "pixelcnnpp-pclucas14", str(tmp_path / "junk.pth"), "-o", str(tmp_path / "o")]
    )
    assert result.exit_code != 0 and "state dict of tensors" in result.output


# -- training ----------------------------------------------------------------------------------------
@pytest.mark.slow
def test_training_lowers_the_held_out_bits_per_dim(tmp_path: Path) -> None:
    config = {"image_size": 28, "channels": 1, "nr_resnet": 1, "nr_filters": 8, "nr_logistic_mix": 2}
    result = zoo.train(
        "pixelcnnpp",
        "mnist5k",
        tmp_path / "run",
        steps=30,
        batch_size=16,
        seed=0,
        config=config,
        progress=False,
        verbose=False,
        eval_samples=None,
    )
    model = PixelCNNPP.from_pretrained(result.model_dir).eval()
    untrained = PixelCNNPP.from_config(config).eval()
    digits = load_dataset("mnist5k", split="test")
    x = torch.stack([digits[i]["image"] for i in range(64)])
    with torch.inference_mode():
        before, after = untrained.bits_per_dim(x).mean().item(), model.bits_per_dim(x).mean().item()
    assert after < before - 0.5, (before, after)
    card_bpd = next(m for m in result.metrics if m["name"] == "bpd")
    assert 0 < card_bpd["value"] < before


# -- the published model -----------------------------------------------------------------------------
@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> PixelCNNPP:
    monkeypatch.setenv("ZOO_HUB_DIR", str(REPO_ROOT / "hub"))
    return zoo.load("pixelcnnpp.mnist")


def golden_outputs(model: PixelCNNPP) -> dict[str, torch.Tensor]:
    digits = load_dataset("mnist5k", split="test")
    x = torch.stack([digits[i]["image"] for i in range(8)])
    with torch.inference_mode():
        tiny_model = tiny()
        out = tiny_model(levels((2, 3, 8, 8), seed=1) * 2 - 1)
        return {
            "tiny_forward": out,
            "tiny_samples": tiny_model.sample(2, seed=0),
            "mnist_log_prob": model.log_prob(x),
            "mnist_samples": model.sample(2, seed=0),
        }


def test_published_model_matches_its_golden_outputs(published: PixelCNNPP) -> None:
    golden = load_file(GOLDEN)
    got = golden_outputs(published)
    torch.testing.assert_close(got["tiny_forward"], golden["tiny_forward"], rtol=0, atol=1e-10)
    assert torch.equal(got["tiny_samples"], golden["tiny_samples"])
    torch.testing.assert_close(got["mnist_log_prob"], golden["mnist_log_prob"], rtol=1e-5, atol=1e-3)
    assert (got["mnist_samples"] - golden["mnist_samples"]).abs().max() <= 1 / 255 + 1e-6


def test_published_model_card_and_cli(published: PixelCNNPP, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    entry = zoo.info("pixelcnnpp.mnist")
    bpd = next(m for m in entry.metrics if m["name"] == "bpd")
    assert bpd["split"] == "test" and bpd["value"] < 2.0  # a uniform 8-bit model is 8.0
    assert "zoo train pixelcnnpp" in entry.made_by["command"]
    result = CliRunner().invoke(
        cli, ["sample", "pixelcnnpp.mnist", "-n", "4", "--seed", "1", "-o", str(tmp_path / "g.png")]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "g.png").stat().st_size > 100


@pytest.mark.slow
def test_zoo_eval_reproduces_the_card(published: PixelCNNPP) -> None:
    """`zoo eval pixelcnnpp.mnist --metric bpd --dataset mnist5k` gives the held-out bits per dimension in the card."""
    result = CliRunner().invoke(cli, ["eval", "pixelcnnpp.mnist", "--metric", "bpd", "--dataset", "mnist5k", "--json"])
    assert result.exit_code == 0, result.output
    (measured,) = json.loads(result.output)
    recorded = next(m for m in zoo.info("pixelcnnpp.mnist").metrics if m["name"] == "bpd")
    assert measured["value"] == pytest.approx(recorded["value"], rel=1e-4)  # recorded on another CPU: float32 noise


if __name__ == "__main__" and "--write-golden" in sys.argv:
    import os

    os.environ["ZOO_HUB_DIR"] = str(REPO_ROOT / "hub")
    GOLDEN.parent.mkdir(exist_ok=True)
    outputs = {k: v.contiguous() for k, v in golden_outputs(zoo.load("pixelcnnpp.mnist")).items()}
    save_file(outputs, GOLDEN)
    print(f"wrote {GOLDEN}: {', '.join(outputs)}")
