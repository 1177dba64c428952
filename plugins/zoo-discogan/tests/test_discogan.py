"""zoo-discogan: faithful to SKTBrain/DiscoGAN (discogan/model.py, discogan/image_translation.py): the reference's
state-dict keys load strictly and give the same outputs, the losses are the reference's on a hand-checked case,
the training step is the reference's loop (one D or G update per iteration, the rate curriculum), and the final
metrics are cyclegan.digits2mnist's records, so the two cards compare."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from torch import nn
from zoo_discogan.model import DiscoDiscriminator, DiscoGAN, DiscoGANConfig, DiscoGenerator, pad_to
from zoo_discogan.training import (
    LOSS_NAMES,
    DiscoGANParams,
    DiscoGANTrainingStep,
    digits_mnist_evaluation,
    discogan_losses,
    feature_matching_loss,
    rate_at,
)

import zoo_core as zoo
from zoo_core.evaluation import evaluate
from zoo_core.training import TrainConfig, train

REPO_ROOT = Path(__file__).resolve().parents[3]
TINY = {"input_nc": 1, "output_nc": 1, "ngf": 4, "ndf": 4, "n_layers_G": 2, "image_size": 16}


# -- the reference's networks, written out as discogan/model.py builds them (64x64 RGB) ------------------
def reference_generator(extra_layers: bool = False) -> nn.Module:
    encoder = [
        nn.Conv2d(3, 64, 4, 2, 1, bias=False),
        nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(64, 128, 4, 2, 1, bias=False),
        nn.BatchNorm2d(128),
        nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(128, 256, 4, 2, 1, bias=False),
        nn.BatchNorm2d(256),
        nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(256, 512, 4, 2, 1, bias=False),
        nn.BatchNorm2d(512),
        nn.LeakyReLU(0.2, inplace=True),
    ]
    extra = [
        nn.Conv2d(512, 100, 4, 1, 0, bias=False),
        nn.BatchNorm2d(100),
        nn.LeakyReLU(0.2, inplace=True),
        nn.ConvTranspose2d(100, 512, 4, 1, 0, bias=False),
        nn.BatchNorm2d(512),
        nn.ReLU(True),
    ]
    decoder = [
        nn.ConvTranspose2d(512, 256, 4, 2, 1, bias=False),
        nn.BatchNorm2d(256),
        nn.ReLU(True),
        nn.ConvTranspose2d(256, 128, 4, 2, 1, bias=False),
        nn.BatchNorm2d(128),
        nn.ReLU(True),
        nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False),
        nn.BatchNorm2d(64),
        nn.ReLU(True),
        nn.ConvTranspose2d(64, 3, 4, 2, 1, bias=False),
        nn.Sigmoid(),
    ]
    module = nn.Module()
    module.main = nn.Sequential(*encoder, *(extra if extra_layers else []), *decoder)
    return module


class ReferenceDiscriminator(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 4, 2, 1, bias=False)
        self.relu1 = nn.LeakyReLU(0.2, inplace=True)
        self.conv2 = nn.Conv2d(64, 128, 4, 2, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(128)
        self.relu2 = nn.LeakyReLU(0.2, inplace=True)
        self.conv3 = nn.Conv2d(128, 256, 4, 2, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(256)
        self.relu3 = nn.LeakyReLU(0.2, inplace=True)
        self.conv4 = nn.Conv2d(256, 512, 4, 2, 1, bias=False)
        self.bn4 = nn.BatchNorm2d(512)
        self.relu4 = nn.LeakyReLU(0.2, inplace=True)
        self.conv5 = nn.Conv2d(512, 1, 4, 1, 0, bias=False)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        relu1 = self.relu1(self.conv1(x))
        relu2 = self.relu2(self.bn2(self.conv2(relu1)))
        relu3 = self.relu3(self.bn3(self.conv3(relu2)))
        relu4 = self.relu4(self.bn4(self.conv4(relu3)))
        return torch.sigmoid(self.conv5(relu4)), [relu2, relu3, relu4]


def _shapes(module: nn.Module) -> dict[str, tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}


@pytest.mark.parametrize("extra_layers", [False, True])
def test_generator_has_the_reference_keys_and_outputs(extra_layers: bool) -> None:
    torch.manual_seed(0)
    ref = reference_generator(extra_layers).train()
    ours = DiscoGenerator(3, 3, ngf=64, n_layers=4, extra_layers=extra_layers).train()
    assert _shapes(ours) == _shapes(ref)
    last = "main.26.weight" if extra_layers else "main.20.weight"  # the reference's final ConvTranspose2d
    assert list(ours.state_dict())[-1] == last and ours.state_dict()[last].shape == (64, 3, 4, 4)
    ours.load_state_dict(ref.state_dict(), strict=True)
    x = torch.rand(2, 3, 64, 64)
    torch.testing.assert_close(ours(x), ref.main(x))


def test_discriminator_has_the_reference_keys_and_outputs() -> None:
    torch.manual_seed(0)
    ref = ReferenceDiscriminator().train()
    ours = DiscoDiscriminator(3, ndf=64, image_size=64).train()
    assert _shapes(ours) == _shapes(ref)
    assert list(ours.state_dict())[:3] == ["conv1.weight", "conv2.weight", "bn2.weight"]
    ours.load_state_dict(ref.state_dict(), strict=True)
    x = torch.rand(3, 3, 64, 64)
    (p_ours, f_ours), (p_ref, f_ref) = ours(x), ref(x)
    torch.testing.assert_close(p_ours, p_ref)
    assert p_ours.shape == (3, 1, 1, 1)
    for a, b in zip(f_ours, f_ref, strict=True):
        torch.testing.assert_close(a, b)


def test_model_keys_are_the_reference_files_under_their_names() -> None:
    model = DiscoGAN(DiscoGANConfig())  # the reference's defaults: 64x64 RGB
    keys = model.state_dict()
    for prefix, ref in (("generator_A.", reference_generator()), ("discriminator_B.", ReferenceDiscriminator())):
        mine = {k[len(prefix) :]: tuple(v.shape) for k, v in keys.items() if k.startswith(prefix)}
        assert mine == _shapes(ref)


def test_shapes_for_digits_both_directions_and_padding() -> None:
    torch.manual_seed(0)
    model = zoo.create("discogan", input_nc=1, output_nc=1, ngf=8, ndf=8, image_size=32).eval()
    assert model.directions == ("AtoB", "BtoA")
    assert len(model.discriminator_A.logits_and_features(torch.rand(2, 1, 32, 32))[1]) == 2  # relu2, relu3
    x = torch.rand(3, 1, 28, 28)
    for direction, net in (("AtoB", model.generator_B), ("BtoA", model.generator_A)):
        out = model.translate(x, direction=direction)
        assert out.shape == (3, 1, 28, 28) and out.dtype == torch.float32
        assert float(out.min()) >= 0 and float(out.max()) <= 1
        with torch.no_grad():  # 2 black pixels each side, translated, cropped back
            torch.testing.assert_close(out, net(pad_to(x, 32, 32))[..., 2:30, 2:30])
    trip = model.reconstruct(x, "AtoB")
    with torch.no_grad():
        want = model.generator_A(model.generator_B(pad_to(x, 32, 32)))[..., 2:30, 2:30]
    torch.testing.assert_close(trip, want)
    assert model.translate(torch.rand(1, 1, 32, 32), direction="BtoA").shape == (1, 1, 32, 32)


def test_bad_input_fails_in_one_sentence() -> None:
    model = zoo.create("discogan", **TINY)
    with pytest.raises(zoo.ZooError, match="direction"):
        model.translate(torch.rand(1, 1, 16, 16), direction="AtoC")
    with pytest.raises(zoo.ZooError, match="channel"):
        model.translate(torch.rand(1, 3, 16, 16))
    with pytest.raises(zoo.ZooError, match="power of two"):
        zoo.create("discogan", **{**TINY, "image_size": 48})
    with pytest.raises(zoo.ZooError, match="extra_layers"):
        zoo.create("discogan", **{**TINY, "extra_layers": True, "image_size": 32})


# -- the losses ---------------------------------------------------------------------------------------------
class StubD(nn.Module):
    """A discriminator with a known output: logit = the image's mean, features = [the image]."""

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        return x.mean(dim=(1, 2, 3)), [x]


