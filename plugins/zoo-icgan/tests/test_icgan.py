"""zoo-icgan: faithful to Guim3/IcGAN (trainGAN.lua, trainEncoder.lua, generateEncoderDataset.lua); the two tasks it
declares, the training phases (cGAN, then encoders with G and D frozen), the edit metrics and their protocol."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from torch import nn
from zoo_icgan.evaluation import feed_edits
from zoo_icgan.metrics import EditAgreement, ReconstructionL1
from zoo_icgan.model import IcGAN, IcGANConfig, one_hot_pm1
from zoo_icgan.training import REFERENCE_ENCODER_STEPS, REFERENCE_GAN_STEPS, IcGANTrainingStep, split_steps

import zoo_core as zoo
from zoo_core import ZooError
from zoo_core.cli import cli
from zoo_core.data import load_dataset
from zoo_core.evaluation import EvaluationRun
from zoo_core.modeling import seeded_generator
from zoo_core.tasks import TASKS
from zoo_core.training import TrainConfig, train

TINY = {"image_size": 16, "nz": 8, "ngf": 8, "ndf": 8, "encoder_layers": 2, "encoder_nf": 4, "encoder_y_fc": 16}


def tiny(**overrides: object) -> IcGAN:
    torch.manual_seed(0)
    return IcGAN(IcGANConfig(**{**TINY, **overrides}))


def make_step(model: IcGAN, tmp_path: Path, steps: int | None = None, **params: object) -> IcGANTrainingStep:
    step = IcGANTrainingStep(model, TrainConfig("icgan", "mnist5k", str(tmp_path), step_config=params, steps=steps))
    step.nets = dict(step.networks())
    step.opts = step.optimizers()
    return step


def digits(n: int = 8, size: int = 16) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(3)
    return {"image": torch.rand(n, 1, size, size, generator=g), "label": torch.arange(n) % 10}


# -- the reference's layers ---------------------------------------------------------------------------
def test_the_networks_are_the_references_at_64_and_32() -> None:
    """trainGAN.lua at fineSize 64 (MNIST default): G 110 -> 512 (4x4) -> 256 -> 128 -> 64 -> 1; D: y after conv 1."""
    model = IcGAN(IcGANConfig())
    g = [m for m in model.generator.main if isinstance(m, nn.ConvTranspose2d)]
    assert [(m.in_channels, m.out_channels) for m in g] == [(110, 512), (512, 256), (256, 128), (128, 64), (64, 1)]
    assert [(m.kernel_size, m.stride, m.padding) for m in g[:2]] == [((4, 4), (1, 1), (0, 0)), ((4, 4), (2, 2), (1, 1))]
    assert all(m.bias is not None for m in g)  # Torch's SpatialFullConvolution has a bias
    assert isinstance(model.generator.main[-1], nn.Tanh)
    d = [m for m in model.discriminator.main if isinstance(m, nn.Conv2d)]
    assert model.discriminator.x_conv[0].in_channels == 1 and model.discriminator.x_conv[0].out_channels == 64
    assert [(m.in_channels, m.out_channels) for m in d] == [(64 + 10, 128), (128, 256), (256, 512), (512, 1)]
    assert model.discriminator.replicate == 32  # y replicated to fineSize / 2
    # trainEncoder.lua: 4 conv layers 5x5 stride 2 from nf 32, FC = flattened (E_z) or 512 (E_y)
    ez = [m for m in model.encoder_z.main if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert [(m.kernel_size, m.stride, m.padding) for m in ez[:4]] == [((5, 5), (2, 2), (2, 2))] * 4
    assert [m.out_channels for m in ez[:4]] == [32, 64, 128, 256]
    assert [(m.in_features, m.out_features) for m in ez[4:]] == [(4096, 4096), (4096, 100)]
    ey = [m for m in model.encoder_y.main if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in ey] == [(4096, 512), (512, 10)]
    small = IcGAN(IcGANConfig(image_size=32))
    assert [m.out_channels for m in small.generator.main if isinstance(m, nn.ConvTranspose2d)] == [256, 128, 64, 1]
    assert small.encoder_z.main[-1].in_features == 1024


def test_weights_init_is_the_references() -> None:
    model = IcGAN(IcGANConfig(image_size=32))
    conv = model.generator.main[0]
    assert abs(float(conv.weight.detach().std()) - 0.02) < 0.002 and float(conv.bias.detach().abs().max()) == 0
    bn = model.discriminator.main[1]
    assert abs(float(bn.weight.detach().mean()) - 1) < 0.01 and float(bn.bias.detach().abs().max()) == 0


def test_one_hot_is_plus_minus_one() -> None:
    assert one_hot_pm1(torch.tensor([2, 0]), 3).tolist() == [[-1, -1, 1], [1, -1, -1]]


@pytest.mark.parametrize("size", [28, 12, 4])
def test_image_sizes_that_are_not_powers_of_two_are_refused(size: int) -> None:
    with pytest.raises(ZooError, match="power of two"):
        IcGANConfig(image_size=size)


# -- the label enters G and D ----------------------------------------------------------------------
def test_the_class_enters_the_generator_and_the_discriminator() -> None:
    model = tiny().eval()
    z = torch.randn(2, 8, 1, 1)
    a, b = one_hot_pm1(torch.tensor([0, 0]), 10), one_hot_pm1(torch.tensor([5, 5]), 10)
    with torch.no_grad():
        assert not torch.allclose(model.generator(z, a), model.generator(z, b))
        x = torch.rand(2, 1, 16, 16) * 2 - 1
        assert not torch.allclose(model.discriminator(x, a), model.discriminator(x, b))
    # G's input is cat(z, y): a first layer that reads only the y channels sees the class alone
    first = model.generator.main[0]
    with torch.no_grad():
        first.weight[:8].zero_()
        out = model.generator.main[:1](torch.cat([torch.randn(2, 8, 1, 1), a.view(2, 10, 1, 1)], 1))
        assert torch.allclose(out[0], out[1])


def test_samples_follow_their_labels_and_the_unconditional_stream() -> None:
    model = tiny()
    fixed = model.sample(4, labels=[1, 2, 3, 4], seed=5)
    g = seeded_generator(5)
    z = torch.randn(4, 8, 1, 1, generator=g)
    with torch.no_grad():
        by_hand = model.eval().generate(z, torch.tensor([1, 2, 3, 4])).clamp(0, 1)
    assert torch.allclose(fixed, by_hand)
    assert torch.equal(model.sample(3, labels=7, seed=1), model.sample(3, labels=[7, 7, 7], seed=1))
    g = seeded_generator(2)
    with torch.no_grad():
        stream = model.sample_batch(5, g).clamp(0, 1)
    assert torch.allclose(model.sample(5, seed=2), stream)  # labels=None: what `zoo eval`'s samples protocol draws


@pytest.mark.parametrize("labels", [10, -1, [1, 2], [0.5, 1, 2], "3", True])
def test_bad_labels_are_refused_in_one_sentence(labels: object) -> None:
    with pytest.raises(ZooError, match="labels must be one class number from 0 to 9"):
        tiny().sample(3, labels=labels)


def test_bad_counts_and_edit_inputs_are_refused() -> None:
    model = tiny()
    with pytest.raises(ZooError, match="Cannot draw 0 samples"):
        model.sample(0, labels=1)
    with pytest.raises(ZooError, match="1 channel"):
        model.edit(torch.rand(2, 3, 16, 16), 1)
    with pytest.raises(ZooError):
        model.edit(torch.rand(2, 1, 32, 32), 1)
    with pytest.raises(ZooError, match="in \\[0, 1\\]"):
        model.edit(torch.rand(2, 1, 16, 16) * 2, 1)
    with pytest.raises(ZooError, match="not list"):
        model.edit([[0.0]], 1)
    with pytest.raises(ZooError, match="labels must be"):
        model.edit(torch.rand(2, 1, 16, 16), [1, 2, 3])


# -- edit ----------------------------------------------------------------------------------------------
def test_edit_is_g_of_ez_and_the_new_class_deterministic_and_in_eval_mode() -> None:
    model = tiny().train()
    x = torch.rand(3, 1, 16, 16)
    out = model.edit(x, [4, 5, 6])
    assert out.shape == (3, 1, 16, 16) and model.training  # modes restored
    assert torch.equal(out, model.edit(x, [4, 5, 6], seed=123))
    model.eval()
    with torch.no_grad():
        z = model.encoder_z(x * 2 - 1)
        by_hand = ((model.generator(z[:, :, None, None], one_hot_pm1(torch.tensor([4, 5, 6]), 10)) + 1) / 2).clamp(0, 1)
    assert torch.allclose(out, by_hand, atol=1e-6)
    z_code, scores = model.encode(x)
    assert z_code.shape == (3, 8) and scores.shape == (3, 10)
    assert torch.allclose(model.reconstruct(x), model.edit(x, scores.argmax(1)))
    assert torch.equal(model.edit(x, 2), model.edit(x, [2, 2, 2]))


# -- training ------------------------------------------------------------------------------------------
def test_the_gan_step_is_the_references_losses(tmp_path: Path) -> None:
    """lr 0 keeps the networks: the logged losses must be the BCEs of trainGAN.lua's fDx / fGx, by hand."""
    model = tiny().train()
    step = make_step(model, tmp_path, lr=0.0)
    batch = digits()
    step.global_batch_size = 8
    torch.manual_seed(11)
    logged = step.train_step(batch, 0)

    torch.manual_seed(11)
    labels = batch["label"]
    wrong = (labels + torch.randint(1, 10, (8,))) % 10
    y_fake = one_hot_pm1(labels, 10)[torch.randperm(8)]
    z = torch.randn(8, 8, 1, 1)
    assert not (wrong == labels).any()
    real = batch["image"] * 2 - 1
    d = model.discriminator
    with torch.no_grad():
        fake = model.generator(z, y_fake)
        softplus = torch.nn.functional.softplus  # -log sigmoid(a) = softplus(-a); -log(1 - sigmoid(a)) = softplus(a)
        err_real = softplus(-d(real, one_hot_pm1(labels, 10))).mean()
        err_wrong = 0.5 * softplus(d(real, one_hot_pm1(wrong, 10))).mean()
        err_fake = 0.5 * softplus(d(fake, y_fake)).mean()
        err_g = softplus(-d(fake, y_fake)).mean()
    assert math.isclose(float(logged["loss_D_real"]), float(err_real), rel_tol=1e-5)
    assert math.isclose(float(logged["loss_D_wrong_y"]), float(err_wrong), rel_tol=1e-5)
    assert math.isclose(float(logged["loss_D_fake"]), float(err_fake), rel_tol=1e-5)
    assert math.isclose(float(logged["loss_D"]), float(err_real + err_wrong + err_fake) / 2, rel_tol=1e-5)
    assert math.isclose(float(logged["loss_G"]), float(err_g), rel_tol=1e-5)


