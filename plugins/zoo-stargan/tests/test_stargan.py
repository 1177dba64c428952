"""zoo-stargan: faithful to yunjey/stargan (the networks' keys, shapes and test-time normalisation, the losses, the
schedules), its two published checkpoint layouts converted safely, translate's attributes, the digits' attributes
and their metric."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from click.testing import CliRunner
from zoo_stargan.convert import generator_config, rename_lornatang
from zoo_stargan.data import ATTRIBUTES, MEDIANS, binarise, fit_medians, load_mnist5k_attributes
from zoo_stargan.metrics import AttributeAgreement
from zoo_stargan.model import Discriminator, Generator, InstanceNorm, StarGAN, StarGANConfig, discriminator_side
from zoo_stargan.training import StarGANDecay, StarGANTrainingStep, classification_loss
from zoo_stargan.upstream import GENERATOR_PARAMS, celeba_config, entries

import zoo_core as zoo
from zoo_core import ZooError
from zoo_core.cli import cli
from zoo_core.layers.gan_losses import gradient_penalty
from zoo_core.training import TrainConfig

DIGITS = {
    "channels": 1,
    "c_dim": 3,
    "attributes": list(ATTRIBUTES),
    "exclusive": [],
    "g_conv_dim": 4,
    "d_conv_dim": 4,
    "g_repeat_num": 1,
    "image_size": 16,
    "d_repeat_num": 3,
}
SMALL_CELEBA = {**celeba_config(128), "g_conv_dim": 8, "g_repeat_num": 2}


def in_keys(prefix: str) -> list[str]:
    return [f"{prefix}.{k}" for k in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")]


def reference_generator_keys(repeat_num: int) -> list[str]:
    """The state-dict keys of yunjey/stargan model.py's Generator, written from its layer list."""
    keys = ["main.0.weight", *in_keys("main.1")]  # Conv2d(3+c_dim, conv_dim, 7), InstanceNorm2d, ReLU
    keys += ["main.3.weight", *in_keys("main.4"), "main.6.weight", *in_keys("main.7")]  # two down-sampling convs
    for k in range(9, 9 + repeat_num):  # ResidualBlock.main: conv, IN, ReLU, conv, IN
        keys += [f"main.{k}.main.0.weight", *in_keys(f"main.{k}.main.1")]
        keys += [f"main.{k}.main.3.weight", *in_keys(f"main.{k}.main.4")]
    up = 9 + repeat_num  # two ConvTranspose2d, IN, ReLU; then Conv2d(curr_dim, 3, 7), Tanh
    keys += [f"main.{up}.weight", *in_keys(f"main.{up + 1}"), f"main.{up + 3}.weight", *in_keys(f"main.{up + 4}")]
    return [*keys, f"main.{up + 6}.weight"]


# -- the networks ------------------------------------------------------------------------------------
def test_generator_keys_and_shapes_are_the_references() -> None:
    state = Generator().state_dict()  # conv_dim 64, c_dim 5, repeat_num 6
    assert list(state) == reference_generator_keys(6)
    assert len(state) == 103 and "main.21.weight" in state
    shapes = {k: tuple(v.shape) for k, v in state.items() if k.endswith("weight") and v.dim() == 4}
    assert shapes["main.0.weight"] == (64, 8, 7, 7)
    assert shapes["main.3.weight"] == (128, 64, 4, 4) and shapes["main.6.weight"] == (256, 128, 4, 4)
    assert shapes["main.9.main.0.weight"] == (256, 256, 3, 3) and shapes["main.14.main.3.weight"] == (256, 256, 3, 3)
    assert shapes["main.15.weight"] == (256, 128, 4, 4) and shapes["main.18.weight"] == (128, 64, 4, 4)  # transposed
    assert shapes["main.21.weight"] == (3, 64, 7, 7)
    assert all(k.replace("weight", "bias") not in state for k in shapes)  # every convolution: bias=False
    assert sum(v.numel() for k, v in state.items() if "running" not in k and "num_batches" not in k) == (
        GENERATOR_PARAMS
    )


