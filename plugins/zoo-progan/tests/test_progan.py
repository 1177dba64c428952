"""zoo-progan's networks, training step and catalog entries.

The networks against networks.py's definitions: equalized learning rate (N(0, 1) weights, He's constant per
layer at run time), pixel norm, the minibatch standard deviation layer (shape and values by hand), fade-in
(lod 1 is the 8x8 network's image upscaled, lod 0.5 the mean of both, skipped blocks are never run) and the
critic's growth likewise; the schedule and real-image processing of train.py; a few steps of `zoo train`.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from zoo_progan.model import (
    EqualizedConv2d,
    EqualizedLinear,
    ProGAN,
    ProGANConfig,
    minibatch_stddev,
    pixel_norm,
)
from zoo_progan.training import ProGANTrainingStep, lod_at, process_reals
from zoo_progan.upstream import CELEBAHQ_GENERATOR_PARAMS, upstream_entries

import zoo_core as zoo
from zoo_core.cli import cli
from zoo_core.data import load_dataset
from zoo_core.training import TrainConfig, train

QUIET = {"progress": False, "verbose": False}
SMALL = {"resolution": 16, "channels": 3, "fmap_base": 128, "fmap_max": 32}


# -- the layers ------------------------------------------------------------------------------------------


def test_every_layer_has_an_equalized_learning_rate() -> None:
    """Weights N(0, 1), biases 0; each layer's run-time scale is gain / sqrt(fan_in) with networks.py's gains."""
    torch.manual_seed(0)
    model = ProGAN(ProGANConfig(resolution=32, channels=3, fmap_base=2048, fmap_max=128))
    gains = {}
    for name, module in model.named_modules():
        if isinstance(module, (EqualizedConv2d, EqualizedLinear)):
            w = module.weight
            fan_in = w.shape[1] if w.dim() == 2 else w[0].numel()
            if name == "generator.layer0":  # 4x4/Dense: gain sqrt(2)/4 on fan-in latent (a 4x4 conv of the code)
                fan_in = w.shape[1]
            elif isinstance(module, EqualizedConv2d) and module.mode == "up":  # weight (in, out, k, k)
                fan_in = w.shape[0] * w.shape[2] * w.shape[3]
            gains[name] = module.scale * math.sqrt(fan_in)
            assert float(module.bias.detach().abs().max()) == 0.0
            if w.numel() > 1000:
                assert abs(float(w.detach().std()) - 1.0) < 0.05 and abs(float(w.detach().mean())) < 0.05
    assert gains.pop("generator.layer0") == pytest.approx(math.sqrt(2) / 4)
    last_dense = f"discriminator.layer{2 * 3 + 2}"
    for name, gain in gains.items():
        linear = ".output" in name or name == last_dense  # ToRGB and Dense1: gain 1
        assert gain == pytest.approx(1.0 if linear else math.sqrt(2)), name
    # the scale is applied in the forward pass: the layer is a convolution with weight * scale
    layer = model.generator.layer3
    x = torch.randn(2, layer.weight.shape[1], 8, 8)
    expected = torch.nn.functional.conv2d(x, layer.weight * layer.scale, layer.bias, padding=1)
    torch.testing.assert_close(layer(x), expected)


def test_without_wscale_the_weights_carry_the_he_scale() -> None:
    layer = EqualizedConv2d(64, 64, 3, use_wscale=False)
    assert layer.scale == 1.0 and float(layer.weight.detach().std()) == pytest.approx(math.sqrt(2 / (64 * 9)), rel=0.05)


def test_pixel_norm_by_hand() -> None:
    x = torch.randn(3, 5, 2, 2, dtype=torch.float64)
    expected = x.numpy() / np.sqrt(np.mean(x.numpy() ** 2, axis=1, keepdims=True) + 1e-8)
    np.testing.assert_allclose(pixel_norm(x).numpy(), expected, rtol=1e-12)
    torch.testing.assert_close(pixel_norm(7.0 * x), pixel_norm(x))  # scale invariant
    torch.testing.assert_close(pixel_norm(x).pow(2).mean(1), torch.ones(3, 2, 2, dtype=torch.float64))


def test_minibatch_stddev_by_hand() -> None:
    """Groups of 4 among 8 images are {0, 2, 4, 6} and {1, 3, 5, 7} (TF's reshape to [G, M, ...])."""
    x = torch.randn(8, 3, 2, 2, dtype=torch.float64)
    y = minibatch_stddev(x, 4)
    assert y.shape == (8, 4, 2, 2) and torch.equal(y[:, :3], x)
    a = x.numpy()
    for members in ([0, 2, 4, 6], [1, 3, 5, 7]):
        group = a[members]
        value = np.mean(np.sqrt(group.var(axis=0) + 1e-8))  # population std per feature and pixel, averaged
        for n in members:
            np.testing.assert_allclose(y[n, 3].numpy(), np.full((2, 2), value), rtol=1e-6)
    assert minibatch_stddev(x[:2], 4).shape == (2, 4, 2, 2)  # a smaller batch is one group
    with pytest.raises(zoo.ZooError, match="multiple of its group size"):
        minibatch_stddev(torch.randn(6, 3, 2, 2), 4)


# -- growing -------------------------------------------------------------------------------------------------


def _grown_pair() -> tuple[ProGAN, ProGAN]:
    """A 16x16 ProGAN and the 8x8 one made of its lower layers (genforce's indices shift for the critic)."""
    torch.manual_seed(0)
    big = ProGAN(ProGANConfig(**SMALL)).eval()
    small = ProGAN(ProGANConfig(**{**SMALL, "resolution": 8})).eval()
    state = {}
    for key in small.state_dict():
        net, name, param = _split(key)
        if net == "discriminator" and name != "lod":
            kind = name.rstrip("0123456789")
            index = int(name[len(kind) :]) + (1 if kind == "input" else 2)  # one level up in the 16x16 critic
            name = f"{kind}{index}"
        state[key] = big.state_dict()[".".join(filter(None, (net, name, param)))]
    small.load_state_dict(state)
    return big, small


def _split(key: str) -> list[str]:
    return [*key.split("."), ""][:3]


def test_fade_in_ends_are_the_lower_and_the_higher_resolution() -> None:
    big, small = _grown_pair()
    z = torch.randn(4, 32)
    with torch.no_grad():
        high, low = big.generator(z, 0.0), big.generator(z, 1.0)
        half = big.generator(z, 0.5)
        torch.testing.assert_close(low, torch.nn.functional.interpolate(small.generator(z, 0.0), scale_factor=2.0))
        torch.testing.assert_close(half, (high + low) / 2)  # alpha 0.5: the mean of both paths
        images = torch.randn(4, 3, 16, 16)
        torch.testing.assert_close(
            big.discriminator(images, 1.0), small.discriminator(torch.nn.functional.avg_pool2d(images, 2), 0.0)
        )
        critic_high, critic_low = big.discriminator(images, 0.0), big.discriminator(images, 1.0)
        assert not torch.allclose(critic_high, critic_low)


def test_blocks_beyond_the_level_of_detail_never_run() -> None:
    big, _ = _grown_pair()
    with torch.no_grad():
        for name in ("layer4", "layer5", "output2"):  # the generator's 16x16 block and its ToRGB
            getattr(big.generator, name).weight.fill_(float("nan"))
        for name in ("input0", "layer0", "layer1"):  # the critic's 16x16 FromRGB and block
            getattr(big.discriminator, name).weight.fill_(float("nan"))
        big.set_lod(1.0)
        assert torch.isfinite(big.sample(4, seed=0)).all()
        assert torch.isfinite(big.critique(torch.rand(4, 3, 16, 16))).all()
        big.set_lod(0.999)
        assert torch.isnan(big.generator(torch.randn(4, 32))).all()


def test_config_checks_and_the_reference_widths() -> None:
    with pytest.raises(zoo.ZooError, match="power of two"):
        ProGANConfig(resolution=24)
    with pytest.raises(zoo.ZooError, match="raise fmap_base"):
        ProGANConfig(resolution=1024, fmap_base=64)
    assert ProGANConfig().latent == 512 and ProGANConfig(fmap_base=1024, fmap_max=128).latent == 128
    celebahq = {"resolution": 1024, "channels": 3, "fused_scale": False, "with_discriminator": False, "with_ema": False}
    assert zoo.create("progan", **celebahq).num_parameters() == CELEBAHQ_GENERATOR_PARAMS
    model = zoo.create("progan", **SMALL)
    with pytest.raises(zoo.ZooError, match="lod runs from 0 to 2"):
        model.set_lod(2.5)
    with pytest.raises(zoo.ZooError, match=r"codes shaped \(N, 32\)"):
        model.generate(torch.randn(2, 8))


# -- training --------------------------------------------------------------------------------------------------


def test_the_schedule_is_train_pys() -> None:
    """32x32 from 4x4: 600k images at 4x4, 600k fading 8x8 in, 600k at 8x8 ... full resolution after 3,600k."""
    assert [lod_at(k, 5) for k in (0, 599.9, 600, 900, 1200, 1799, 1800, 2100, 3599, 3600, 9999)] == pytest.approx(
        [3, 3, 3, 2.5, 2, 2, 2, 1.5, 0 + 1 / 600, 0, 0]
    )
    assert lod_at(0, 5, initial_resolution=8) == 2.0 and lod_at(50, 5, 4, 0, 100) == 2.5


def test_reals_are_shown_at_the_level_of_detail() -> None:
    x = torch.rand(2, 1, 8, 8)
    two = torch.nn.functional.avg_pool2d(x * 2 - 1, 2).repeat_interleave(2, 2).repeat_interleave(2, 3)
    torch.testing.assert_close(process_reals(x, 1.0), two)
    torch.testing.assert_close(process_reals(x, 0.25), (x * 2 - 1) * 0.75 + two * 0.25)


def make_step(tmp_path: Path, **train_config: object) -> ProGANTrainingStep:
    torch.manual_seed(0)
    model = zoo.create("progan", resolution=8, fmap_base=32, fmap_max=8)
    step = ProGANTrainingStep(model, TrainConfig("progan", "mnist5k", str(tmp_path), step_config=train_config))
    step.nets, step.global_batch_size = step.networks(), 8
    step.opts = step.optimizers()
    return step


def test_one_step_is_wgan_gp_with_the_drift_term(tmp_path: Path) -> None:
    step = make_step(tmp_path, lod_training_kimg=0.008, lod_transition_kimg=0.016)
    opt = step.opts["d"]
    assert opt.defaults["lr"] == 1e-3 and opt.defaults["betas"] == (0.0, 0.99) and opt.defaults["eps"] == 1e-8
    digits = load_dataset("mnist5k", split="test", size=8)
    batch = {"image": torch.stack([digits[i]["image"] for i in range(8)])}
    logged = []
    for i in range(4):
        values = {k: float(v) for k, v in step.train_step(batch, i).items()}
        assert all(math.isfinite(v) for v in values.values())
        total = -values["wasserstein"] + values["gradient_penalty"] + values["drift"]
        assert values["loss_D"] == pytest.approx(total, rel=1e-5, abs=1e-6)
        assert values["drift"] >= 0 and values["gradient_penalty"] >= 0
        logged.append((values["lod"], values["kimg"]))
    # 8 images a step: 4x4 for 8 images, then 8x8 fades in over 16
    assert [lod for lod, _ in logged] == pytest.approx([1.0, 1.0, 0.5, 0.0])
    assert [kimg for _, kimg in logged] == pytest.approx([0.008, 0.016, 0.024, 0.032])
    assert float(step.model.generator.lod) == float(step.model.discriminator.lod) == pytest.approx(0.0)
    state = json.loads(json.dumps(step.extra_state()))
    assert state == {"images_shown": 32, "lod": pytest.approx(0.0)}


def test_adam_is_reset_when_a_level_starts_and_ends_fading_in(tmp_path: Path) -> None:
    """reset_opt_for_new_lod: lod 1, 1, then 0.5 (8x8 fades in: reset), then 0 (faded in: reset), 0."""
    step = make_step(tmp_path, lod_training_kimg=0.008, lod_transition_kimg=0.016)
    batch = {"image": torch.rand(8, 1, 8, 8)}
    final = step.model.discriminator.layer4.weight  # the critic's last dense layer, used at every level
    counts = []
    for i in range(5):
        step.train_step(batch, i)
        counts.append(int(step.opts["d"].state[final]["step"]))
    assert counts == [1, 2, 1, 1, 2]
    assert make_step(tmp_path, reset_opt_for_new_lod=False).params.reset_opt_for_new_lod is False


def test_a_short_last_batch_is_cut_to_whole_groups(tmp_path: Path) -> None:
    """The critic's minibatch stddev takes groups of 4: a last batch of 6 trains on 4 images (2 fewer than given)."""
    step = make_step(tmp_path)
    step.global_batch_size = 6
    seen = []
    handle = step.model.discriminator.register_forward_pre_hook(lambda _m, args: seen.append(args[0].shape[0]))
    values = step.train_step({"image": torch.rand(6, 1, 8, 8)}, 0)
    handle.remove()
    assert all(math.isfinite(float(v)) for v in values.values()) and set(seen) == {4}


def test_gs_is_a_moving_average_of_the_generator(tmp_path: Path) -> None:
    """G_smoothing: after each generator update Gs = lerp(G, Gs, beta); sampling uses Gs."""
    step = make_step(tmp_path, g_smoothing=0.75)
    model = step.model
    assert all(not p.requires_grad for p in model.generator_ema.parameters())
    assert all(
        torch.equal(a, b) for a, b in zip(model.generator_ema.parameters(), model.generator.parameters(), strict=True)
    )
    before = [p.detach().clone() for p in model.generator_ema.parameters()]
    step.train_step({"image": torch.rand(8, 1, 8, 8)}, 0)
    for old, ema, live in zip(before, model.generator_ema.parameters(), model.generator.parameters(), strict=True):
        torch.testing.assert_close(ema, 0.75 * old + 0.25 * live.detach())
    assert float(model.generator_ema.lod) == float(model.generator.lod)
    z = torch.randn(2, model.config.latent)
    with torch.no_grad():
        torch.testing.assert_close(model.generate(z), (model.generator_ema(z) + 1) / 2)
    without = zoo.create("progan", resolution=8, fmap_base=32, fmap_max=8, with_ema=False)
    assert without.sampler is without.generator and "generator_ema.lod" not in without.state_dict()
    with pytest.raises(zoo.ZooError, match="with_ema=false"):
        without.update_ema()


def test_training_checks_the_data_and_the_model(tmp_path: Path) -> None:
    step = make_step(tmp_path)
    with pytest.raises(zoo.ZooError, match=r"has 28x28 images but this progan takes 8x8; .*size=8"):
        step.check_dataset(load_dataset("mnist5k", split="test"))
    generator_only = zoo.create("progan", resolution=8, fmap_base=32, fmap_max=8, with_discriminator=False)
    with pytest.raises(zoo.ZooError, match="generator only"):
        ProGANTrainingStep(generator_only, TrainConfig("progan", "mnist5k", str(tmp_path)))
    with pytest.raises(zoo.ZooError, match="lod_initial_resolution"):
        make_step(tmp_path, lod_initial_resolution=16)


def test_zoo_train_progan_on_32x32_digits_and_resume(tmp_path: Path) -> None:
    """A few steps of `zoo train progan` on mnist5k at 32x32; a resumed run continues the schedule."""
    options = {
        "batch_size": 8,
        "log_every": 1,
        "checkpoint_every": 2,
        "dataset_options": {"size": 32},
        "config": {"fmap_base": 64, "fmap_max": 16},
        "step_config": {"lod_training_kimg": 0.008, "lod_transition_kimg": 0.008},
        "evaluate": False,
        **QUIET,
    }
    result = train("progan", "mnist5k", tmp_path / "run", steps=4, **options)
    assert result.step == 4 and all(math.isfinite(v) for v in result.losses.values())
    model = zoo.load(str(result.model_dir))
    assert isinstance(model, ProGAN) and float(model.generator_ema.lod) == pytest.approx(2.0)
    assert model.sample(4, seed=0).shape == (4, 1, 32, 32)
    result = train("progan", "mnist5k", tmp_path / "run", steps=6, resume=True, **options)
    lines = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    logged = {line["step"]: (line["lod"], line["kimg"]) for line in lines if "lod" in line}
    assert [logged[step][0] for step in range(1, 7)] == pytest.approx([3.0, 3.0, 2.0, 2.0, 1.0, 1.0])
    assert logged[6][1] == pytest.approx(0.048)


# -- catalog ------------------------------------------------------------------------------------------------------


def test_the_upstream_entries() -> None:
    entries = upstream_entries()
    hub = zoo.info("progan.celebahq-1024")
    assert hub.weights == entries["progan.celebahq-1024"]["weights"] and hub.weights["sha256"] is None
    assert hub.weights["converter"] == "progan-genforce" and hub.config["resolution"] == 1024
    official = zoo.info("progan.celebahq-1024-official").weights
    assert official["manual"] is True and official["converter"] == "progan-karras"
    command = "`zoo convert progan-karras karras2018iclr-celebahq-1024x1024.pkl -o progan-celebahq-1024`"
    assert command in entries["progan.celebahq-1024-official"]["description"]


def test_zoo_load_of_the_official_entry_says_where_to_save_the_file() -> None:
    result = CliRunner().invoke(cli, ["load", "progan.celebahq-1024-official"])
    assert result.exit_code == 1
    assert "cannot be downloaded automatically: get karras2018iclr-celebahq-1024x1024.pkl from " in result.output
    assert "https://drive.google.com/open?id=188K19ucknC6wg1R6jbuPEhTq9zoufOx4" in result.output