def _state(module: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in module.state_dict().items()}


def _same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return all(torch.equal(a[k], b[k]) for k in a)


def test_the_gan_phase_trains_g_and_d_only_then_the_encoder_phase_the_encoders_only(tmp_path: Path) -> None:
    model = tiny().train()
    step = make_step(model, tmp_path, steps=4, gan_steps=2, refresh_bn_batches=3)
    step.global_batch_size = 8
    batch = digits()
    before = {k: _state(getattr(model, k)) for k in ("generator", "discriminator", "encoder_z", "encoder_y")}
    for i in range(2):
        logged = step.train_step(batch, i)
    assert set(logged) == {"loss_D", "loss_D_real", "loss_D_wrong_y", "loss_D_fake", "loss_G"}
    after_gan = {k: _state(getattr(model, k)) for k in before}
    assert not _same(before["generator"], after_gan["generator"])
    assert not _same(before["discriminator"], after_gan["discriminator"])
    assert _same(before["encoder_z"], after_gan["encoder_z"]) and _same(before["encoder_y"], after_gan["encoder_y"])

    logged = step.train_step(batch, 2)  # the first encoder step re-estimates G's BatchNorm statistics once
    assert set(logged) == {"loss_Ez", "loss_Ey", "accuracy_Ey"} and step.bn_refreshed
    params = dict(model.generator.named_parameters())
    assert all(torch.equal(params[k], after_gan["generator"][k]) for k in params)  # G's weights untouched
    refreshed = {k: _state(getattr(model, k)) for k in before}
    model.train()  # the engine's sample grids leave the model in training mode: G must stay frozen anyway
    step.train_step(batch, 3)
    step.train_step(batch, 4)
    final = {k: _state(getattr(model, k)) for k in before}
    assert _same(refreshed["generator"], final["generator"])  # BatchNorm statistics too
    assert _same(after_gan["discriminator"], final["discriminator"])
    assert not _same(after_gan["encoder_z"], final["encoder_z"])
    assert not _same(after_gan["encoder_y"], final["encoder_y"])
    assert not any(p.requires_grad for p in model.generator.parameters())


