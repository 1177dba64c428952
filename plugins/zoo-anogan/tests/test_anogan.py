"""zoo-anogan: the networks in seokinj/anoGAN's layout, AnoGAN's latent search and f-AnoGAN's izif score against
hand-written loops, the two training phases, AUROC against a reference, the one-class dataset, the plugin task, and
an engine run whose final AUROC `zoo eval` reproduces."""

from __future__ import annotations

import json
import textwrap

import pytest
import torch
from click.testing import CliRunner
from torch import nn
from zoo_anogan.data import AnomalyTestDigits
from zoo_anogan.metrics import AUROC, auroc
from zoo_anogan.model import AnoGAN, AnoGANConfig, encoder_score, latent_search, search_loss
from zoo_anogan.training import AnoGANTrainingStep

import zoo_core as zoo
from zoo_core.cli import cli
from zoo_core.data import load_dataset
from zoo_core.evaluation import reproduce_metrics
from zoo_core.training import TrainConfig, train

TINY = {"image_size": 16, "nz": 8, "ngf": 4, "ndf": 4, "nef": 4}
QUIET = {"progress": False, "verbose": False}


def tiny(**overrides: object) -> AnoGAN:
    torch.manual_seed(0)
    return AnoGAN(AnoGANConfig(**{**TINY, **overrides}))


def make_step(model: AnoGAN, gan_steps: int, **config: object) -> AnoGANTrainingStep:
    cfg = TrainConfig("anogan", "mnist5k-anomaly", "/tmp/unused", step_config={"gan_steps": gan_steps}, **config)
    step = AnoGANTrainingStep(model.train(), cfg)
    step.nets, step.opts = dict(step.networks()), dict(step.optimizers())
    step.global_batch_size = 8
    return step


# -- layout ----------------------------------------------------------------------------------------
def test_keys_are_seokinj_anogan_at_64x64() -> None:
    model = AnoGAN(AnoGANConfig())
    g = [k for k in model.generator.state_dict() if k.endswith("weight")]
    assert g == [
        "trans0.weight",
        "bn0.weight",
        "trans1.weight",
        "bn1.weight",
        "trans2.weight",
        "bn2.weight",
        "trans3.weight",
        "bn3.weight",
        "trans4.weight",
    ]
    d = [k for k in model.discriminator.state_dict() if k.endswith("weight")]
    assert d == [
        "conv0.weight",
        "conv1.weight",
        "bn1.weight",
        "conv2.weight",
        "bn2.weight",
        "conv3.weight",
        "bn3.weight",
        "conv4.weight",
    ]
    assert tuple(model.generator.trans0.weight.shape) == (100, 512, 4, 4)  # gf_dim * 8 at 64x64
    assert tuple(model.discriminator.conv4.weight.shape) == (1, 512, 4, 4)
    assert tuple(model.encoder.conv4.weight.shape) == (100, 512, 4, 4)  # the encoder's linear head to z
    features, p = model.discriminator(torch.randn(2, 1, 64, 64))
    assert features.shape == (2, 512, 4, 4) and p.shape == (2,)  # h3 of the reference, and D(x)
    assert all(m.bias is None for m in model.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)))
    assert all(
        torch.equal(m.weight, torch.ones_like(m.weight)) for m in model.modules() if isinstance(m, nn.BatchNorm2d)
    )  # the reference leaves BatchNorm at its default


def test_the_reference_init_and_the_32x32_size() -> None:
    model = AnoGAN(AnoGANConfig(image_size=32, ngf=32, ndf=32, nef=32))
    weight = model.generator.trans1.weight
    assert abs(float(weight.detach().std()) - 0.02) < 0.002 and abs(float(weight.detach().mean())) < 0.002
    assert model.sample(3, seed=0).shape == (3, 1, 32, 32)
    assert model.discriminator(torch.zeros(1, 1, 32, 32))[0].shape == (1, 128, 4, 4)
    with pytest.raises(zoo.ZooError, match="power of two"):
        AnoGANConfig(image_size=28)


# -- the scores ------------------------------------------------------------------------------------
def test_the_loss_formulas_on_a_hand_checked_case() -> None:
    x = torch.tensor([[[[0.0, 1.0], [-1.0, 0.5]]]])
    fake = torch.tensor([[[[0.5, 0.5], [0.0, 0.5]]]])
    fx, ffake = torch.tensor([[1.0, 2.0, 3.0]]), torch.tensor([[1.0, 0.0, 3.5]])
    # residual |.| sum 0.5 + 0.5 + 1 + 0 = 2, discrimination 0 + 2 + 0.5 = 2.5: 0.9 * 2 + 0.1 * 2.5
    assert search_loss(x, fake, fx, ffake, 0.1).item() == pytest.approx(2.05)
    # image MSE (0.25 + 0.25 + 1 + 0) / 4, feature MSE (0 + 4 + 0.25) / 3
    assert encoder_score(x, fake, fx, ffake, 1.0).item() == pytest.approx(0.375 + 4.25 / 3)
    assert encoder_score(x, fake, fx, ffake, 0.0).item() == pytest.approx(0.375)


