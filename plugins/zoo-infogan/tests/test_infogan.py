"""zoo-infogan: faithful to openai/InfoGAN (regularized_gan.py, infogan_trainer.py, run_mnist_exp.py, custom_ops.py);
the code keyword of sample, Figure 2's grid, Q as a classifier, the losses on a hand-checked case, the
code-accuracy metric against brute force, and an engine run."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from torch import nn
from zoo_infogan.metrics import CodeAccuracy, _subset_dp, best_matching, brute_force_matching
from zoo_infogan.model import InfoGAN, split_q
from zoo_infogan.training import TINY, InfoGANTrainingStep, infogan_losses

import zoo_core as zoo
from zoo_core.data import load_dataset
from zoo_core.evaluation import reproduce_metrics
from zoo_core.modeling import seeded_generator
from zoo_core.training import TrainConfig, train

QUIET = {"progress": False, "verbose": False}
#: a small config at mnist5k's 28x28
SMALL = {"g_hidden": 32, "g_channels": 8, "d_channels": 4, "d_hidden": 32, "q_hidden": 8}


@pytest.fixture(scope="module")
def small() -> InfoGAN:
    torch.manual_seed(0)
    return zoo.create("infogan", **SMALL).eval()


# -- layout and init ---------------------------------------------------------------------------------
def test_the_networks_are_the_references_mnist_templates() -> None:
    model = zoo.create("infogan")
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items() if k.endswith("weight")}
    assert shapes == {
        # g_net: FC 1024, BN, ReLU, FC 7*7*128, BN, ReLU, deconv 64, BN, ReLU, deconv 1 (74 = 62 + 10 + 2)
        "generator.fc1.weight": (1024, 74),
        "generator.bn1.weight": (1024,),
        "generator.fc2.weight": (6272, 1024),
        "generator.bn2.weight": (6272,),
        "generator.deconv3.weight": (128, 64, 4, 4),
        "generator.bn3.weight": (64,),
        "generator.deconv4.weight": (64, 1, 4, 4),
        # d_net: conv 64, lrelu, conv 128, BN, lrelu, FC 1024, BN, lrelu; D FC 1; Q FC 128, BN, lrelu, FC 14
        "discriminator.body.conv1.weight": (64, 1, 4, 4),
        "discriminator.body.conv2.weight": (128, 64, 4, 4),
        "discriminator.body.bn2.weight": (128,),
        "discriminator.body.fc3.weight": (1024, 6272),
        "discriminator.body.bn3.weight": (1024,),
        "discriminator.logit.weight": (1, 1024),
        "discriminator.q_head.fc.weight": (128, 1024),
        "discriminator.q_head.bn.weight": (128,),
        "discriminator.q_head.out.weight": (14, 128),  # dist_flat_dim: 10 + (mean, log-var) x 2
    }
    layers = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear))]
    assert all(m.bias is not None for m in layers)  # custom_ops adds a bias everywhere
    sizes = []
    body = model.discriminator.body
    handles = [
        m.register_forward_hook(lambda m, i, o: sizes.append(tuple(o.shape[-2:]))) for m in (body.conv1, body.conv2)
    ]
    with torch.no_grad():
        model.eval().discriminator(torch.rand(2, 1, 28, 28))
    for h in handles:
        h.remove()
    assert sizes == [(14, 14), (7, 7)]  # TF SAME, stride 2


@torch.no_grad()
def test_init_is_custom_ops() -> None:
    torch.manual_seed(0)
    model = zoo.create("infogan")
    convs = [model.discriminator.body.conv1, model.discriminator.body.conv2]
    for conv in convs:  # truncated_normal_initializer(stddev=0.02): within 2 std, std 0.02 * 0.88
        assert float(conv.weight.abs().max()) <= 0.04
    assert float(convs[1].weight.std()) == pytest.approx(0.02 * 0.8796, rel=0.03)
    for layer in (model.generator.fc2, model.generator.deconv3, model.discriminator.body.fc3):
        assert float(layer.weight.std()) == pytest.approx(0.02, rel=0.03)
        assert float(layer.weight.abs().max()) > 0.06  # not truncated
    assert all(float(m.bias.abs().max()) == 0 for m in model.modules() if hasattr(m, "bias") and m.bias is not None)
    gammas = torch.cat([m.weight for m in model.modules() if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d))])
    assert float(gammas.mean()) == pytest.approx(1.0, abs=2e-3) and float(gammas.std()) == pytest.approx(0.02, rel=0.05)
    assert all(m.momentum == 0.1 and m.eps == 1e-5 for m in model.modules() if isinstance(m, nn.BatchNorm1d))
    assert model.discriminator.body.leak == 0.01  # leaky_rectify(leakiness=0.01)


@pytest.mark.parametrize(
    ("config", "match"),
    [
        ({"image_size": 30}, r"^InfoGAN image_size must be a multiple of 4"),
        ({"noise": "gamma"}, r"'noise'"),
        ({"categories": 1}, r"'categories'"),
        ({"g_channels": 7}, r"^InfoGAN g_channels must be even"),
    ],
)
def test_a_wrong_config_is_one_sentence(config: dict, match: str) -> None:
    with pytest.raises(zoo.ZooError, match=match) as info:
        zoo.create("infogan", **config)
    assert "\n" not in str(info.value)


# -- sampling and codes ------------------------------------------------------------------------------
def test_the_prior_is_the_references(small: InfoGAN) -> None:
    codes = small.draw_codes(4000, seeded_generator(0))
    assert codes["noise"].shape == (4000, 62) and -1 <= float(codes["noise"].min()) < -0.99
    assert float(codes["noise"].max()) <= 1 and float(codes["noise"].mean()) == pytest.approx(0, abs=0.01)
    assert codes["continuous"].shape == (4000, 2) and float(codes["continuous"].abs().max()) <= 1
    assert torch.bincount(codes["category"], minlength=10).min() > 300
    normal = zoo.create("infogan", noise="normal", **SMALL).draw_codes(4000, seeded_generator(0))["noise"]
    assert float(normal.abs().max()) > 3 and float(normal.std()) == pytest.approx(1, abs=0.02)
    z = small.latent(codes["noise"][:2], torch.tensor([3, 0]), codes["continuous"][:2])
    assert torch.equal(z[:, 62:72], torch.eye(10)[[3, 0]]) and torch.equal(z[:, 72:], codes["continuous"][:2])


def test_sample_shapes_range_and_determinism(small: InfoGAN) -> None:
    a = small.sample(5, seed=0)
    assert a.shape == (5, 1, 28, 28) and float(a.min()) >= 0 and float(a.max()) <= 1
    assert torch.equal(a, small.sample(5, seed=0)) and not torch.equal(a, small.sample(5, seed=1))
    drawn = small.draw_codes(5, seeded_generator(0))  # sample = sigmoid(G([noise, onehot, continuous]))
    z = small.latent(drawn["noise"], drawn["category"], drawn["continuous"])
    with torch.no_grad():
        assert torch.allclose(a, torch.sigmoid(small.generator(z)), atol=1e-6)
    small.sample_batch_size = 2  # one stream cut into batches, as zoo eval's samples protocol draws them
    try:
        generator = seeded_generator(0)
        chunks = torch.cat([small.sample_batch(k, generator) for k in (2, 2, 1)])
        assert torch.allclose(small.sample(5, seed=0), chunks, atol=1e-6)
        fixed = small.sample(5, seed=0, codes={"category": 4})
        assert torch.allclose(fixed, small.sample(5, seed=0, codes={"category": 4}))
    finally:
        del small.sample_batch_size


def test_codes_fix_the_category_and_keep_the_noise(small: InfoGAN) -> None:
    drawn = small.draw_codes(12, seeded_generator(3))
    free = small.sample(12, seed=3)
    fixed = small.sample(12, seed=3, codes={"category": 4})
    z = small.latent(drawn["noise"], torch.full((12,), 4), drawn["continuous"])
    with torch.no_grad():
        assert torch.allclose(fixed, torch.sigmoid(small.generator(z)), atol=1e-6)
    same = drawn["category"] == 4  # the images whose drawn category was already 4 do not change
    assert torch.equal(fixed[same], free[same]) and not torch.equal(fixed[~same], free[~same])
    assert torch.equal(fixed, small.sample(12, seed=3, codes={"category": torch.tensor(4)}))
    per_image = small.sample(3, seed=0, codes={"category": [0, 1, 2]})
    assert torch.equal(per_image[1], small.sample(3, seed=0, codes={"category": 1})[1])


def test_codes_fix_continuous_codes_and_noise(small: InfoGAN) -> None:
    drawn = small.draw_codes(4, seeded_generator(0))
    out = small.apply_codes(drawn, {"continuous": [0.5, None]})
    assert torch.equal(out["continuous"][:, 0], torch.full((4,), 0.5))
    assert torch.equal(out["continuous"][:, 1], drawn["continuous"][:, 1])
    rows = torch.linspace(-2, 2, 8).view(4, 2)
    assert torch.equal(small.apply_codes(drawn, {"continuous": rows})["continuous"], rows)
    shared = small.sample(3, seed=0, codes={"noise": torch.zeros(62), "category": 2, "continuous": [0.0, 0.0]})
    assert torch.allclose(shared[0], shared[1]) and torch.allclose(shared[1], shared[2])


@pytest.mark.parametrize(
    ("codes", "match"),
    [
        ({"category": 10}, r"^codes\['category'\] must be one category from 0 to 9 or 2 of them"),
        ({"category": [1, 2, 3]}, r"^codes\['category'\] must be one category"),
        ({"continuous": [0.5]}, r"^codes\['continuous'\] must be a list of 2 values"),
        ({"continuous": [0.5, "a"]}, r"^codes\['continuous'\] must be a list of 2 values"),
        ({"noise": torch.zeros(3)}, r"^codes\['noise'\] must be a \(62,\) or \(2, 62\) tensor"),
        ({"colour": 1}, r"^codes has the unknown key 'colour'"),
        ([1, 2], r"^codes must be a dict"),
    ],
)
def test_bad_codes_are_one_sentence(small: InfoGAN, codes: object, match: str) -> None:
    with pytest.raises(zoo.ZooError, match=match) as info:
        small.sample(2, seed=0, codes=codes)
    assert "\n" not in str(info.value)


def test_code_grid_is_figure_2(small: InfoGAN) -> None:
    grid = small.code_grid(code=1, steps=5, seed=7)
    assert grid.shape == (50, 1, 28, 28)
    noise = small.draw_codes(1, seeded_generator(7))["noise"].expand(50, 62)
    continuous = torch.zeros(50, 2)
    continuous[:, 1] = torch.tensor([-2.0, -1.0, 0.0, 1.0, 2.0]).repeat(10)
    category = torch.arange(10).repeat_interleave(5)  # row i: category i
    with torch.no_grad():
        expected = torch.sigmoid(small.generator(small.latent(noise, category, continuous)))
    assert torch.allclose(grid, expected, atol=1e-6)
    with pytest.raises(zoo.ZooError, match=r"^code must be the index of a continuous code, from 0 to 1"):
        small.code_grid(code=2)


# -- Q as a classifier -------------------------------------------------------------------------------
def test_classify_is_qs_categorical_logits_and_features_the_shared_body(small: InfoGAN) -> None:
    x = torch.rand(4, 1, 28, 28)
    with torch.no_grad():
        h = small.discriminator.body(x)
        flat = small.discriminator.q_head(h)
    assert torch.allclose(small.classify(x), flat[:, :10]) and torch.allclose(small.features(x), h)
    post = small.posterior(x)
    assert torch.allclose(post["mean"], flat[:, [10, 12]]) and torch.equal(post["std"], torch.ones(4, 2))
    assert small.discriminate(x).shape == (4,)
    with pytest.raises(zoo.ZooError, match=r"takes 28x28 images, got 32x32"):
        small.classify(torch.rand(1, 1, 32, 32))


def test_split_q_learned_std() -> None:
    flat = torch.tensor([[1.0, 2.0, 0.5, math.log(4.0), -0.5, 0.0]])
    q = split_q(flat, 2, 2, fix_std=False)  # Gaussian.activate_dist: std = sqrt(exp(raw))
    assert torch.equal(q["logits"], flat[:, :2]) and torch.equal(q["mean"], torch.tensor([[0.5, -0.5]]))
    assert torch.allclose(q["std"], torch.tensor([[2.0, 1.0]]))


# -- the losses --------------------------------------------------------------------------------------
def test_the_losses_on_a_hand_checked_case() -> None:
    """One image, 2 categories, 1 continuous code: D(x) = 0.75, D(G(z)) = 0.5, Q = softmax(0, log 3) = (1/4, 3/4)
    with c = 1, Q's mean 0.5 for the continuous c = 1."""
    q_flat = torch.tensor([[0.0, math.log(3.0), 0.5, 7.0]])
    out = infogan_losses(
        torch.tensor([math.log(3.0)]), torch.tensor([0.0]), q_flat, torch.tensor([1]), torch.tensor([[1.0]]),
        categories=2,
    )  # fmt: skip
    mi_disc = math.log(2) + math.log(0.75)  # H(c) - CrossEnt = log 2 - (-log 3/4) = log 1.5
    mi_cont = 0.5 * 1.0**2 - 0.5 * 0.5**2  # -log N(1; 0, 1) + log N(1; 0.5, 1): the log 2 pi terms cancel
    assert float(out["MI_disc"]) == pytest.approx(math.log(1.5), abs=1e-6)
    assert float(out["CrossEnt_disc"]) == pytest.approx(-math.log(0.75), abs=1e-6)
    assert float(out["MI_cont"]) == pytest.approx(mi_cont, abs=1e-6)
    assert float(out["CrossEnt_cont"]) == pytest.approx(0.5 * math.log(2 * math.pi) + 0.125, abs=1e-6)
    assert float(out["MI"]) == pytest.approx(mi_disc + mi_cont, abs=1e-6)
    assert float(out["loss_D"]) == pytest.approx(-(math.log(0.75) + math.log(0.5)) - mi_disc - mi_cont, abs=1e-6)
    assert float(out["loss_G"]) == pytest.approx(-math.log(0.5) - mi_disc - mi_cont, abs=1e-6)
    assert float(out["D_real"]) == pytest.approx(0.75) and float(out["D_fake"]) == pytest.approx(0.5)
    # a learned std (fix_std=False): log-variance log 4, std 2; and the weights λ apart
    out = infogan_losses(
        None, torch.tensor([0.0]), torch.tensor([[0.0, 0.0, 0.5, math.log(4.0)]]), torch.tensor([0]),
        torch.tensor([[1.0]]), categories=2, fix_std=False, lambda_categorical=1.0, lambda_continuous=0.5,
    )  # fmt: skip
    mi_cont = 0.5 - (math.log(2.0) + 0.5 * 0.25**2)
    assert float(out["MI_cont"]) == pytest.approx(mi_cont, abs=1e-6) and "loss_D" not in out
    assert float(out["loss_G"]) == pytest.approx(math.log(2) - 0.0 - 0.5 * mi_cont, abs=1e-6)