def test_discriminator_keys_and_shapes_are_the_references() -> None:
    state = Discriminator().state_dict()  # image_size 128, conv_dim 64, c_dim 5, repeat_num 6
    expected = {f"main.{2 * i}.{p}" for i in range(6) for p in ("weight", "bias")} | {"conv1.weight", "conv2.weight"}
    assert set(state) == expected
    assert tuple(state["main.0.weight"].shape) == (64, 3, 4, 4) and tuple(state["main.10.weight"].shape) == (
        2048,
        1024,
        4,
        4,
    )
    assert tuple(state["conv1.weight"].shape) == (1, 2048, 3, 3)  # no bias
    assert tuple(state["conv2.weight"].shape) == (5, 2048, 2, 2)  # kernel image_size / 2**repeat_num
    assert sum(v.numel() for v in state.values()) == 44_762_048
    leaky = [m for m in Discriminator().modules() if isinstance(m, torch.nn.LeakyReLU)]
    assert len(leaky) == 6 and all(m.negative_slope == 0.01 for m in leaky)
    src, cls = Discriminator(image_size=32, conv_dim=4, c_dim=5, repeat_num=5)(torch.randn(2, 3, 32, 32))
    assert src.shape == (2, 1, 1, 1) and cls.shape == (2, 5)


def test_the_model_is_g_then_d_with_pytorch_default_init() -> None:
    torch.manual_seed(3)
    model = StarGAN(StarGANConfig(**{**DIGITS, "exclusive": []}))
    torch.manual_seed(3)
    g = Generator(4, 3, 1, channels=1)
    d = Discriminator(16, 4, 3, 3, channels=1)
    assert all(torch.equal(model.G.state_dict()[k], v) for k, v in g.state_dict().items())
    assert all(torch.equal(model.D.state_dict()[k], v) for k, v in d.state_dict().items())
    norms = [m for m in model.G.modules() if isinstance(m, InstanceNorm)]
    assert norms and all(m.affine and m.track_running_stats for m in norms)


def test_translate_normalises_as_the_reference_does_at_test_time() -> None:
    """The reference never calls G.eval(): at test time InstanceNorm uses each image's statistics. eval_norm
    "instance" reproduces that (and leaves the running statistics alone); "running" uses them instead."""
    torch.manual_seed(0)
    model = StarGAN(StarGANConfig(**DIGITS)).eval()
    with torch.no_grad():
        for m in model.G.modules():
            if isinstance(m, InstanceNorm):
                m.running_mean.normal_()
                m.running_var.uniform_(0.5, 2.0)
    x = torch.rand(2, 1, 16, 16)
    labels = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    buffers = {k: v.clone() for k, v in model.G.state_dict().items()}
    out = model.translate(x, attributes=labels)
    reference = Generator(4, 3, 1, channels=1)
    reference.load_state_dict(buffers)
    with torch.no_grad():
        expected = (reference.train()(x * 2 - 1, labels) + 1) / 2  # the reference's G, in training mode
    assert torch.allclose(out, expected, atol=1e-6)
    assert all(torch.equal(model.G.state_dict()[k], v) for k, v in buffers.items())
    running = StarGAN(StarGANConfig(**{**DIGITS, "eval_norm": "running"}))
    running.load_state_dict(model.state_dict())
    assert not torch.allclose(running.translate(x, attributes=labels), out, atol=1e-3)
    with pytest.raises(ZooError, match="eval_norm must be 'instance' or 'running'"):
        StarGAN(StarGANConfig(**{**DIGITS, "eval_norm": "batch"}))


def test_config_errors_are_one_sentence() -> None:
    with pytest.raises(ZooError, match="c_dim is 4 but 3 attribute name"):
        StarGAN(StarGANConfig(**{**DIGITS, "c_dim": 4}))
    with pytest.raises(ZooError, match=r"exclusive group .* names 'Blond_Hair'"):
        StarGAN(StarGANConfig(**{**DIGITS, "exclusive": [["thick", "Blond_Hair"]]}))
    with pytest.raises(ZooError, match="halves image_size=16 d_repeat_num=5 times"):
        StarGAN(StarGANConfig(**{**DIGITS, "d_repeat_num": 5}))
    assert discriminator_side(28, 3) == int(28 / 2**3) == 3  # the reference's kernel is the last map's side
    assert StarGAN(StarGANConfig(**{**DIGITS, "image_size": 28, "d_repeat_num": 2})).D.conv2.kernel_size == (7, 7)


# -- translate's attributes --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def digits_model() -> StarGAN:
    torch.manual_seed(0)
    return StarGAN(StarGANConfig(**DIGITS))


