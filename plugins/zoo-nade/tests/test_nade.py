"""zoo-nade: the paper's conditionals, the O(HD) sampler drawing the naive loops' images, the training step's
validation split and early stopping, and the published nade.mnist as recorded.

Golden outputs (``golden/nade_mnist.safetensors``) are written by running this module:
``python plugins/zoo-nade/tests/test_nade.py --write-golden`` (only after a deliberate change).
"""

from __future__ import annotations

import itertools
import json
import math
import sys
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from safetensors.torch import load_file, save_file
from zoo_nade.model import NADE
from zoo_nade.training import NADETrainingStep

import zoo_core as zoo
from zoo_core import ZooError
from zoo_core.cli import cli
from zoo_core.data import load_dataset

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[2]
PUBLISHED = REPO_ROOT / "hub" / "zoo" / "nade-mnist"
GOLDEN = HERE / "golden" / "nade_mnist.safetensors"

pytestmark = pytest.mark.usefixtures("one_blas_thread")


def tiny(image_size: int = 4, hidden_dim: int = 6, seed: int = 0) -> NADE:
    """A small NADE in float64 with weights large enough that every conditional differs."""
    torch.manual_seed(seed)
    model = NADE.from_config(image_size=image_size, hidden_dim=hidden_dim, init_std=1.0).double().eval()
    with torch.no_grad():
        model.b.normal_(0.0, 1.0)
        model.c.normal_(0.0, 1.0)
    return model


def binary(n: int, size: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(n, 1, size, size, generator=g) < 0.4).double()


def conditionals_one_by_one(model: NADE, x: torch.Tensor) -> torch.Tensor:
    """p(x_d = 1 | x_<d) for every pixel, straight from the paper's equations, one pixel at a time: (N, D)."""
    flat = x.reshape(len(x), -1).double()
    W, c, V, b = (p.detach().double() for p in (model.W, model.c, model.V, model.b))
    out = torch.empty_like(flat)
    for d in range(flat.shape[1]):
        h = torch.sigmoid(c + flat[:, :d] @ W[:, :d].t())  # h_d = sigm(c + W_{:,<d} x_{<d})
        out[:, d] = torch.sigmoid(b[d] + h @ V[d])  # p(x_d = 1 | x_<d) = sigm(b_d + V_d h_d)
    return out


# -- the model ---------------------------------------------------------------------------------------
def test_state_dict_is_the_papers_parameters() -> None:
    with torch.device("meta"):
        model = NADE.from_config()
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert shapes == {"W": (500, 784), "c": (500,), "V": (784, 500), "b": (784,)}  # pytorch-generative's too
    assert model.num_parameters() == 2 * 500 * 784 + 500 + 784
    assert model.pixel_levels == 2


def test_log_prob_is_the_product_of_the_papers_conditionals() -> None:
    model = tiny(image_size=5, hidden_dim=7)
    x = binary(6, 5)
    p = conditionals_one_by_one(model, x)
    flat = x.reshape(6, -1)
    expected = (flat * p.log() + (1 - flat) * (1 - p).log()).sum(1)
    torch.testing.assert_close(model.log_prob(x), expected, rtol=0, atol=1e-10)
    torch.testing.assert_close(torch.sigmoid(model(x)), p, rtol=0, atol=1e-12)


def test_probabilities_of_every_image_sum_to_one() -> None:
    model = tiny(image_size=3, hidden_dim=5)  # 9 pixels: all 512 binary images
    images = torch.tensor(list(itertools.product([0.0, 1.0], repeat=9)), dtype=torch.float64).view(-1, 1, 3, 3)
    assert model.log_prob(images).exp().sum().item() == pytest.approx(1.0, abs=1e-12)


def test_bits_per_dim_is_nats_over_d_ln2() -> None:
    model = tiny()
    x = binary(3, 4)
    torch.testing.assert_close(model.bits_per_dim(x), -model.log_prob(x) / (16 * math.log(2)))