def test_the_losses_keep_the_references_tiny() -> None:
    """log(p + TINY): a saturated D gives -log(TINY), not inf (tf.log(real_d + TINY))."""
    out = infogan_losses(
        torch.tensor([-200.0]), torch.tensor([200.0]), torch.zeros(1, 2), torch.tensor([0]), torch.zeros(1, 0),
        categories=2,
    )  # fmt: skip
    assert float(out["loss_D"]) == pytest.approx(-2 * math.log(TINY) - 0.0, rel=1e-5)
    assert float(out["MI_cont"]) == 0.0


def make_step(tmp_path: Path, **train_config: object) -> InfoGANTrainingStep:
    torch.manual_seed(0)
    model = zoo.create("infogan", **SMALL).train()
    step = InfoGANTrainingStep(model, TrainConfig("infogan", "mnist5k", str(tmp_path), step_config=train_config))
    step.nets, step.global_batch_size = step.networks(), 16
    step.opts = step.optimizers()
    return step


def test_optimisers_q_trains_with_d(tmp_path: Path) -> None:
    step = make_step(tmp_path)
    d, g = step.opts["d"], step.opts["g"]
    assert isinstance(d, torch.optim.Adam) and d.defaults["lr"] == 2e-4 and d.defaults["betas"] == (0.5, 0.999)
    assert isinstance(g, torch.optim.Adam) and g.defaults["lr"] == 1e-3 and g.defaults["betas"] == (0.5, 0.999)
    d_params = {id(p) for group in d.param_groups for p in group["params"]}
    assert all(id(p) in d_params for p in step.model.discriminator.q_head.parameters())  # d_vars hold Q
    g_params = {id(p) for group in g.param_groups for p in group["params"]}
    assert g_params == {id(p) for p in step.model.generator.parameters()}