def test_attributes_by_name_list_and_tensor(digits_model: StarGAN) -> None:
    model = digits_model
    x = torch.rand(3, 1, 16, 16)
    own = (model.classify_attributes(x) >= 0.5).float()
    # a mapping: named attributes set, the others as D reads them off the input
    labels = model.target_labels(x, {"thick": 1, "wide": False})
    assert torch.equal(labels[:, 0], torch.ones(3)) and torch.equal(labels[:, 2], torch.zeros(3))
    assert torch.equal(labels[:, 1], own[:, 1])
    assert torch.equal(model.target_labels(x), own)  # None: the input's own attributes
    assert torch.equal(model.target_labels(x, ["right_slant"]), torch.tensor([[0.0, 1.0, 0.0]]).expand(3, -1))
    assert torch.equal(model.target_labels(x, "wide"), torch.tensor([[0.0, 0.0, 1.0]]).expand(3, -1))
    assert torch.equal(model.target_labels(x, torch.tensor([1.0, 1.0, 0.0]))[2], torch.tensor([1.0, 1.0, 0.0]))
    # the translation is G(x, labels), in [0, 1], and differs with the attributes
    a = model.translate(x, attributes={"thick": 1, "right_slant": 0, "wide": 1})
    with torch.no_grad():
        expected = (model.G.train()(x * 2 - 1, torch.tensor([[1.0, 0.0, 1.0]]).expand(3, -1)) + 1) / 2
    model.eval()
    assert torch.allclose(a, expected.clamp(0, 1), atol=1e-6) and a.shape == x.shape
    assert not torch.allclose(a, model.translate(x, attributes={"thick": 0, "right_slant": 1, "wide": 0}))


def test_bad_attributes_are_refused_naming_the_valid_ones(digits_model: StarGAN) -> None:
    x = torch.rand(2, 1, 16, 16)
    for bad in ({"Blond_Hair": 1}, ["thick", "bold"], "Male"):
        with pytest.raises(
            ZooError, match=r"Unknown attribute .*; this StarGAN's attributes are thick, right_slant, wide"
        ):
            digits_model.translate(x, attributes=bad)
    with pytest.raises(ZooError, match="'thick' takes 0 or 1"):
        digits_model.translate(x, attributes={"thick": 2})
    with pytest.raises(ZooError, match=r"shaped \(3,\) or \(2, 3\)"):
        digits_model.translate(x, attributes=torch.ones(4))
    with pytest.raises(ZooError, match="attributes takes a mapping"):
        digits_model.translate(x, attributes=3)
    with pytest.raises(ZooError, match="multiples of 4"):
        digits_model.translate(torch.rand(1, 1, 18, 18))


def test_celeba_hair_colours_are_exclusive_and_a_generator_only_model_defaults_to_zero() -> None:
    torch.manual_seed(0)
    model = StarGAN(StarGANConfig(**SMALL_CELEBA))
    assert model.D is None
    x = torch.rand(1, 3, 32, 32)
    # Blond on: the other hair colours off (create_labels); Male, Young unnamed: 0 without a discriminator
    assert model.target_labels(x, {"Blond_Hair": 1, "Young": 1}).tolist() == [[0.0, 1.0, 0.0, 0.0, 1.0]]
    assert model.target_labels(x).tolist() == [[0.0] * 5]
    with pytest.raises(ZooError, match="Black_Hair and Blond_Hair are exclusive"):
        model.target_labels(x, ["Black_Hair", "Blond_Hair"])
    with pytest.raises(ZooError, match="holds no discriminator"):
        model.classify_attributes(x)
    assert model.translate(x, attributes={"Brown_Hair": True, "Male": 1}).shape == (1, 3, 32, 32)


def test_translate_keywords_pass_the_contract_and_zoo_translate_images(digits_model: StarGAN) -> None:
    from zoo_core.tasks import check_contract
    from zoo_core.translate import translate_images

    check_contract(StarGAN, ["image-to-image"], "StarGAN")  # the extra keyword has a default: no core change
    out = translate_images(digits_model, torch.rand(1, 18, 18))  # padded to 20x20 and cropped back
    assert out.shape == (1, 18, 18)
    x = torch.rand(1, 1, 16, 16)
    thick = translate_images(digits_model, x, options={"attributes": ["thick"]})
    assert torch.equal(thick, digits_model.translate(x, attributes=["thick"]))
    assert not torch.equal(thick, translate_images(digits_model, x, options={"attributes": ["wide"]}))
    with pytest.raises(ZooError, match=r"takes only attributes, not 'colour'; drop --option colour"):
        translate_images(digits_model, x, options={"colour": 1})