# -- sampling ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("size", "n"), [(4, 5), (8, 3)])
def test_fast_naive_and_forward_samplers_draw_the_same_images(size: int, n: int) -> None:
    model = tiny(image_size=size, hidden_dim=10, seed=size)
    fast = model.sample(n, seed=11)
    assert torch.equal(fast, model.sample(n, seed=11, method="naive"))
    assert torch.equal(fast, model.sample(n, seed=11, method="forward"))
    assert not torch.equal(fast, model.sample(n, seed=12))
    assert 0 < fast.mean() < 1 and set(fast.unique().tolist()) <= {0.0, 1.0}


def test_fast_and_naive_samplers_agree_at_full_size() -> None:
    """The paper's 28x28 model with 500 hidden units, batch 16 (the benchmark's setting)."""
    torch.manual_seed(3)
    model = NADE.from_config(init_std=0.1).eval()
    assert torch.equal(model.sample(16, seed=0), model.sample(16, seed=0, method="naive"))


def test_sampler_draws_from_the_models_distribution() -> None:
    """4 pixels: the frequencies of the 16 images in 40,000 draws follow exp(log_prob)."""
    model = tiny(image_size=2, hidden_dim=4, seed=1)
    draws = model.sample(40_000, seed=0).view(-1, 4)
    codes = (draws * torch.tensor([8.0, 4.0, 2.0, 1.0])).sum(1).long()
    freq = torch.bincount(codes, minlength=16).double() / len(codes)
    images = torch.tensor(list(itertools.product([0.0, 1.0], repeat=4)), dtype=torch.float64).view(16, 1, 2, 2)
    probs = model.log_prob(images).exp()
    assert (freq - probs).abs().sum().item() < 0.03  # total variation of 40,000 draws: about 0.01


def test_sample_api_and_its_errors() -> None:
    model = tiny()
    a = model.sample(2, seed=3)
    assert a.shape == (2, 1, 4, 4) and a.dtype == torch.float32
    with pytest.raises(ZooError, match="sampling method 'slow'"):
        model.sample(1, method="slow")
    with pytest.raises(ZooError, match="at least 1"):
        model.sample(0)
    model.train()
    model.sample(1, seed=0)
    assert model.training  # sampling leaves the mode as it found it


# -- bad input ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("x", "match"),
    [
        (torch.full((2, 1, 4, 4), 0.5), "binary pixels \\(0 or 1\\), got values such as 0.5; binarize"),
        (torch.zeros(2, 3, 4, 4), "1 channel\\(s\\), got 3"),
        (torch.zeros(2, 1, 28, 28), "4x4 images, got 28x28"),
        (torch.zeros(1, 16), "shaped \\(N, C, H, W\\)"),
    ],
)
def test_log_prob_refuses_what_it_has_no_likelihood_for(x: torch.Tensor, match: str) -> None:
    with pytest.raises(ZooError, match=match):
        tiny().float().log_prob(x)


# -- training: the validation split and early stopping ------------------------------------------------
def make_step(model: NADE, **train: object) -> NADETrainingStep:
    from zoo_core.training import TrainConfig

    config = TrainConfig(
        "nade", "mnist5k", "/nonexistent-run", dataset_options={"binarize": "stochastic"}, batch_size=100, **train
    )
    step = NADETrainingStep(model, config)
    step._setup()
    return step


def test_validation_digits_are_held_out_of_training() -> None:
    step = make_step(zoo.create("nade", hidden_dim=4), epochs=3)
    assert step.per_epoch == 45 and step.total == 135
    assert step.validation is not None and len(step.validation) == 500  # the last 50 of each class
    train = load_dataset("mnist5k", split="train", binarize="stochastic")
    labels = train.labels
    last_of_each = [int(torch.nonzero(labels == k).flatten()[-1]) for k in range(10)]
    first_of_each = [int(torch.nonzero(labels == k).flatten()[0]) for k in range(10)]
    batch = train.tensors()[last_of_each + first_of_each]
    assert step._train_mask(batch).tolist() == [False] * 10 + [True] * 10