def test_one_step_matches_the_reference_loop(tmp_path: Path) -> None:
    """The D update's loss is the reference's discriminator_loss on the codes the step drew; G then changes."""
    step = make_step(tmp_path)
    model = step.model
    x = load_dataset("mnist5k", split="train").tensors()[:16]
    before = {k: v.clone() for k, v in model.state_dict().items()}
    torch.manual_seed(5)
    codes = model.draw_codes(16, torch.default_generator)  # what the step will draw first
    torch.manual_seed(5)
    values = {k: float(v) for k, v in step.train_step({"image": x}, 0).items()}
    assert set(values) == {
        "loss_D", "loss_G", "MI_disc", "CrossEnt_disc", "MI_cont", "CrossEnt_cont", "MI", "CrossEnt", "D_real", "D_fake"
    }  # fmt: skip
    # recompute the D loss by hand from the weights before the step (a copy in train mode: batch statistics)
    ref = InfoGAN(model.config)
    ref.load_state_dict(before)
    ref.train()
    with torch.no_grad():
        fake = torch.sigmoid(ref.generator(ref.latent(codes["noise"], codes["category"], codes["continuous"])))
        real_d = torch.sigmoid(ref.discriminator(x)[0])
        fake_logit, flat = ref.discriminator(fake)
    fake_d = torch.sigmoid(fake_logit)
    probs = torch.softmax(flat[:, :10], 1)
    cross_disc = -torch.log(probs[torch.arange(16), codes["category"]] + TINY).mean()
    mi_disc = math.log(10) - cross_disc
    means = flat[:, [10, 12]]
    mi_cont = (0.5 * codes["continuous"] ** 2).sum(1).mean() - (0.5 * (codes["continuous"] - means) ** 2).sum(1).mean()
    loss_d = -(torch.log(real_d + TINY) + torch.log(1 - fake_d + TINY)).mean() - mi_disc - mi_cont
    assert values["loss_D"] == pytest.approx(float(loss_d), abs=1e-4)
    assert values["MI_disc"] == pytest.approx(float(mi_disc), abs=1e-4)
    assert values["MI_cont"] == pytest.approx(float(mi_cont), abs=1e-4)
    assert values["MI"] == pytest.approx(values["MI_disc"] + values["MI_cont"], abs=1e-6)
    changed = {k.split(".")[0] for k, v in model.state_dict().items() if not torch.equal(v, before[k])}
    assert changed == {"generator", "discriminator"}
    # bn_stats_from_real: D's running averages moved by the real batch only (0.9 old + 0.1 batch)
    real_only = InfoGAN(model.config)
    real_only.load_state_dict(before)
    with torch.no_grad():
        real_only.train().discriminator(x)
    for key in ("body.bn2.running_mean", "body.bn3.running_var", "q_head.bn.running_mean"):
        assert torch.allclose(model.discriminator.state_dict()[key], real_only.discriminator.state_dict()[key]), key
    assert all(m.momentum == 0.1 for m in model.discriminator.modules() if isinstance(m, nn.BatchNorm1d))
    assert all(p.requires_grad for p in model.discriminator.parameters())  # unfrozen after the G update