def test_the_encoder_score_is_izif_written_out() -> None:
    model = tiny(kappa=0.5).eval()
    x = torch.rand(3, 1, 16, 16)
    real = x * 2 - 1
    with torch.no_grad():
        fake = model.generator(model.encoder(real))
        f_real, f_fake = model.discriminator(real)[0], model.discriminator(fake)[0]
    want = [float(((real[i] - fake[i]) ** 2).mean() + 0.5 * ((f_real[i] - f_fake[i]) ** 2).mean()) for i in range(3)]
    assert model.score(x).tolist() == pytest.approx(want, rel=1e-5)
    assert model.training is False  # a verb leaves the mode as it found it (eval here)


def sensitive(**overrides: object) -> AnoGAN:
    """A tiny model whose generator depends on z visibly (the reference init's N(0, 0.02) nearly ignores z)."""
    model = tiny(**overrides).eval()
    with torch.no_grad():
        for m in model.generator.modules():
            if isinstance(m, nn.ConvTranspose2d):
                m.weight.normal_(0.0, 0.3, generator=torch.Generator().manual_seed(1))
    return model


def test_the_latent_search_reduces_its_loss_and_touches_only_z() -> None:
    model = sensitive(search_lr=0.05)
    with torch.no_grad():  # images the generator can draw: the search has somewhere to go
        x = model.generate(torch.randn(4, 8, 1, 1, generator=torch.Generator().manual_seed(7)))
    z0 = torch.randn(4, 8, 1, 1, generator=torch.Generator().manual_seed(0))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    loss, z, history = latent_search(model.generator, model.discriminator, x * 2 - 1, z0, steps=30, lr=0.05, lam=0.1)
    assert len(history) == 31 and history[-1] < history[0] * 0.95
    assert not torch.equal(z, z0)
    assert all(p.grad is None for p in model.parameters())  # only z gets gradients
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    # the score is the final loss: the loss of the final z, recomputed by hand
    with torch.no_grad():
        fake = model.generator(z)
        again = search_loss(x * 2 - 1, fake, model.discriminator(x * 2 - 1)[0], model.discriminator(fake)[0], 0.1)
    assert torch.allclose(loss, again) and float(loss.mean()) == pytest.approx(history[-1], rel=1e-6)
    # the default (the reference's Adam 2e-4) lowers it too, more slowly
    default = sensitive()
    assert (
        default.score(x, method="latent-search", steps=20).mean()
        < default.score(x, method="latent-search", steps=0).mean()
    )


def test_a_batch_is_independent_searches_and_the_seed_fixes_the_start() -> None:
    model = sensitive(search_lr=0.05)
    x = torch.rand(3, 1, 16, 16)
    together = model.score(x, method="latent-search", seed=5, steps=10)
    z0 = torch.randn(3, 8, 1, 1, generator=torch.Generator().manual_seed(5))
    alone = [
        latent_search(
            model.generator, model.discriminator, x[i : i + 1] * 2 - 1, z0[i : i + 1], steps=10, lr=0.05, lam=0.1
        )[0]
        for i in range(3)
    ]
    assert torch.allclose(together, torch.cat(alone), rtol=1e-5)
    assert torch.equal(together, model.score(x, method="latent-search", seed=5, steps=10))
    assert not torch.equal(together, model.score(x, method="latent-search", seed=6, steps=10))
    # under inference mode (as the evaluation protocol calls it) the search still runs
    with torch.inference_mode():
        inside = model.score(x, method="latent-search", seed=5, steps=10)
    assert torch.allclose(inside, together)


def test_score_refuses_what_it_cannot_take_in_one_sentence() -> None:
    model = tiny()
    with pytest.raises(zoo.ZooError, match="scores 16x16 images, got 28x28"):
        model.score(torch.rand(2, 1, 28, 28))
    with pytest.raises(zoo.ZooError, match="in \\[0, 1\\]"):
        model.score(torch.rand(2, 1, 16, 16) * 2 - 1)
    with pytest.raises(zoo.ZooError, match="1-channel images, got 3"):
        model.score(torch.rand(2, 3, 16, 16))
    with pytest.raises(zoo.ZooError, match="method 'encoder' or 'latent-search', not 'nearest'"):
        model.score(torch.rand(2, 1, 16, 16), method="nearest")
    with pytest.raises(zoo.ZooError, match="shaped \\(N, C, H, W\\)"):
        model.score(torch.rand(1, 16, 16))
    with pytest.raises(zoo.ZooError, match="steps as a whole number"):
        model.score(torch.rand(2, 1, 16, 16), method="latent-search", steps=-1)