def test_zoo_translate_passes_the_declared_option(digits_model: StarGAN, tmp_path: Path) -> None:
    """``zoo translate --option attributes=...`` reaches ``translate``; an undeclared option is one sentence."""
    from PIL import Image

    from zoo_core.translate import translate_images

    digits_model.save_pretrained(tmp_path / "model")
    Image.fromarray((torch.rand(16, 16) * 255).byte().numpy()).save(tmp_path / "in.png")
    run = CliRunner().invoke
    for name, attributes in (("thick", '["thick"]'), ("wide", '{"wide": 1, "thick": 0}')):
        result = run(
            cli,
            [
                "translate",
                str(tmp_path / "model"),
                str(tmp_path / "in.png"),
                "-o",
                str(tmp_path / f"{name}.png"),
                "--option",
                f"attributes={attributes}",
            ],
        )
        assert result.exit_code == 0, result.output
    with Image.open(tmp_path / "in.png") as image:
        x = torch.from_numpy(np.array(image)).float().div(255)[None, None]
    model = StarGAN.from_pretrained(tmp_path / "model")
    with Image.open(tmp_path / "thick.png") as image:
        written = torch.from_numpy(np.array(image)).float()
    expected = translate_images(model, x, options={"attributes": ["thick"]})[0, 0].mul(255)
    assert (written - expected).abs().max() <= 1.0  # 8-bit rounding
    result = run(
        cli,
        [
            "translate",
            str(tmp_path / "model"),
            str(tmp_path / "in.png"),
            "-o",
            str(tmp_path / "x.png"),
            "--option",
            "colour=1",
        ],
    )
    assert result.exit_code == 1 and "takes only attributes, not 'colour'" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "x.png").exists()
    result = run(
        cli,
        [
            "translate",
            str(tmp_path / "model"),
            str(tmp_path / "in.png"),
            "-o",
            str(tmp_path / "x.png"),
            "--option",
            "attributes",
        ],
    )
    assert result.exit_code == 2 and "--option takes NAME=VALUE" in result.output


# -- losses and the training step --------------------------------------------------------------------
def test_classification_loss_is_the_references_sum_over_attributes() -> None:
    logits, target = torch.randn(4, 5), (torch.rand(4, 5) > 0.5).float()
    manual = -(target * F.logsigmoid(logits) + (1 - target) * F.logsigmoid(-logits)).sum() / 4
    assert torch.allclose(classification_loss(logits, target), manual, atol=1e-6)