def test_the_encoder_losses_are_mse_to_z_and_to_the_class_vector(tmp_path: Path) -> None:
    model = tiny().train()
    step = make_step(model, tmp_path, steps=1, gan_steps=0, encoder_lr=0.0, refresh_bn_batches=0)
    step.global_batch_size = 8
    batch = digits()
    torch.manual_seed(4)
    logged = step.train_step(batch, 0)
    torch.manual_seed(4)
    z = torch.randn(8, 8, 1, 1)
    model.generator.eval()
    with torch.no_grad():
        x = model.generator(z, one_hot_pm1(torch.arange(8) % 10, 10))
        ez = ((model.encoder_z(x) - z.view(8, 8)) ** 2).mean()
        ey = ((model.encoder_y(batch["image"] * 2 - 1) - one_hot_pm1(batch["label"], 10)) ** 2).mean()
    assert math.isclose(float(logged["loss_Ez"]), float(ez), rel_tol=1e-5)
    assert math.isclose(float(logged["loss_Ey"]), float(ey), rel_tol=1e-5)


def test_step_counts() -> None:
    assert split_steps(None, {}, 5, 6) == (5, 6)
    assert split_steps(100, {"gan_steps": 70}, 70, 1) == (70, 30)
    assert split_steps(100, {"encoder_steps": 10}, 1, 10) == (90, 10)
    share = REFERENCE_GAN_STEPS / (REFERENCE_GAN_STEPS + REFERENCE_ENCODER_STEPS)
    assert split_steps(1000, {}, 1, 1) == (round(1000 * share), 1000 - round(1000 * share))
    with pytest.raises(ZooError, match="add up to 30, not --steps 100"):
        split_steps(100, {"gan_steps": 10, "encoder_steps": 20}, 10, 20)
    with pytest.raises(ZooError, match="exceeds --steps"):
        split_steps(100, {"gan_steps": 200}, 200, 1)