# -- training --------------------------------------------------------------------------------------
def test_the_gan_phase_trains_g_and_d_and_the_encoder_phase_only_e() -> None:
    model = tiny()
    step = make_step(model, gan_steps=1, steps=3)
    batch = {"image": torch.rand(8, 1, 16, 16)}
    state = {k: v.clone() for k, v in model.state_dict().items()}
    logged = step.train_step(batch, 0)
    assert set(logged) == {"loss_D", "loss_G", "D_x", "D_G_z1", "D_G_z2"}
    changed = {k.split(".")[0] for k, v in model.state_dict().items() if not torch.equal(state[k], v)}
    assert changed == {"generator", "discriminator"}
    state = {k: v.clone() for k, v in model.state_dict().items()}
    logged = step.train_step(batch, 1)
    assert set(logged) == {"loss_E", "loss_E_img", "loss_E_fts"}
    assert float(logged["loss_E"]) == pytest.approx(float(logged["loss_E_img"] + logged["loss_E_fts"]))
    changed = {k.split(".")[0] for k, v in model.state_dict().items() if not torch.equal(state[k], v)}
    assert changed == {"encoder"}  # G's and D's weights and BatchNorm statistics untouched
    assert all(m.training for m in model.modules())  # G and D back in train mode after their eval-mode use
    assert all(p.requires_grad for p in model.parameters())


def test_the_encoder_loss_is_izif_with_frozen_networks_in_eval_mode() -> None:
    model = tiny(kappa=2.0)
    step = make_step(model, gan_steps=0, steps=1)
    x = torch.rand(8, 1, 16, 16)
    real = x * 2 - 1
    model.generator.eval(), model.discriminator.eval()
    with torch.no_grad():
        fake = model.generator(model.encoder.train()(real))
        want = ((fake - real) ** 2).mean() + 2.0 * (
            (model.discriminator(fake)[0] - model.discriminator(real)[0]) ** 2
        ).mean()
    model.train()
    assert float(step.train_step({"image": x}, 0)["loss_E"]) == pytest.approx(float(want), rel=1e-5)
    assert sorted(step.opts) == ["e"] and isinstance(step.opts["e"], torch.optim.RMSprop)
    assert step.opts["e"].param_groups[0]["lr"] == 5e-5


def test_the_run_must_reach_the_encoder_and_match_the_held_out_digit() -> None:
    data = load_dataset("mnist5k-anomaly", digit=3, size=16)
    with pytest.raises(zoo.ZooError, match="encoder would never train; pass --steps above 10"):
        make_step(tiny(), gan_steps=10, steps=10).check_dataset(data)
    with pytest.raises(zoo.ZooError, match="anomaly_class is 0 but the dataset holds out digit 3"):
        make_step(tiny(anomaly_class=0), gan_steps=1, steps=2).check_dataset(data)
    model = tiny()
    make_step(model, gan_steps=1, steps=2).check_dataset(data)
    assert model.config.anomaly_class == 3  # recorded from the dataset


# -- data and metric -------------------------------------------------------------------------------
def test_the_dataset_holds_out_the_digit_from_train_and_marks_it_in_test() -> None:
    train_set = load_dataset("mnist5k-anomaly", split="train", digit=7)
    mnist = load_dataset("mnist5k", split="train")
    assert len(train_set) == 4050 and 7 not in set(train_set.labels.tolist())
    assert train_set.image_size == (32, 32) and train_set.anomaly_class == 7
    test_set = load_dataset("mnist5k-anomaly", split="test", digit=7, size=28)
    plain = load_dataset("mnist5k", split="test")
    assert isinstance(test_set, AnomalyTestDigits) and len(test_set) == 500
    marks = torch.tensor([test_set[i]["anomaly"] for i in range(500)])
    assert torch.equal(marks, (plain.labels == 7).long()) and int(marks.sum()) == 50
    assert torch.equal(test_set[0]["image"], plain[0]["image"])  # the same test digits, in mnist5k's order
    assert torch.equal(train_set.labels, mnist.labels[mnist.labels != 7])
    with pytest.raises(zoo.ZooError, match="pass --dataset-option digit=K"):
        load_dataset("mnist5k-anomaly", split="test")
    with pytest.raises(zoo.ZooError, match="digit=0 to 9"):
        load_dataset("mnist5k-anomaly", split="test", digit=10)