def test_gradient_penalty_on_the_critic_head() -> None:
    """zoo_core's penalty through D's first output (as the step calls it): a critic whose score has gradient norm 2
    everywhere is penalised lambda * (2 - 1)^2; the classification head does not enter."""

    class Critic(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            return 2 * x[:, :, :1, :1], 5 * x.flatten(1)

    d = Critic()
    penalty, _ = gradient_penalty(
        lambda x: d(x)[0], torch.randn(3, 1, 2, 2), torch.randn(3, 1, 2, 2), "mixed", 1.0, 10.0
    )
    assert abs(float(penalty) - 10.0) < 1e-4


def test_the_learning_rate_decays_as_the_references_loop() -> None:
    """The reference's loop, literally: after iteration i, if (i+1) % lr_update_step == 0 and (i+1) > N - N_decay,
    lr -= lr0 / N_decay."""
    for n, n_decay, every in ((200_000, 100_000, 1_000), (20, 10, 3), (12, 12, 1)):
        rule, lr = StarGANDecay(n, n_decay, every), 1.0
        for i in range(n):
            if (i + 1) % every == 0 and (i + 1) > n - n_decay:
                lr -= 1.0 / n_decay
            if i % 997 == 0 or i == n - 1 or n < 100:
                assert abs(rule(i + 1) - lr) < 1e-9, (n, n_decay, every, i)
    assert abs(StarGANDecay()(200_000) - 0.999) < 1e-12  # 100 decrements of 1e-5 of the rate: the defaults barely decay


def test_training_steps_follow_the_solver(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = StarGAN(StarGANConfig(**DIGITS)).train()
    cfg = TrainConfig("stargan", "mnist5k-attributes", str(tmp_path), config=DIGITS, dataset_options={"size": 16})
    step = StarGANTrainingStep(model, cfg)
    data = load_mnist5k_attributes("train", size=16)
    step.check_dataset(data)
    step.nets, step.opts = step.networks(), step.optimizers()
    step.scheds = step.schedulers()
    assert [g["betas"] for o in step.opts.values() for g in o.param_groups] == [(0.5, 0.999)] * 2
    batch = {
        "image": torch.stack([data[i]["image"] for i in range(4)]),
        "attributes": torch.stack([data[i]["attributes"] for i in range(4)]),
    }
    step.global_batch_size = 4
    g_before = {k: v.clone() for k, v in model.G.state_dict().items()}
    for i in range(5):
        logged = step.train_step(batch, i)
        assert ("G_loss_rec" in logged) == (i == 4)  # n_critic 5: G after the fifth D iteration
        if i < 4:
            assert all(torch.equal(model.G.state_dict()[k], v) for k, v in g_before.items() if "running" not in k)
    assert all(torch.isfinite(torch.as_tensor(v)) for v in logged.values())
    assert not torch.equal(model.G.main[0].weight, g_before["main.0.weight"])
    assert step.extra_state() == {"critic_iters": 0, "generator_iters": 1}
    with pytest.raises(ZooError, match="labels thick, right_slant, wide but this StarGAN's attributes are Black_Hair"):
        celeba = StarGAN(StarGANConfig(**{**celeba_config(16), "g_conv_dim": 4, "d_conv_dim": 4, "d_repeat_num": 2,
                                          "g_repeat_num": 1, "channels": 1, "with_discriminator": True}))  # fmt: skip
        StarGANTrainingStep(celeba, cfg).check_dataset(data)
    with pytest.raises(ZooError) as error:
        StarGANTrainingStep(celeba, cfg).check_dataset(data)
    assert """--config 'attributes=["thick", "right_slant", "wide"]' --config 'exclusive=[]'.""" in str(error.value)
    with pytest.raises(ZooError, match="holds no discriminator"):
        StarGANTrainingStep(StarGAN(StarGANConfig(**SMALL_CELEBA)), cfg)


def test_one_step_updates_the_networks_as_the_solver_does(tmp_path: Path) -> None:
    """One iteration of Solver.train, written out from solver.py's formulas on copies of the networks, against
    the step (n_critic 1): the same random draws, losses and Adam updates of D, then of G."""
    import copy

    torch.manual_seed(0)
    model = StarGAN(StarGANConfig(**DIGITS)).train()
    g, d = copy.deepcopy(model.G), copy.deepcopy(model.D)
    cfg = TrainConfig("stargan", "mnist5k-attributes", str(tmp_path), config=DIGITS, step_config={"n_critic": 1})
    step = StarGANTrainingStep(model, cfg)
    step.nets, step.opts = step.networks(), step.optimizers()
    x01 = torch.rand(4, 1, 16, 16)
    label_org = torch.tensor([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0], [1.0, 1.0, 0.0], [0.0, 1.0, 0.0]])
    step.global_batch_size = 4
    torch.manual_seed(5)
    logged = step.train_step({"image": x01, "attributes": label_org}, 0)

    torch.manual_seed(5)
    g_opt = torch.optim.Adam(g.parameters(), 1e-4, [0.5, 0.999])
    d_opt = torch.optim.Adam(d.parameters(), 1e-4, [0.5, 0.999])
    x_real = x01 * 2 - 1
    label_trg = label_org[torch.randperm(4)]
    out_src, out_cls = d(x_real)
    d_loss_real = -torch.mean(out_src)
    d_loss_cls = F.binary_cross_entropy_with_logits(out_cls, label_org, reduction="sum") / 4
    x_fake = g(x_real, label_trg)
    out_src, _ = d(x_fake.detach())
    d_loss_fake = torch.mean(out_src)
    alpha = torch.rand(4, 1, 1, 1)
    x_hat = (alpha * x_real.data + (1 - alpha) * x_fake.data).requires_grad_(True)
    out_src, _ = d(x_hat)
    dydx = torch.autograd.grad(out_src, x_hat, torch.ones_like(out_src), retain_graph=True, create_graph=True)[0]
    d_loss_gp = torch.mean((dydx.view(4, -1).pow(2).sum(1).sqrt() - 1) ** 2)
    d_loss = d_loss_real + d_loss_fake + 1 * d_loss_cls + 10 * d_loss_gp
    g_opt.zero_grad(), d_opt.zero_grad()
    d_loss.backward()
    d_opt.step()
    x_fake = g(x_real, label_trg)
    out_src, out_cls = d(x_fake)
    g_loss_fake = -torch.mean(out_src)
    g_loss_cls = F.binary_cross_entropy_with_logits(out_cls, label_trg, reduction="sum") / 4
    g_loss_rec = torch.mean(torch.abs(x_real - g(x_fake, label_org)))
    g_loss = g_loss_fake + 10 * g_loss_rec + 1 * g_loss_cls
    g_opt.zero_grad(), d_opt.zero_grad()
    g_loss.backward()
    g_opt.step()

    expected = {
        "D_loss_real": d_loss_real,
        "D_loss_fake": d_loss_fake,
        "D_loss_cls": d_loss_cls,
        "D_loss_gp": d_loss_gp,
        "G_loss_fake": g_loss_fake,
        "G_loss_rec": g_loss_rec,
        "G_loss_cls": g_loss_cls,
    }
    for key, value in expected.items():
        assert float(logged[key]) == pytest.approx(float(value.detach()), rel=1e-4, abs=1e-6), key
    for ours, theirs in ((model.D, d), (model.G, g)):
        for (name, a), b in zip(ours.state_dict().items(), theirs.state_dict().values(), strict=True):
            assert torch.allclose(a.float(), b.float(), atol=1e-6), name


def test_zoo_train_runs_the_step_and_records_metrics_zoo_eval_reproduces(tmp_path: Path) -> None:
    """A few engine steps (a smoke test, not a training): the reference's decay in the logged rates, the G losses
    only on generator steps, the card's metrics measured by the attribute-flips protocol and reproduced."""
    from zoo_core.evaluation import reproduce_metrics
    from zoo_core.training import train

    result = train(
        "stargan", "mnist5k-attributes", tmp_path / "run", steps=10, batch_size=8, config=DIGITS,
        dataset_options={"size": 16}, step_config={"num_iters": 10, "num_iters_decay": 4, "lr_update_step": 2},
        progress=False, verbose=False,
    )  # fmt: skip
    lines = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert lines[-1]["lr/G"] == pytest.approx(1e-4 * StarGANDecay(10, 4, 2)(10)) == pytest.approx(0.5e-4)
    recorded = {r["name"]: r for r in result.metrics}
    assert set(recorded) == {"attribute-agreement", "attribute-agreement-flipped", "cycle-l1"}
    assert all(r["evaluation"] == "attribute-flips" and r["samples"] == 500 for r in recorded.values())
    model = zoo.load(str(tmp_path / "run" / "model"))
    assert model.translate(torch.rand(2, 1, 16, 16), attributes={"thick": 1}).shape == (2, 1, 16, 16)
    again = reproduce_metrics(model, ["cycle-l1"], records=[recorded["cycle-l1"]], n=500)
    assert again[0]["value"] == pytest.approx(recorded["cycle-l1"]["value"], abs=1e-9)


# -- converters ----------------------------------------------------------------------------------------
def reference_state(seed: int = 7) -> dict[str, torch.Tensor]:
    """A generator state dict of the reference's layout (conv_dim 8, c_dim 5, 2 blocks), with running statistics."""
    torch.manual_seed(seed)
    g = Generator(8, 5, 2)
    with torch.no_grad():
        for m in g.modules():
            if isinstance(m, InstanceNorm):
                m.weight.normal_()
                m.running_mean.normal_()
                m.running_var.uniform_(0.5, 2.0)
                m.num_batches_tracked.fill_(200_000)
    assert list(g.state_dict()) == reference_generator_keys(2)
    return g.state_dict()


def check_converted(folder: Path, state: dict[str, torch.Tensor]) -> None:
    model = zoo.load(str(folder))
    assert model.D is None and set(model.state_dict()) == {f"G.{k}" for k in state}
    assert all(torch.equal(model.state_dict()[f"G.{k}"], v) for k, v in state.items())
    x = torch.rand(2, 3, 32, 32)
    reference = Generator(8, 5, 2)
    reference.load_state_dict(state)
    c = torch.tensor([[0.0, 1.0, 0.0, 0.0, 1.0]]).expand(2, -1)
    with torch.no_grad():
        expected = ((reference.train()(x * 2 - 1, c) + 1) / 2).clamp(0, 1)
    assert torch.allclose(model.translate(x, attributes={"Blond_Hair": 1, "Young": 1, "Male": 0}), expected, atol=1e-6)


def test_convert_the_authors_generator_file(tmp_path: Path) -> None:
    state = reference_state()
    path = tmp_path / "200000-G.ckpt"
    torch.save(state, path)  # what the reference's solver writes: torch.save(self.G.state_dict(), G_path)
    run = CliRunner().invoke
    out = tmp_path / "converted"
    result = run(cli, ["convert", "stargan-yunjey", str(path), "-o", str(out)])
    assert result.exit_code == 1
    assert "holds a generator with channels=3, c_dim=5, g_conv_dim=8, g_repeat_num=2" in result.output
    assert "pass --config g_conv_dim=8 --config g_repeat_num=2 to `zoo convert stargan-yunjey`." in result.output
    config = ["--config", "g_conv_dim=8", "--config", "g_repeat_num=2"]
    result = run(cli, ["convert", "stargan-yunjey", str(path), "-o", str(out), *config])
    assert result.exit_code == 0, result.output
    check_converted(out, state)
    # a file saved before PyTorch 0.4 (no num_batches_tracked) converts too; a discriminator file is refused
    legacy = {k: v for k, v in state.items() if not k.endswith("num_batches_tracked")}
    torch.save(legacy, tmp_path / "old-G.ckpt")
    folder = zoo.convert_checkpoint("stargan-yunjey", tmp_path / "old-G.ckpt", tmp_path / "old", SMALL_CELEBA)
    assert int(zoo.load(str(folder)).state_dict()["G.main.1.num_batches_tracked"]) == 0
    torch.save(Discriminator(128, 4, 5, 6).state_dict(), tmp_path / "200000-D.ckpt")
    with pytest.raises(ZooError, match="holds a discriminator"):
        zoo.convert_checkpoint("stargan-yunjey", tmp_path / "200000-D.ckpt", tmp_path / "d", SMALL_CELEBA)


def lornatang_layout(state: dict[str, torch.Tensor], repeat_num: int) -> dict[str, torch.Tensor]:
    """The same tensors under Lornatang/StarGAN-PyTorch's module names (first_layer, down_sampling, trunk,
    up_sampling, last_layer), written from its model file, in its key order."""
    up = 9 + repeat_num
    names = {"main.0": "first_layer.0", "main.1": "first_layer.1", "main.3": "down_sampling.0",
             "main.4": "down_sampling.1", "main.6": "down_sampling.3", "main.7": "down_sampling.4",
             f"main.{up}": "up_sampling.0", f"main.{up + 1}": "up_sampling.1", f"main.{up + 3}": "up_sampling.3",
             f"main.{up + 4}": "up_sampling.4", f"main.{up + 6}": "last_layer.0"}  # fmt: skip
    out = {}
    for key, value in state.items():
        module, _, rest = key.rpartition(".") if key.count(".") == 2 else (None, None, None)
        if module in names:
            out[f"{names[module]}.{rest}"] = value
        else:  # main.K.main.J.x -> trunk.(K-9).main.J.x
            k, tail = key.split(".", 2)[1:]
            out[f"trunk.{int(k) - 9}.{tail}"] = value
    return out


def test_convert_the_hub_copy(tmp_path: Path) -> None:
    state = reference_state(8)
    theirs = lornatang_layout(state, 2)
    assert {rename_lornatang(k, 2) for k in theirs} == set(state)
    path = tmp_path / "g_celeba-128x128.pth.tar"
    torch.save({"state_dict": {f"_orig_mod.{k}": v for k, v in theirs.items()}}, path)  # compiled, then saved
    folder = zoo.convert_checkpoint("stargan-goodfellowliu", path, tmp_path / "hub", SMALL_CELEBA)
    check_converted(folder, state)
    torch.save({"state_dict": state}, tmp_path / "main-layout.pth.tar")  # the authors' keys, repacked
    folder = zoo.convert_checkpoint(
        "stargan-goodfellowliu", tmp_path / "main-layout.pth.tar", tmp_path / "m", SMALL_CELEBA
    )
    check_converted(folder, state)
    assert generator_config(state, "x") == {"channels": 3, "c_dim": 5, "g_conv_dim": 8, "g_repeat_num": 2}


class _Payload:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("converter", ["stargan-yunjey", "stargan-goodfellowliu"])
def test_a_malicious_checkpoint_is_refused_and_never_runs(tmp_path: Path, converter: str) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "200000-G.ckpt"
    torch.save({"state_dict": {"main.0.weight": torch.zeros(1)}, "x": _Payload(marker)}, path)
    result = CliRunner().invoke(cli, ["convert", converter, str(path), "-o", str(tmp_path / "out")])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.startswith("Error: ") and len(result.output.strip().splitlines()) == 1
    with pytest.raises(ZooError):
        zoo.convert_checkpoint(converter, path, tmp_path / "out2")
    assert not marker.exists() and not (tmp_path / "out").exists()


# -- the catalog ---------------------------------------------------------------------------------------
def test_the_authors_file_is_a_manual_entry_that_converts_once_saved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = entries()["stargan.celeba"]
    assert entry["weights"]["manual"] is True and entry["weights"]["converter"] == "stargan-yunjey"
    assert "zoo convert stargan-yunjey 200000-G.ckpt -o DIR" in entry["description"]
    assert entries()["stargan.celeba-hub"]["weights"]["repo_id"] == "goodfellowliu/StarGAN-PyTorch"
    assert zoo.create("stargan", **entry["config"]).num_parameters() == entry["num_params"] == GENERATOR_PARAMS
    result = CliRunner().invoke(cli, ["load", "stargan.celeba"])
    assert result.exit_code == 1 and "cannot be downloaded automatically: get 200000-G.ckpt from " in result.output
    target = Path(result.output.split(" and save it as ")[1].split(", then run")[0])
    state = reference_state(9)
    copy = tmp_path / "registry.json"
    copy.write_text(json.dumps({"version": 1, "models": {"stargan.celeba": {**entry, "config": SMALL_CELEBA}}}))
    monkeypatch.setenv("ZOO_REGISTRY", str(copy))
    from zoo_core._catalog import reset_catalog

    reset_catalog()
    target.parent.mkdir(parents=True)
    torch.save(state, target)
    model = zoo.load("stargan.celeba")
    assert all(torch.equal(model.state_dict()[f"G.{k}"], v) for k, v in state.items())


def test_the_hooks_module_does_not_import_torch() -> None:
    code = "import sys, zoo_stargan.plugin as p; p.entries(); print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "False\n"


# -- the digits' attributes and their metric ---------------------------------------------------------
def test_the_medians_are_the_train_splits() -> None:
    from zoo_stackgan.captions import measure_attributes

    from zoo_core.datasets import mnist5k

    train = mnist5k.load("train")
    assert fit_medians(measure_attributes(train.images), train.labels) == MEDIANS
    data = load_mnist5k_attributes("train")
    assert data.kind == "attributed" and data.attributes == ("thick", "right_slant", "wide")
    assert torch.allclose(data.attribute_values.mean(0), torch.full((3,), 0.5), atol=0.01)


def test_binarised_attributes_of_drawn_bars() -> None:
    from zoo_stackgan.captions import measure_attributes

    bars = torch.zeros(3, 1, 28, 28)
    bars[0, :, 4:24, 13:14] = 1  # a thin upright one
    bars[1, :, 4:24, 11:16] = 1  # a thick upright bar, 5 wide: a wide one
    for row in range(4, 24):  # a thin stroke leaning right (top to the right): narrow once deskewed
        bars[2, :, row, 20 - (row - 4) // 2] = 1
    got = binarise(measure_attributes(bars), torch.tensor([1, 1, 1]))
    assert got.tolist() == [[0.0, 0.0, 0.0], [1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]


def test_attribute_agreement_reads_back_what_the_digits_are() -> None:
    data = load_mnist5k_attributes("test")
    x = data.images[:50].float() / 255
    labels, own = data.labels[:50], data.attribute_values[:50]
    metric = AttributeAgreement()
    metric.update(translated=x, requested=own, label=labels, flipped=torch.zeros(50, dtype=torch.long))
    assert metric.compute() == {"attribute-agreement": 1.0, "attribute-agreement-flipped": 1.0}
    metric.reset()
    flipped = own.clone()
    flipped[:, 1] = 1 - flipped[:, 1]  # the identity asked to change the slant: never agrees on it
    metric.update(translated=x, requested=flipped, label=labels, flipped=torch.ones(50, dtype=torch.long))
    assert metric.compute() == {"attribute-agreement": pytest.approx(2 / 3), "attribute-agreement-flipped": 0.0}
    with pytest.raises(ZooError, match="has seen no translations"):
        AttributeAgreement().compute()


def test_zoo_eval_feeds_attribute_flips(digits_model: StarGAN) -> None:
    records = zoo.evaluate(
        digits_model, ["attribute-agreement", "cycle-l1"], "mnist5k-attributes", n=8, dataset_options={"size": 16}
    )
    values = {r["name"]: r["value"] for r in records}
    assert set(values) >= {"attribute-agreement", "attribute-agreement-flipped", "cycle-l1"}
    assert all(0 <= v <= 1 for v in values.values())
    assert {r["evaluation"] for r in records} == {"attribute-flips"} and records[0]["samples"] == 8