def test_bn_stats_from_real_changes_no_training_computation(tmp_path: Path) -> None:
    """Only the running averages differ (eval mode); every weight and logged loss is the same either way."""
    x = load_dataset("mnist5k", split="train").tensors()[:16]
    runs = []
    for flag in (True, False):
        step = make_step(tmp_path, bn_stats_from_real=flag)
        torch.manual_seed(1)
        logged = [{k: float(v) for k, v in step.train_step({"image": x}, i).items()} for i in range(2)]
        runs.append((step.model.state_dict(), logged))
    (real_only, logged_a), (every_pass, logged_b) = runs
    assert logged_a == logged_b
    for key in real_only:
        if "running" in key and key.startswith("discriminator."):
            assert not torch.equal(real_only[key], every_pass[key]), key
        elif "num_batches" not in key:
            assert torch.equal(real_only[key], every_pass[key]), key


def test_training_checks_the_data(tmp_path: Path) -> None:
    step = make_step(tmp_path)
    with pytest.raises(zoo.ZooError, match=r"has 32x32 images but this infogan takes 28x28; resize them with "):
        step.check_dataset(load_dataset("mnist5k", split="test", size=32))
    assert step.eval_metrics == ("code-accuracy", "fid-mnist")
    with pytest.raises(zoo.ZooError, match=r"^InfoGAN needs positive learning rates"):
        make_step(tmp_path, lr_d=0.0)