def test_auroc_matches_a_reference() -> None:
    generator = torch.Generator().manual_seed(0)
    scores = torch.randint(0, 20, (300,), generator=generator).float()  # many ties
    marks = (torch.rand(300, generator=generator) < 0.3).long()
    try:
        from sklearn.metrics import roc_auc_score

        want = float(roc_auc_score(marks.numpy(), scores.numpy()))
    except ImportError:  # the brute-force pair count: P(score+ > score-) + P(tie) / 2
        pos, neg = scores[marks == 1], scores[marks == 0]
        diff = pos[:, None] - neg[None, :]
        want = float(((diff > 0).double() + 0.5 * (diff == 0).double()).mean())
    assert auroc(scores, marks) == pytest.approx(want, abs=1e-12)
    pos, neg = scores[marks == 1], scores[marks == 0]
    diff = pos[:, None] - neg[None, :]
    assert auroc(scores, marks) == pytest.approx(float(((diff > 0).double() + 0.5 * (diff == 0).double()).mean()))
    metric = AUROC()
    metric.update(score=scores[:100], anomaly=marks[:100])
    metric.update(score=scores[100:], anomaly=marks[100:])
    assert metric.compute()["auroc"] == pytest.approx(want)
    assert auroc(torch.tensor([0.1, 0.4, 0.35, 0.8]), torch.tensor([0, 0, 1, 1])) == 0.75
    with pytest.raises(ValueError, match="both anomalies and normal images"):
        auroc(torch.tensor([0.1, 0.2]), torch.tensor([1, 1]))
    with pytest.raises(zoo.ZooError, match="steps only with method=latent-search"):
        AUROC(method="encoder", steps=3)


# -- the plugin task -------------------------------------------------------------------------------
def test_the_task_is_registered_and_listed() -> None:
    from zoo_core.tasks import TASKS

    task = TASKS["anomaly-detection"]
    assert task.verbs == ("score",) and task.plugin == "zoo-anogan"
    assert zoo.create("anogan", **TINY).tasks == ("anomaly-detection", "unconditional")
    result = CliRunner().invoke(cli, ["tasks", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.output)}
    assert rows["anomaly-detection"]["plugin"] == "zoo-anogan"
    assert rows["anomaly-detection"]["verbs"] == 'score(x, *, method="encoder", seed=0)'


def test_a_model_class_without_score_is_refused() -> None:
    from zoo_anogan.tasks import AnomalyDetector

    from zoo_core.modeling import ZooModel

    with pytest.raises(zoo.ZooError, match="declares the task 'anomaly-detection' but has no verb score"):
        type("Lazy", (AnomalyDetector, ZooModel), {"architecture": "lazy", "config_class": AnoGANConfig})
    with pytest.raises(zoo.ZooError, match="its score does not take the keyword 'method'"):
        exec(
            textwrap.dedent(
                """
            class Narrow(AnomalyDetector, ZooModel):
                architecture, config_class = "narrow", AnoGANConfig
                def score(self, x, *, seed=0):
                    return x.mean(dim=(1, 2, 3))
            """
            ),
            {"AnomalyDetector": AnomalyDetector, "ZooModel": ZooModel, "AnoGANConfig": AnoGANConfig},
        )


# -- an engine run ---------------------------------------------------------------------------------
def test_a_run_trains_both_phases_and_its_auroc_reproduces(tmp_path) -> None:
    result = train(
        "anogan",
        "mnist5k-anomaly",
        str(tmp_path / "run"),
        steps=4,
        batch_size=16,
        log_every=2,
        config=TINY,
        step_config={"gan_steps": 2, "eval_search_steps": 3},
        dataset_options={"digit": 1, "size": 16},
        **QUIET,
    )
    log = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    steps = [r for r in log if "step" in r]
    assert "loss_D" in steps[0] and "loss_E" in steps[-1]
    record, search = result.metrics
    assert record["name"] == "auroc" and record["evaluation"] == "anomaly-scores" and record["samples"] == 500
    assert record["dataset"] == "mnist5k-anomaly" and record["dataset_options"] == {"digit": 1, "size": 16}
    assert search["name"] == "auroc-latent-search" and search["metric"] == "auroc"
    assert search["metric_options"] == {"method": "latent-search", "steps": 3} and search["seed"] == 0
    assert 0.0 <= record["value"] <= 1.0 and 0.0 <= search["value"] <= 1.0
    entry = json.loads((tmp_path / "run" / "zoo-entry.json").read_text())["entry"]
    assert entry["config"]["anomaly_class"] == 1
    model = zoo.load(str(tmp_path / "run" / "model"))
    plans = [{k: v for k, v in r.items() if k != "value"} for r in result.metrics]
    again = reproduce_metrics(model, records=plans)
    assert [r["value"] for r in again] == pytest.approx([record["value"], search["value"]], abs=1e-9)