def test_rate_schedule() -> None:
    p = DiscoGANParams()
    assert (p.gan_curriculum, p.starting_rate, p.default_rate, p.update_interval) == (10000, 0.01, 0.5, 3)
    assert [rate_at(s, p) for s in (0, 9999, 10000, 50000)] == [0.01, 0.01, 0.5, 0.5]
    short = DiscoGANParams(gan_curriculum=2, starting_rate=0.2, default_rate=0.7)
    assert [rate_at(s, short) for s in range(4)] == [0.2, 0.2, 0.7, 0.7]


def test_losses_on_a_hand_checked_case() -> None:
    ones, zeros = torch.ones(2, 1, 2, 2), torch.zeros(2, 1, 2, 2)
    real_a, real_b = ones, ones * 0.5
    ab, ba = zeros, zeros  # D logits: real A 1, real B 0.5, fakes 0
    aba, bab = ones * 0.5, ones * 0.25  # recon_A = 0.25, recon_B = 0.0625
    ln2 = math.log(2)
    softplus = lambda v: math.log1p(math.exp(v))  # noqa: E731  BCE(sigmoid(z), 1) = softplus(-z)
    for rate in (0.01, 0.5):
        got = discogan_losses(real_a, real_b, ab, ba, aba, bab, StubD(), StubD(), rate, DiscoGANParams())
        want = {
            "recon_A": 0.25,
            "recon_B": 0.0625,
            "dis_A": 0.5 * softplus(-1.0) + 0.5 * ln2,
            "dis_B": 0.5 * softplus(-0.5) + 0.5 * ln2,
            "gen_A": ln2,
            "gen_B": ln2,
            "fm_A": 1.0,  # (1 - 0)**2
            "fm_B": 0.25,  # (0.5 - 0)**2
        }
        gen_a_total = (ln2 * 0.1 + 0.25 * 0.9) * (1 - rate) + 0.25 * rate  # generator_B's GAN terms + recon A
        gen_b_total = (ln2 * 0.1 + 1.0 * 0.9) * (1 - rate) + 0.0625 * rate
        want["gen"] = gen_a_total + gen_b_total
        want["dis"] = want["dis_A"] + want["dis_B"]
        assert {k: round(float(v), 6) for k, v in got.items()} == {k: round(v, 6) for k, v in want.items()}