# -- the metric --------------------------------------------------------------------------------------
def test_code_accuracy_on_a_3_class_example_against_brute_force() -> None:
    codes = torch.tensor([2, 2, 2, 0, 0, 1, 1, 1, 0, 2])
    labels = torch.tensor([0, 0, 1, 1, 1, 2, 2, 0, 2, 0])
    metric = CodeAccuracy()
    metric.update(prediction=torch.nn.functional.one_hot(codes[:6], 3).float(), target=labels[:6])
    metric.update(prediction=codes[6:], target=labels[6:])  # scores or code indices
    table = metric.table()
    assert table.tolist() == [[0, 2, 1], [1, 0, 2], [3, 1, 0]]  # codes x labels
    assert brute_force_matching(table) == 7  # code 2 -> 0, code 0 -> 1, code 1 -> 2
    assert metric.compute() == {"code-accuracy": 0.7}
    assert best_matching(table) == (7, [(0, 1), (1, 2), (2, 0)])
    assert _subset_dp(table.tolist())[0] == 7


@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (3, 5), (6, 6)])
def test_matching_agrees_with_brute_force_on_random_tables(shape: tuple[int, int]) -> None:
    generator = torch.Generator().manual_seed(sum(shape))
    for _ in range(5):
        table = torch.randint(0, 20, shape, generator=generator)
        best = brute_force_matching(table)
        assert best_matching(table)[0] == best and _subset_dp(table.tolist())[0] == best


