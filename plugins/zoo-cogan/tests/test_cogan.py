"""zoo-cogan: weight sharing, the reference's state-dict layout, sampling, the datasets, the metric, the step."""

from __future__ import annotations

import copy
import math

import pytest
import torch
from torch.nn import functional as F
from zoo_cogan.data import MnistPairDataset
from zoo_cogan.metrics import PairAgreement, pair_agreement
from zoo_cogan.model import CoGAN, CoGANConfig
from zoo_cogan.training import CoGANTrainingStep
from zoo_cogan.transforms import apply_pair_transform, dilate_edges

import zoo_core as zoo
from zoo_core import ZooError
from zoo_core.data import load_dataset
from zoo_core.metrics import create_metric

TINY = {"ngf": 16, "latent_dims": 8, "d_conv0": 4, "d_conv1": 4, "d_conv2": 8}

#: the parameters and buffers of cogan_pytorch/src/net_cogan_mnistedge.py, as its trainer holds them (gen., dis.)
REFERENCE_SHAPES = {
    "dis.conv0_a.weight": (20, 1, 5, 5),
    "dis.conv0_a.bias": (20,),
    "dis.conv0_b.weight": (20, 1, 5, 5),
    "dis.conv0_b.bias": (20,),
    "dis.conv1.weight": (50, 20, 5, 5),
    "dis.conv1.bias": (50,),
    "dis.conv2.weight": (500, 50, 4, 4),
    "dis.conv2.bias": (500,),
    "dis.prelu2.weight": (1,),
    "dis.conv3.weight": (2, 500, 1, 1),
    "dis.conv3.bias": (2,),
    "gen.dconv0.weight": (100, 1024, 4, 4),
    "gen.dconv0.bias": (1024,),
    "gen.bn0.running_mean": (1024,),
    "gen.bn0.running_var": (1024,),
    "gen.bn0.num_batches_tracked": (),
    "gen.prelu0.weight": (1,),
    "gen.dconv1.weight": (1024, 512, 3, 3),
    "gen.dconv1.bias": (512,),
    "gen.bn1.running_mean": (512,),
    "gen.bn1.running_var": (512,),
    "gen.bn1.num_batches_tracked": (),
    "gen.prelu1.weight": (1,),
    "gen.dconv2.weight": (512, 256, 3, 3),
    "gen.dconv2.bias": (256,),
    "gen.bn2.running_mean": (256,),
    "gen.bn2.running_var": (256,),
    "gen.bn2.num_batches_tracked": (),
    "gen.prelu2.weight": (1,),
    "gen.dconv3.weight": (256, 128, 3, 3),
    "gen.dconv3.bias": (128,),
    "gen.bn3.running_mean": (128,),
    "gen.bn3.running_var": (128,),
    "gen.bn3.num_batches_tracked": (),
    "gen.prelu3.weight": (1,),
    "gen.dconv4_a.weight": (128, 1, 6, 6),
    "gen.dconv4_a.bias": (1,),
    "gen.dconv4_b.weight": (128, 1, 6, 6),
    "gen.dconv4_b.bias": (1,),
}


@pytest.fixture(scope="module")
def tiny() -> CoGAN:
    torch.manual_seed(0)
    return CoGAN(CoGANConfig(**TINY))


def _grads(model: CoGAN, loss: torch.Tensor) -> set[int]:
    model.zero_grad(set_to_none=True)
    loss.backward()
    return {id(p) for p in model.parameters() if p.grad is not None and p.grad.abs().sum() > 0}


# -- the networks ------------------------------------------------------------------------------


def test_reference_state_dict_keys_and_shapes() -> None:
    state = CoGAN(CoGANConfig()).state_dict()
    assert {k: tuple(v.shape) for k, v in state.items()} == REFERENCE_SHAPES