def test_feature_matching_is_the_reference_hinge_loss_against_ones() -> None:
    torch.manual_seed(0)
    real = [torch.randn(4, 3, 2, 2), torch.randn(4, 5, 1, 1)]
    fake = [torch.randn(4, 3, 2, 2), torch.randn(4, 5, 1, 1)]
    hinge = nn.HingeEmbeddingLoss()
    want = sum(hinge((r.mean(0) - f.mean(0)) ** 2, torch.ones(r.shape[1:])) for r, f in zip(real, fake, strict=True))
    torch.testing.assert_close(feature_matching_loss(real, fake), want)


# -- the training step against the reference's loop, written out -------------------------------------------
def _step(model: DiscoGAN, **params: object) -> DiscoGANTrainingStep:
    cfg = TrainConfig("discogan", "synthetic", "/tmp/unused", config=dict(TINY), step_config=dict(params))
    step = DiscoGANTrainingStep(model, cfg)
    step.nets, step.opts = dict(step.networks()), dict(step.optimizers())
    step.global_batch_size = 4
    return step


def _reference_iterations(model: DiscoGAN, batches: list[tuple[torch.Tensor, torch.Tensor]], p: DiscoGANParams):
    """image_translation.py's loop body, literally: BCELoss on the sigmoid, HingeEmbeddingLoss, no detach."""
    g_a, g_b, d_a, d_b = model.generator_A, model.generator_B, model.discriminator_A, model.discriminator_B
    gen_params = [*g_a.parameters(), *g_b.parameters()]
    dis_params = [*d_a.parameters(), *d_b.parameters()]
    options = {"lr": p.lr, "betas": (0.5, 0.999), "weight_decay": 0.00001}
    optim_gen, optim_dis = torch.optim.Adam(gen_params, **options), torch.optim.Adam(dis_params, **options)
    bce, mse, hinge = nn.BCELoss(), nn.MSELoss(), nn.HingeEmbeddingLoss()

    def fm(reals, fakes):
        return sum(hinge((r.mean(0) - f.mean(0)) ** 2, torch.ones((r.mean(0) - f.mean(0)).shape)) for r, f in
                   zip(reals, fakes, strict=True))  # fmt: skip

    for iters, (a, b) in enumerate(batches):
        for net in (g_a, g_b, d_a, d_b):
            net.zero_grad()
        ab, ba = g_b(a), g_a(b)
        aba, bab = g_a(ab), g_b(ba)
        recon_a, recon_b = mse(aba, a), mse(bab, b)
        (a_real, fa_real), (a_fake, fa_fake) = d_a(a), d_a(ba)
        (b_real, fb_real), (b_fake, fb_fake) = d_b(b), d_b(ab)
        n = len(a)
        ones, zeros = torch.ones(n), torch.zeros(n)
        dis_a = bce(a_real.flatten(), ones) * 0.5 + bce(a_fake.flatten(), zeros) * 0.5
        dis_b = bce(b_real.flatten(), ones) * 0.5 + bce(b_fake.flatten(), zeros) * 0.5
        gen_a, gen_b = bce(a_fake.flatten(), ones), bce(b_fake.flatten(), ones)
        rate = p.starting_rate if iters < p.gan_curriculum else p.default_rate
        total_a = (gen_b * 0.1 + fm(fb_real, fb_fake) * 0.9) * (1.0 - rate) + recon_a * rate
        total_b = (gen_a * 0.1 + fm(fa_real, fa_fake) * 0.9) * (1.0 - rate) + recon_b * rate
        if iters % p.update_interval == 0:
            (dis_a + dis_b).backward()
            optim_dis.step()
        else:
            (total_a + total_b).backward()
            optim_gen.step()