def test_masked_rows_do_not_move_the_weights() -> None:
    model = zoo.create("nade", hidden_dim=4)
    step = make_step(model, epochs=1)
    step.opts = dict(step.optimizers())
    step.nets = {"model": model}
    before = {k: v.clone() for k, v in model.state_dict().items()}
    step.train_step({"image": step.validation[:8]}, 0)  # validation digits only: nothing to learn from
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_the_last_step_restores_the_weights_of_the_best_epoch() -> None:
    model = zoo.create("nade", hidden_dim=4)
    step = make_step(model, steps=1)
    step.opts = dict(step.optimizers())
    step.nets = {"model": model}
    best = {k: torch.full_like(v, 0.25) for k, v in model.state_dict().items()}
    step.best_state, step.best = best, {"nll": 100.0, "epoch": 7}
    images = load_dataset("mnist5k", split="train", binarize="stochastic").tensors()[:4]
    step.train_step({"image": images}, 0)  # step 1 of 1: the end of the run
    assert all(torch.equal(best[k], v) for k, v in model.state_dict().items())
    state = step.extra_state()
    fresh = make_step(zoo.create("nade", hidden_dim=4), steps=1)
    fresh.load_extra_state(state)
    assert fresh.best == {"nll": 100.0, "epoch": 7} and torch.equal(fresh.best_state["W"], best["W"])


# -- the published model -----------------------------------------------------------------------------
@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> NADE:
    monkeypatch.setenv("ZOO_HUB_DIR", str(REPO_ROOT / "hub"))
    return zoo.load("nade.mnist")


def golden_outputs(model: NADE) -> dict[str, torch.Tensor]:
    x = load_dataset("mnist5k", split="test", binarize="stochastic").tensors()[:8]
    return {"log_prob": model.log_prob(x), "samples_seed0": model.sample(4, seed=0)}


def test_published_model_matches_its_golden_outputs(published: NADE) -> None:
    golden = load_file(GOLDEN)
    got = golden_outputs(published)
    torch.testing.assert_close(got["log_prob"], golden["log_prob"], rtol=1e-5, atol=1e-3)  # another CPU rounds
    assert torch.equal(got["samples_seed0"], golden["samples_seed0"])  # float64 sampling: the same pixels


def test_zoo_eval_reproduces_the_card(published: NADE) -> None:
    """`zoo eval nade.mnist` computes the card's nll-binarized again, with the recorded protocol."""
    result = CliRunner().invoke(cli, ["eval", "nade.mnist", "--metric", "nll-binarized", "--json"])
    assert result.exit_code == 0, result.output
    (measured,) = json.loads(result.output)
    recorded = next(m for m in zoo.info("nade.mnist").metrics if m["name"] == "nll-binarized")
    assert recorded["dataset_options"] == {"binarize": "stochastic"} and recorded["samples"] == 500
    assert measured["value"] == pytest.approx(recorded["value"], rel=1e-5)
    assert f"| nll-binarized | {recorded['value']:.4g} |" in (PUBLISHED / "README.md").read_text()


def test_card_reports_the_computed_baseline_and_beats_it(published: NADE) -> None:
    from zoo_nade.baselines import independent_bernoulli_nll

    baseline = independent_bernoulli_nll()
    card = (PUBLISHED / "README.md").read_text()
    assert f"{baseline:.1f}" in card
    recorded = next(m for m in zoo.info("nade.mnist").metrics if m["name"] == "nll-binarized")
    assert recorded["value"] < baseline - 50  # far better than independent pixels


def test_zoo_sample_draws_a_grid(published: NADE, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["sample", "nade.mnist", "-n", "4", "--seed", "1", "-o", str(tmp_path / "g.png")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "g.png").stat().st_size > 100


if __name__ == "__main__" and "--write-golden" in sys.argv:
    import os

    os.environ["ZOO_HUB_DIR"] = str(REPO_ROOT / "hub")
    GOLDEN.parent.mkdir(exist_ok=True)
    outputs = {k: v.contiguous() for k, v in golden_outputs(zoo.load("nade.mnist")).items()}
    save_file(outputs, GOLDEN)
    print(f"wrote {GOLDEN}: {', '.join(outputs)}")