def test_reference_init() -> None:
    torch.manual_seed(0)
    model = CoGAN(CoGANConfig(ngf=64))
    for name, module in model.named_modules():
        if isinstance(module, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
            assert torch.all(module.bias == 0.1), name
            fan = module.weight[0].numel() + module.weight[:, 0].numel()  # fan_in + fan_out
            bound = math.sqrt(2) * math.sqrt(6.0 / fan)
            assert module.weight.abs().max() <= bound, name
            assert module.weight.abs().max() > 0.9 * bound, name  # uniform over the whole range
        if isinstance(module, torch.nn.BatchNorm2d):
            assert not module.affine, name  # BatchNorm2d(..., affine=False), as the port
        if isinstance(module, torch.nn.PReLU):
            assert module.weight.numel() == 1 and module.weight.item() == 0.25, name


def test_generators_share_all_but_the_last_layer(tiny: CoGAN) -> None:
    gen = tiny.gen.train()
    z = torch.randn(4, 8)
    a, b = gen(z)
    only_a, only_b = _grads(tiny, a.sum()), _grads(tiny, gen(z)[1].sum())
    shared = [gen.dconv0, gen.prelu0, gen.dconv1, gen.prelu1, gen.dconv2, gen.prelu2, gen.dconv3, gen.prelu3]
    shared_ids = {id(p) for m in shared for p in m.parameters()}
    assert only_a & only_b == shared_ids  # the very same Parameter objects serve both domains
    assert only_a - only_b == {id(p) for p in gen.dconv4_a.parameters()}
    assert only_b - only_a == {id(p) for p in gen.dconv4_b.parameters()}
    # the shared layers computed once equal each generator's own pass through them (a hand-written loop)
    with torch.no_grad():
        for head, out in ((gen.dconv4_a, a), (gen.dconv4_b, b)):
            h = z.view(4, 8, 1, 1)
            for conv, _bn, act in zip(
                (gen.dconv0, gen.dconv1, gen.dconv2, gen.dconv3),
                (gen.bn0, gen.bn1, gen.bn2, gen.bn3),
                (gen.prelu0, gen.prelu1, gen.prelu2, gen.prelu3),
                strict=True,
            ):
                h = conv(h)
                h = (h - h.mean((0, 2, 3), keepdim=True)) / torch.sqrt(
                    h.var((0, 2, 3), unbiased=False, keepdim=True) + 1e-5
                )
                h = torch.where(h >= 0, h, act.weight * h)
            torch.testing.assert_close(torch.sigmoid(head(h)), out, rtol=1e-4, atol=1e-5)


def test_discriminators_share_all_but_the_first_layer(tiny: CoGAN) -> None:
    dis = tiny.dis
    x_a, x_b = torch.rand(3, 1, 28, 28), torch.rand(3, 1, 28, 28)
    logits = dis(x_a, x_b)
    assert logits.shape == (6, 2)
    only_a, only_b = _grads(tiny, logits[:3].sum()), _grads(tiny, dis(x_a, x_b)[3:].sum())
    shared_ids = {id(p) for m in (dis.conv1, dis.conv2, dis.prelu2, dis.conv3) for p in m.parameters()}
    assert only_a & only_b == shared_ids
    assert only_a - only_b == {id(p) for p in dis.conv0_a.parameters()}
    assert only_b - only_a == {id(p) for p in dis.conv0_b.parameters()}
    # domain 1's rows are D1(x_a) on its own: the batch concatenation does not mix the domains
    with torch.no_grad():
        alone = dis.conv3(dis.prelu2(dis.conv2(dis.pool1(dis.conv1(dis.pool0(dis.conv0_a(x_a))))))).view(-1, 2)
        torch.testing.assert_close(dis(x_a, x_b)[:3], alone)


def test_sampling_shapes_range_and_determinism(tiny: CoGAN) -> None:
    tiny.eval()
    pairs = tiny.sample(5, seed=3)
    assert pairs.shape == (5, 1, 28, 56) and pairs.min() >= 0 and pairs.max() <= 1
    assert torch.equal(pairs, tiny.sample(5, seed=3))
    assert not torch.equal(pairs, tiny.sample(5, seed=4))
    first, second = tiny.sample_pairs(5, seed=3)
    assert first.shape == second.shape == (5, 1, 28, 28)
    assert torch.equal(first, pairs[..., :28]) and torch.equal(second, pairs[..., 28:])
    with torch.no_grad():  # the first of the pair and the second come from the same z
        z = torch.randn(5, 8, generator=torch.Generator().manual_seed(3))
        a, b = tiny.generate(z)
    torch.testing.assert_close(first, a)
    torch.testing.assert_close(second, b)


def test_uniform_noise_and_bad_inputs() -> None:
    model = CoGAN(CoGANConfig(**TINY, noise="uniform"))
    z = model.noise(1000, torch.Generator().manual_seed(0))
    assert z.min() >= -1 and z.max() <= 1 and z.min() < -0.99
    with pytest.raises(ZooError, match="codes shaped"):
        model.generate(torch.randn(2, 9))
    with pytest.raises(ZooError, match="multiple of 8"):
        CoGANConfig(ngf=12)
    with pytest.raises(ZooError):
        CoGANConfig(pair="rotation")


# -- transforms, datasets ---------------------------------------------------------------------


def test_edges_are_dilation_minus_image_as_cv2() -> None:
    x = torch.randint(0, 256, (2, 1, 7, 9), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    expected = torch.zeros_like(x)
    for n in range(2):
        for i in range(7):
            for j in range(9):
                window = x[n, 0, max(i - 1, 0) : i + 2, max(j - 1, 0) : j + 2]
                expected[n, 0, i, j] = window.max() - x[n, 0, i, j]
    assert torch.equal(dilate_edges(x), expected)
    torch.testing.assert_close(dilate_edges(x.float() / 255), expected.float() / 255)
    assert torch.equal(apply_pair_transform(x, "negative"), 255 - x)


@pytest.mark.parametrize("split", ["train", "test"])
def test_domains_are_disjoint_halves(split: str) -> None:
    data = MnistPairDataset(split, pair="edges")
    mnist = load_dataset("mnist5k", split=split)
    a, b = set(data.indices_a.tolist()), set(data.indices_b.tolist())
    assert not a & b and a | b == set(range(len(mnist)))
    assert len(data.domain_a) == len(mnist) // 2 == len(data)
    assert torch.equal(data.domain_a.images, mnist.images[data.indices_a])
    assert torch.equal(data.domain_b.images, dilate_edges(mnist.images[data.indices_b]))
    negative = MnistPairDataset(split, pair="negative")
    assert torch.equal(negative.indices_a, data.indices_a)  # the same halves for both tasks
    assert torch.equal(negative.domain_b.images, 255 - mnist.images[data.indices_b])


def test_registered_datasets_items() -> None:
    data = load_dataset("mnist-negative", split="test")
    assert (data.name, data.kind, data.channels, data.image_size) == ("mnist-negative", "unpaired", 1, (28, 28))
    item = data[7]
    assert torch.equal(item["image"], data.domain_a[7]["image"])
    assert any(torch.equal(item["target"], data.domain_b[j]["image"]) for j in range(len(data.domain_b)))
    assert torch.equal(item["target"], data[7]["target"])  # seeded
    data.set_epoch(1)
    assert (
        sum(
            not torch.equal(data[i]["target"], load_dataset("mnist-negative", split="test")[i]["target"])
            for i in range(10)
        )
        > 5
    )
    with pytest.raises(ZooError, match="no split"):
        load_dataset("mnist-edges", split="all")


# -- the metric ---------------------------------------------------------------------------------


def test_pair_agreement_hand_checked() -> None:
    x = torch.zeros(1, 1, 4, 4)
    x[..., 1:3, 1:3] = 1
    # edges of a 2x2 block in a 4x4 frame: every pixel but the block's; against the block itself: no pixel agrees
    assert pair_agreement(x, x, "edges").item() == 0.0
    assert pair_agreement(x, 1 - x, "edges").item() == 1.0
    y = 1 - x
    y[..., 0, 0] = 0.2  # one of 16 pixels wrong
    assert pair_agreement(x, y, "edges").item() == pytest.approx(15 / 16)


@pytest.mark.parametrize("pair", ["edges", "negative"])
def test_pair_agreement_perfect_and_random(pair: str) -> None:
    digits = load_dataset("mnist5k", split="test").tensors()[:200]
    metric = PairAgreement()
    metric.update(first=digits, second=apply_pair_transform(digits, pair), transform=pair)
    assert metric.compute() == {"pair-agreement": 1.0}
    g = torch.Generator().manual_seed(0)
    metric.reset()
    metric.update(
        first=torch.rand(500, 1, 28, 28, generator=g), second=torch.rand(500, 1, 28, 28, generator=g), transform=pair
    )
    assert metric.compute()["pair-agreement"] == pytest.approx(0.5, abs=0.01)


def test_pair_agreement_options() -> None:
    x = torch.rand(2, 1, 28, 28)
    forced = PairAgreement(transform="negative")
    forced.update(first=x, second=1 - x, transform="edges")  # the option wins over the protocol's input
    assert forced.compute()["pair-agreement"] == 1.0
    with pytest.raises(ZooError, match="needs the domain transform"):
        PairAgreement().update(first=x, second=x)
    with pytest.raises(ZooError, match="same"):
        PairAgreement(transform="edges").update(first=x, second=x[:1])
    with pytest.raises(ZooError, match="threshold"):
        PairAgreement(threshold=1.5)
    with pytest.raises(ValueError):
        PairAgreement().compute()
    built = create_metric("pair-agreement", transform="edges", threshold=0.25)  # --metric-option values
    assert (built.transform, built.threshold, built.higher_is_better) == ("edges", 0.25, True)
    with pytest.raises(ZooError):
        create_metric("pair-agreement", transform="rotation")


@pytest.mark.parametrize("pair", ["edges", "negative"])
def test_reference_values_unrelated_digits_are_the_floor(pair: str) -> None:
    from zoo_cogan.evaluation import reference_values

    values = reference_values(pair)
    assert values["paired"] == 1.0
    assert 0.75 < values["unrelated"] < 0.85  # mostly background: far above 0.5, far below the paper's 0.95


def test_evaluate_uses_the_pairs_protocol_and_the_model_pair() -> None:
    torch.manual_seed(0)
    model = zoo.create("cogan", **TINY, pair="negative")
    (record,) = zoo.evaluate(model, "pair-agreement", n=64, seed=2)
    assert (record["name"], record["evaluation"], record["samples"], record["seed"]) == (
        "pair-agreement",
        "pairs",
        64,
        2,
    )
    assert "(negative)" in record["protocol"]
    first, second = model.sample_pairs(64, seed=2)
    assert record["value"] == pytest.approx(pair_agreement(first, second, "negative").double().mean().item(), abs=1e-7)


# -- the training step ------------------------------------------------------------------------------


class _Config:
    def __init__(self) -> None:
        self.step_config = {"weight_decay": 0.0}
        self.precision = "fp32"


def _step(model: CoGAN) -> CoGANTrainingStep:
    step = CoGANTrainingStep(model, _Config())
    step.nets, step.opts, step.global_batch_size = step.networks(), step.optimizers(), 4
    return step


def test_training_step_losses_match_a_hand_computation() -> None:
    torch.manual_seed(0)
    model = CoGAN(CoGANConfig(**TINY)).train()
    before = copy.deepcopy(model)
    batch = {"image": torch.rand(4, 1, 28, 28), "target": torch.rand(4, 1, 28, 28)}
    torch.manual_seed(1)
    logs = _step(model).train_step(batch, 0)
    torch.manual_seed(1)
    with torch.no_grad():
        real = before.dis(batch["image"], batch["target"])
        fake = before.dis(*before.gen(torch.randn(4, 8)))
        loss_real = -F.log_softmax(real, 1)[:, 1].mean()  # label 1 on all 8 rows (both domains)
        loss_fake = -F.log_softmax(fake, 1)[:, 0].mean()
    torch.testing.assert_close(logs["loss_D_real"], loss_real)
    torch.testing.assert_close(logs["loss_D_fake"], loss_fake)
    torch.testing.assert_close(logs["loss_D"], loss_real + loss_fake)
    acc = 0.5 * ((real.argmax(1) == 1).float().mean() + (fake.argmax(1) == 0).float().mean())
    torch.testing.assert_close(logs["accuracy"], acc)
    # the generator's loss: non-saturating, with the discriminators after their update, on fresh noise
    z = torch.randn(4, 8)
    with torch.no_grad():  # the generator's parameters before its update (batch statistics: train mode)
        out = model.dis(*before.gen(z))
    torch.testing.assert_close(logs["loss_G"], -F.log_softmax(out, 1)[:, 1].mean(), rtol=1e-4, atol=1e-5)
    # both heads and the shared layers moved, of both networks
    for name in (
        "gen.dconv0.weight",
        "gen.dconv4_a.weight",
        "gen.dconv4_b.weight",
        "dis.conv0_a.weight",
        "dis.conv0_b.weight",
        "dis.conv3.weight",
    ):
        assert not torch.equal(model.state_dict()[name], before.state_dict()[name]), name


def test_optimisers_are_the_reference_adam() -> None:
    model = CoGAN(CoGANConfig(**TINY))
    step = CoGANTrainingStep(model, type("C", (), {"step_config": {}, "precision": "fp32"})())
    opts = step.optimizers()
    assert sorted(opts) == ["dis", "gen"]
    for opt in opts.values():
        group = opt.param_groups[0]
        assert isinstance(opt, torch.optim.Adam)
        assert (group["lr"], group["betas"], group["weight_decay"]) == (2e-4, (0.5, 0.999), 5e-4)
    assert {id(p) for p in opts["gen"].param_groups[0]["params"]} == {id(p) for p in model.gen.parameters()}


def test_training_step_checks_the_pair_of_the_dataset() -> None:
    step = _step(CoGAN(CoGANConfig(**TINY, pair="edges")))
    step.check_dataset(load_dataset("mnist-edges", split="test"))
    with pytest.raises(ZooError, match="pair=negative"):
        step.check_dataset(load_dataset("mnist-negative", split="test"))
    with pytest.raises(ZooError, match="unpaired"):
        step.check_dataset(load_dataset("mnist5k", split="test"))