def test_training_step_is_the_reference_loop() -> None:
    torch.manual_seed(0)
    ours = zoo.create("discogan", **TINY).train()
    ref = zoo.create("discogan", **TINY).train()
    ref.load_state_dict(ours.state_dict())
    g = torch.Generator().manual_seed(1)
    batches = [(torch.rand(4, 1, 16, 16, generator=g), torch.rand(4, 1, 16, 16, generator=g)) for _ in range(5)]
    params = {"gan_curriculum": 2}  # the rate changes inside the run
    step = _step(ours, **params)
    logged = [step.train_step({"image": a, "target": b}, i) for i, (a, b) in enumerate(batches)]
    _reference_iterations(ref, batches, DiscoGANParams(**params))
    assert [entry["rate"] for entry in logged] == [0.01, 0.01, 0.5, 0.5, 0.5]
    assert set(LOSS_NAMES) <= set(logged[0])
    for (name, mine), theirs in zip(ours.state_dict().items(), ref.state_dict().values(), strict=True):
        torch.testing.assert_close(mine, theirs, atol=2e-5, rtol=1e-4, msg=name)


def test_one_update_per_step_d_first() -> None:
    torch.manual_seed(0)
    model = zoo.create("discogan", **TINY).train()
    step = _step(model)
    batch = {"image": torch.rand(4, 1, 16, 16), "target": torch.rand(4, 1, 16, 16)}

    def snapshot(prefix: str) -> list[torch.Tensor]:
        return [p.detach().clone() for n, p in model.named_parameters() if n.startswith(prefix)]

    for i, updated in enumerate(("discriminator", "generator", "generator", "discriminator")):
        before = {k: snapshot(k) for k in ("generator", "discriminator")}
        step.train_step(batch, i)
        for k, old in before.items():
            changed = any(not torch.equal(a, b) for a, b in zip(old, snapshot(k), strict=True))
            assert changed == (k == updated), (i, k)