def test_code_accuracy_refuses_bad_input() -> None:
    metric = CodeAccuracy()
    with pytest.raises(zoo.ZooError, match=r"^code-accuracy has seen no images"):
        metric.compute()
    with pytest.raises(zoo.ZooError, match=r"^code-accuracy compares \(3, 2\) predictions with \(2,\) labels"):
        metric.update(prediction=torch.zeros(3, 2), target=torch.zeros(2))
    metric = CodeAccuracy(num_labels=2)
    metric.update(prediction=torch.tensor([0, 1]), target=torch.tensor([0, 2]))
    with pytest.raises(zoo.ZooError, match=r"got the label 2 but num_labels is 2"):
        metric.compute()


def test_zoo_evaluate_code_accuracy_through_the_classification_protocol(small: InfoGAN) -> None:
    records = zoo.evaluate(small, ["code-accuracy"], "mnist5k", n=100)
    assert [(r["name"], r["evaluation"], r["samples"], r["unit"]) for r in records] == [
        ("code-accuracy", "classification", 100, "fraction")
    ]
    data = load_dataset("mnist5k", split="test").tensors()[:100]
    labels = torch.tensor([load_dataset("mnist5k", split="test")[i]["label"] for i in range(100)])
    codes = small.classify(data).argmax(1)
    table = torch.zeros(10, 10, dtype=torch.long)
    table.index_put_((codes, labels), torch.ones(100, dtype=torch.long), accumulate=True)
    assert records[0]["value"] == pytest.approx(brute_force_or_dp(table) / 100)
    # `zoo eval NAME --metric code-accuracy` runs the recorded protocol again: the same value
    again = reproduce_metrics(small, ["code-accuracy"], records=records)
    assert again[0]["value"] == again[0]["recorded"] == records[0]["value"]


def brute_force_or_dp(table: torch.Tensor) -> int:
    return _subset_dp(table.tolist())[0]  # exact: 10! permutations would be slow


# -- an engine run -----------------------------------------------------------------------------------
def test_zoo_train_infogan_logs_the_mi_terms(tmp_path: Path) -> None:
    result = train(
        "infogan", "mnist5k", tmp_path / "run", steps=2, batch_size=16, log_every=1, config=SMALL,
        evaluate=False, **QUIET,
    )  # fmt: skip
    assert result.step == 2 and all(math.isfinite(v) for v in result.losses.values())
    lines = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    logged = [line for line in lines if "MI_disc" in line]
    assert [line["step"] for line in logged] == [1, 2] and {"MI_cont", "CrossEnt", "loss_G"} <= set(logged[-1])
    model = zoo.load(str(result.model_dir))
    assert isinstance(model, InfoGAN) and model.sample(2, seed=0, codes={"category": 1}).shape == (2, 1, 28, 28)