def test_a_run_in_epochs_splits_its_steps_when_it_sees_the_data(tmp_path: Path) -> None:
    step = IcGANTrainingStep(
        tiny(), TrainConfig("icgan", "mnist5k", str(tmp_path), epochs=3, batch_size=100, step_config={"gan_steps": 50})
    )
    step.check_dataset(load_dataset("mnist5k", split="train", size=16))  # 4,500 digits: 45 batches an epoch
    assert (step.params.gan_steps, step.params.encoder_steps) == (50, 3 * 45 - 50)


def test_bad_options_and_several_processes_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ZooError, match="encoder_y_data"):
        make_step(tiny(), tmp_path, encoder_y_data="fake")
    with pytest.raises(ZooError, match="one process"):
        IcGANTrainingStep(tiny(), TrainConfig("icgan", "mnist5k", str(tmp_path)), world_size=2)


# -- metrics and the protocol ---------------------------------------------------------------------------
def test_reconstruction_l1_on_a_hand_checked_case() -> None:
    metric = ReconstructionL1()
    metric.update(image=torch.zeros(1, 1, 2, 2), reconstruction=torch.tensor([[[[0.0, 1.0], [0.5, 0.5]]]]))
    metric.update(image=torch.ones(1, 1, 2, 2), reconstruction=torch.ones(1, 1, 2, 2))
    assert metric.compute() == {"reconstruction-l1": 2.0 / 8}
    with pytest.raises(ZooError, match="one shape"):
        metric.update(image=torch.zeros(1, 1, 2, 2), reconstruction=torch.zeros(1, 1, 4, 4))
    metric.reset()
    with pytest.raises(ZooError, match="has seen no images"):
        metric.compute()


class _ReadsTheBrightestColumn:
    """A stand-in for mnistnet: the class is the column (of 10) with the most ink."""

    class classifier:
        device = torch.device("cpu")

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=(1, 2))


def test_edit_agreement_counts_the_reads_that_match_the_target() -> None:
    metric = EditAgreement.__new__(EditAgreement)
    metric.features = _ReadsTheBrightestColumn()
    metric.reset()
    images = torch.zeros(3, 1, 10, 10)
    images[0, :, :, 4] = 1  # read as 4
    images[1, :, :, 7] = 1  # read as 7
    images[2, :, :, 0] = 1  # read as 0
    metric.update(edited=images, target=torch.tensor([4, 7, 1]))
    assert metric.compute() == {"edit-agreement": 2 / 3}