def test_update_interval_zero_updates_both() -> None:
    torch.manual_seed(0)
    model = zoo.create("discogan", **TINY).train()
    step = _step(model, update_interval=0)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    step.train_step({"image": torch.rand(4, 1, 16, 16), "target": torch.rand(4, 1, 16, 16)}, 0)
    assert all(not torch.equal(before[n], p) for n, p in model.named_parameters() if n.endswith("main.0.weight"))
    assert not torch.equal(before["discriminator_A.conv1.weight"], model.discriminator_A.conv1.weight)
    with pytest.raises(zoo.ZooError, match="update_interval"):
        _step(model, update_interval=1)


def test_determinism_under_a_seed() -> None:
    def run() -> dict[str, torch.Tensor]:
        torch.manual_seed(3)
        model = zoo.create("discogan", **TINY).train()
        step = _step(model, update_interval=0)
        g = torch.Generator().manual_seed(4)
        for i in range(2):
            step.train_step({"image": torch.rand(4, 1, 12, 12, generator=g), "target": torch.rand(4, 1, 12, 12)}, i)
        return {**model.state_dict(), "out": model.translate(torch.rand(2, 1, 12, 12, generator=g), direction="BtoA")}

    first, second = run(), run()
    assert all(torch.equal(first[k], second[k]) for k in first)


# -- data, engine and metrics -----------------------------------------------------------------------------
def test_final_metrics_are_cyclegans_records() -> None:
    from zoo_cyclegan.training import digits_mnist_evaluation as cyclegan_records

    ours = digits_mnist_evaluation(28, {})
    theirs = cyclegan_records(28, {})
    strip = lambda r: {k: v for k, v in r.items() if k != "evaluation"}  # noqa: E731
    assert [strip(r) for r in ours] == list(theirs)
    assert [r.get("evaluation") for r in ours[:2]] == ["discogan-round-trip"] * 2
    # the published cyclegan card's records, less their values: the same metrics on the same data and options
    published = json.loads((REPO_ROOT / "registry.json").read_text())["models"]["cyclegan.digits2mnist"]["metrics"]
    keys = ("name", "metric", "dataset", "split", "dataset_options", "metric_options")
    view = lambda r: {k: r.get(k) or None for k in keys}  # noqa: E731  (no options and {} are the same)
    assert [view(r) for r in ours] == [view(r) for r in published]


def test_round_trip_protocol_is_cycle_l1_of_reconstruct() -> None:
    torch.manual_seed(0)
    model = zoo.create("discogan", input_nc=1, output_nc=1, ngf=4, ndf=4, n_layers_G=2, image_size=32).eval()
    records = evaluate(
        model,
        ["cycle-l1"],
        "digits",
        n=40,
        dataset_options={"size": 28, "margin": 4},
        metric_options={"cycle-l1": {"direction": "AtoB"}},
        protocol="discogan-round-trip",
    )
    from zoo_core.data import load_dataset

    x = torch.stack([load_dataset("digits", split="test", size=28, margin=4)[i]["image"] for i in range(40)])
    want = (model.reconstruct(x, "AtoB") - x).abs().mean()
    assert records[0]["evaluation"] == "discogan-round-trip" and records[0]["samples"] == 40
    assert records[0]["value"] == pytest.approx(float(want), rel=1e-5)


def test_engine_trains_on_digits_mnist_28_padded(tmp_path: Path) -> None:
    config = {"input_nc": 1, "output_nc": 1, "ngf": 4, "ndf": 4, "n_layers_G": 2, "image_size": 32}
    result = train(
        "discogan", "digits-mnist", tmp_path / "run", steps=2, batch_size=8, config=config, evaluate=False,
        progress=False, verbose=False, seed=1,
    )  # fmt: skip
    assert result is not None
    lines = (tmp_path / "run" / "log.jsonl").read_text().splitlines()
    assert json.loads(lines[-1])["step"] == 2
    with pytest.raises(zoo.ZooError, match="image_size"):
        train("discogan", "digits-mnist", tmp_path / "bad", steps=1, config={**config, "image_size": 16},
              evaluate=False, progress=False, verbose=False)  # fmt: skip