class _Digits(torch.utils.data.Dataset):
    kind, image_size = "labelled", (4, 4)

    def __init__(self, n: int) -> None:
        self.labels = torch.arange(n) % 3

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"image": torch.full((1, 4, 4), float(self.labels[i]) / 2), "label": self.labels[i]}


class _Recorder:
    """A model of 3 classes whose edit paints the target class as grey level t / 2 and records its calls."""

    num_classes, device = 3, torch.device("cpu")

    def __init__(self) -> None:
        self.calls: list[tuple[list[int], list[int]]] = []

    def edit(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        self.calls.append((x[:, 0, 0, 0].mul(2).round().long().tolist(), y.tolist()))
        return y.view(-1, 1, 1, 1).float().expand_as(x) / 2


def test_the_edits_protocol_edits_each_digit_to_every_other_class_and_to_its_own() -> None:
    model, seen = _Recorder(), {"edited": [], "image": []}

    class Spy(ReconstructionL1):
        inputs = ("edited", "target", "image", "reconstruction")

        def update(self, **inputs: torch.Tensor) -> None:  # type: ignore[override]
            for key in seen:
                if key in inputs:
                    seen[key].append(inputs)

    count = feed_edits(model, _Digits(5), {"spy": Spy()}, EvaluationRun("toy", n=4, batch_size=2))
    assert count == 4
    sources = [(src, tgt) for xs, ys in model.calls for src, tgt in zip(xs, ys, strict=True)]
    # digits 0, 1, 2, 0: reconstructed once each, edited to each of the 2 other classes once
    assert sorted(sources) == sorted(
        [(c, c) for c in (0, 1, 2, 0)] + [(c, (c + s) % 3) for c in (0, 1, 2, 0) for s in (1, 2)]
    )
    recon = torch.cat([r["reconstruction"] for r in seen["image"]])
    assert torch.equal(recon, torch.cat([r["image"] for r in seen["image"]]))  # a perfect reconstruction here
    with pytest.raises(ZooError, match="labelled dataset"):
        bad = _Digits(2)
        bad.kind = "images"
        feed_edits(model, bad, {"spy": Spy()}, EvaluationRun("toy"))


# -- the tasks, the CLI and an engine run ---------------------------------------------------------------
def test_the_tasks_are_registered_and_listed() -> None:
    assert TASKS["class-conditional"].verbs == ("sample",)
    assert TASKS["class-conditional"].attributes == ("num_classes",)
    assert TASKS["image-editing"].verbs == ("edit", "encode")
    assert TASKS["image-editing"].plugin == "zoo-icgan"
    assert IcGAN.task_names() == ("image-editing", "class-conditional", "unconditional")
    result = CliRunner().invoke(cli, ["tasks", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.output)}
    assert rows["class-conditional"]["plugin"] == "zoo-icgan"
    assert rows["image-editing"]["verbs"] == "edit(x, y, *, seed), encode(x)"


def test_a_model_class_without_edit_is_refused() -> None:
    from zoo_icgan.tasks import ImageEditor

    from zoo_core.modeling import ZooModel

    with pytest.raises(ZooError, match="has no verb edit"):

        class Lazy(ImageEditor, ZooModel):
            architecture = "lazy-editor"
            config_class = IcGANConfig
            num_classes = input_channels = image_size = 1

            def encode(self, x):
                return x, x


def test_an_engine_run_trains_both_phases_and_zoo_eval_feeds_the_edit_metrics(tmp_path: Path) -> None:
    result = train(
        "icgan", "mnist5k", tmp_path / "run", steps=4, batch_size=8, dataset_options={"size": 16}, config=TINY,
        step_config={"gan_steps": 2, "refresh_bn_batches": 2}, evaluate=False, progress=False, verbose=False,
    )  # fmt: skip
    assert set(result.losses) >= {"loss_Ez", "loss_Ey"}
    model = zoo.ZooModel.from_pretrained(result.model_dir)
    records = zoo.evaluate(model, ["reconstruction-l1"], "mnist5k", dataset_options={"size": 16}, n=6)
    assert records[0]["evaluation"] == "edits" and records[0]["samples"] == 6
    x = torch.stack([zoo.data.load_dataset("mnist5k", split="test", size=16)[i]["image"] for i in range(6)])
    y = torch.tensor([zoo.data.load_dataset("mnist5k", split="test", size=16)[i]["label"] for i in range(6)])
    assert math.isclose(records[0]["value"], float((model.edit(x, y) - x).abs().mean()), rel_tol=1e-5)
