"""zoo-pix2pixhd against NVIDIA/pix2pixHD: key layouts, inputs, losses, the converter, the training schedule.

The key tables below are written from the reference's ``models/networks.py`` by hand (layer indices of
``GlobalGenerator.model``, ``LocalEnhancer.model1_1`` / ``model1_2`` and ``MultiscaleDiscriminator``), not
from the code under test, so a change of layout fails here.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import zipfile
from pathlib import Path
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from click.testing import CliRunner
from zoo_pix2pix.data import load_colorize
from zoo_pix2pixhd.convert import convert_nvidia, generator_config
from zoo_pix2pixhd.model import Pix2PixHD, Pix2PixHDConfig
from zoo_pix2pixhd.networks import (
    GlobalGenerator,
    LocalEnhancer,
    MultiscaleDiscriminator,
    feature_matching_loss,
    get_edges,
    multiscale_gan_loss,
    one_hot_labels,
)
from zoo_pix2pixhd.plugin import LABEL2CITY_1024P_CONFIG, LABEL2CITY_1024P_ENTRY, LABEL2CITY_1024P_PARAMS
from zoo_pix2pixhd.training import HDLinearDecay, Pix2PixHDTrainingStep

import zoo_core as zoo
from zoo_core import convert_checkpoint
from zoo_core.cli import cli
from zoo_core.layers import GANLoss
from zoo_core.training import TrainConfig

# -- the reference's layouts, by hand --------------------------------------------------------------
#: LocalEnhancer(input_nc=4, output_nc=3, ngf=4, n_downsample_global=2, n_blocks_global=1, n_local_enhancers=1,
#: n_blocks_local=1, norm instance). model: 0 pad, 1 conv7 (8), 2 IN, 3 ReLU, 4 conv s2 (16), 5, 6, 7 conv s2 (32),
#: 8, 9, 10 ResnetBlock(32) [0 pad, 1 conv, 2 IN, 3 ReLU, 4 pad, 5 conv, 6 IN], 11 convT (32->16), 12, 13,
#: 14 convT (16->8), 15, 16 (17-19 pad, conv, tanh cut off). model1_1: 0 pad, 1 conv7 (4), 2, 3, 4 conv s2 (8), 5, 6.
#: model1_2: 0 ResnetBlock(8), 1 convT (8->4), 2, 3, 4 pad, 5 conv7 (3), 6 tanh.
TINY_LOCAL = [
    ("model.1.weight", (8, 4, 7, 7)),
    ("model.1.bias", (8,)),
    ("model.4.weight", (16, 8, 3, 3)),
    ("model.4.bias", (16,)),
    ("model.7.weight", (32, 16, 3, 3)),
    ("model.7.bias", (32,)),
    ("model.10.conv_block.1.weight", (32, 32, 3, 3)),
    ("model.10.conv_block.1.bias", (32,)),
    ("model.10.conv_block.5.weight", (32, 32, 3, 3)),
    ("model.10.conv_block.5.bias", (32,)),
    ("model.11.weight", (32, 16, 3, 3)),
    ("model.11.bias", (16,)),
    ("model.14.weight", (16, 8, 3, 3)),
    ("model.14.bias", (8,)),
    ("model1_1.1.weight", (4, 4, 7, 7)),
    ("model1_1.1.bias", (4,)),
    ("model1_1.4.weight", (8, 4, 3, 3)),
    ("model1_1.4.bias", (8,)),
    ("model1_2.0.conv_block.1.weight", (8, 8, 3, 3)),
    ("model1_2.0.conv_block.1.bias", (8,)),
    ("model1_2.0.conv_block.5.weight", (8, 8, 3, 3)),
    ("model1_2.0.conv_block.5.bias", (8,)),
    ("model1_2.1.weight", (8, 4, 3, 3)),
    ("model1_2.1.bias", (4,)),
    ("model1_2.5.weight", (3, 4, 7, 7)),
    ("model1_2.5.bias", (3,)),
]
TINY_LOCAL_CONFIG = {
    **LABEL2CITY_1024P_CONFIG,
    "label_nc": 3,  # + the instance edge map: 4 channels in
    "ngf": 4,
    "n_downsample_global": 2,
    "n_blocks_global": 1,
    "n_blocks_local": 1,
}
#: GlobalGenerator(1, 3, ngf=4, n_downsampling=1, n_blocks=1, norm batch): 0 pad, 1 conv7, 2 BN, 3 ReLU, 4 conv s2,
#: 5 BN, 6 ReLU, 7 ResnetBlock(8) [1 conv, 2 BN, 5 conv, 6 BN], 8 convT, 9 BN, 10 ReLU, 11 pad, 12 conv7, 13 tanh.
BN = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")
TINY_GLOBAL_BATCH = [
    ("model.1.weight", (4, 1, 7, 7)),
    ("model.1.bias", (4,)),
    *[(f"model.2.{k}", () if k == "num_batches_tracked" else (4,)) for k in BN],
    ("model.4.weight", (8, 4, 3, 3)),
    ("model.4.bias", (8,)),
    *[(f"model.5.{k}", () if k == "num_batches_tracked" else (8,)) for k in BN],
    ("model.7.conv_block.1.weight", (8, 8, 3, 3)),
    ("model.7.conv_block.1.bias", (8,)),
    *[(f"model.7.conv_block.2.{k}", () if k == "num_batches_tracked" else (8,)) for k in BN],
    ("model.7.conv_block.5.weight", (8, 8, 3, 3)),
    ("model.7.conv_block.5.bias", (8,)),
    *[(f"model.7.conv_block.6.{k}", () if k == "num_batches_tracked" else (8,)) for k in BN],
    ("model.8.weight", (8, 4, 3, 3)),
    ("model.8.bias", (4,)),
    *[(f"model.9.{k}", () if k == "num_batches_tracked" else (4,)) for k in BN],
    ("model.12.weight", (3, 4, 7, 7)),
    ("model.12.bias", (3,)),
]


def layout(state: dict[str, torch.Tensor]) -> list[tuple[str, tuple[int, ...]]]:
    return [(k, tuple(v.shape)) for k, v in state.items()]


def test_local_enhancer_keys_are_the_references() -> None:
    g = LocalEnhancer(4, 3, ngf=4, n_downsample_global=2, n_blocks_global=1, n_local_enhancers=1, n_blocks_local=1)
    assert layout(g.state_dict()) == TINY_LOCAL
    model = Pix2PixHD(Pix2PixHDConfig(**TINY_LOCAL_CONFIG))
    assert layout(model.state_dict()) == [(f"netG.{k}", s) for k, s in TINY_LOCAL]  # generator only


def test_global_generator_keys_are_the_references_with_batch_norm() -> None:
    g = GlobalGenerator(1, 3, ngf=4, n_downsampling=1, n_blocks=1, norm="batch")
    assert layout(g.state_dict()) == TINY_GLOBAL_BATCH


def test_label2city_1024p_config_builds_the_published_generator() -> None:
    with torch.device("meta"):
        model = Pix2PixHD(Pix2PixHDConfig(**LABEL2CITY_1024P_CONFIG))
    state = model.state_dict()
    assert model.num_parameters() == LABEL2CITY_1024P_PARAMS == LABEL2CITY_1024P_ENTRY["num_params"]
    assert len(state) == 74  # (1 + 4 + 2 x 9 + 4) global + 2 enhancer-down + (2 x 3 + 2) enhancer-up layers, x 2
    assert state["netG.model.1.weight"].shape == (64, 36, 7, 7)  # 35 labels + the edge map, ngf 32 x 2
    assert state["netG.model.16.conv_block.1.weight"].shape == (1024, 1024, 3, 3)  # 4 downsamplings: 64 x 16
    assert state["netG.model.34.weight"].shape == (128, 64, 3, 3)  # the last transposed conv kept; 37-39 cut
    assert "netG.model.38.weight" not in state
    assert state["netG.model1_1.1.weight"].shape == (32, 36, 7, 7)
    assert state["netG.model1_2.7.weight"].shape == (3, 32, 7, 7)


@pytest.mark.parametrize("interm", [True, False])
def test_multiscale_discriminator_keys_are_the_references(interm: bool) -> None:
    d = MultiscaleDiscriminator(7, ndf=4, n_layers=2, norm="instance", num_D=2, get_interm_feat=interm)
    if interm:  # NLayerDiscriminator groups: [conv, lrelu], [conv, IN, lrelu], [conv s1, IN, lrelu], [conv]
        shapes = [(4, 7, 4, 4), (8, 4, 4, 4), (16, 8, 4, 4), (1, 16, 4, 4)]
        want = [(f"scale{i}_layer{j}.0.{p}", s if p == "weight" else s[:1]) for i in range(2) for j, s in
                enumerate(shapes) for p in ("weight", "bias")]  # fmt: skip
    else:  # one flat Sequential: 0 conv, 1 lrelu, 2 conv, 3 IN, 4 lrelu, 5 conv, 6 IN, 7 lrelu, 8 conv
        shapes = [(0, (4, 7, 4, 4)), (2, (8, 4, 4, 4)), (5, (16, 8, 4, 4)), (8, (1, 16, 4, 4))]
        want = [(f"layer{i}.{n}.{p}", s if p == "weight" else s[:1]) for i in range(2) for n, s in shapes
                for p in ("weight", "bias")]  # fmt: skip
    assert layout(d.state_dict()) == want
    outputs = d(torch.zeros(1, 7, 64, 64))
    assert [len(o) for o in outputs] == ([4, 4] if interm else [1, 1])
    assert [tuple(o[-1].shape) for o in outputs] == [(1, 1, 19, 19), (1, 1, 11, 11)]  # full resolution first


def test_init_is_the_references_weights_init() -> None:
    torch.manual_seed(0)
    g = GlobalGenerator(3, 3, ngf=16, n_downsampling=2, n_blocks=2, norm="batch")
    weights = torch.cat([m.weight.detach().flatten() for m in g.modules() if isinstance(m, (torch.nn.Conv2d,
                        torch.nn.ConvTranspose2d))])  # fmt: skip
    assert abs(float(weights.std()) - 0.02) < 0.001 and abs(float(weights.mean())) < 0.001
    bn = [m for m in g.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert all(float(m.bias.detach().abs().max()) == 0 for m in bn)
    assert abs(float(torch.cat([m.weight.detach() for m in bn]).mean()) - 1) < 0.01
    assert float(g.model[1].bias.detach().abs().max()) > 0  # conv biases keep PyTorch's init, as the reference


# -- inputs -------------------------------------------------------------------------------------------
def test_get_edges_on_a_hand_made_instance_map() -> None:
    instances = torch.tensor(
        [
            [1, 1, 1, 2, 2],
            [1, 1, 1, 2, 2],
            [3, 3, 1, 2, 2],
            [3, 3, 3, 3, 3],
        ]
    )[None, None]
    expected = torch.tensor(
        [
            [0, 0, 1, 1, 0],  # 1|2 border
            [1, 1, 1, 1, 0],  # above the 3s, and the 1|2 border
            [1, 1, 1, 1, 1],
            [0, 0, 1, 1, 1],  # below the 1 and the 2s
        ],
        dtype=torch.float32,
    )[None, None]
    assert torch.equal(get_edges(instances), expected)
    assert torch.equal(get_edges(torch.full((2, 1, 3, 3), 7)), torch.zeros(2, 1, 3, 3))


def test_one_hot_labels_and_bad_ids() -> None:
    labels = torch.tensor([[[[0, 2], [1, 2]]]])
    hot = one_hot_labels(labels, 3)
    assert hot.shape == (1, 3, 2, 2) and torch.equal(hot.argmax(1, keepdim=True), labels)
    assert torch.equal(hot.sum(1), torch.ones(1, 2, 2))
    with pytest.raises(zoo.ZooError, match=r"holds ids from 0 to 2, but this pix2pixHD model knows 2 labels"):
        one_hot_labels(labels, 2)


def test_label_model_input_is_one_hot_and_edges() -> None:
    model = Pix2PixHD(Pix2PixHDConfig(**TINY_LOCAL_CONFIG))
    labels = torch.zeros(1, 1, 4, 4)
    labels[..., :, 2:] = 2
    inst = torch.zeros(1, 1, 4, 4, dtype=torch.int64)
    inst[..., 2:, :] = 5
    a = model.network_input(labels / 255, inst)
    assert a.shape == (1, 4, 4, 4)
    assert torch.equal(a[:, :3], one_hot_labels(labels, 3))
    assert torch.equal(a[:, 3:], get_edges(inst))  # the instance map's boundaries, not the label map's
    assert torch.equal(model.network_input(labels / 255)[:, 3:], get_edges(labels))  # without one: the labels'
    big = torch.randint(0, 3, (1, 1, 40, 70)) / 255  # any size: padded to 16 and cropped back
    out = model.translate(big, instances=torch.zeros(1, 40, 70))
    assert out.shape == (1, 3, 40, 70) and float(out.min()) >= 0 and float(out.max()) <= 1


def test_local_enhancer_forward_shapes_and_pyramid() -> None:
    g = LocalEnhancer(4, 3, ngf=4, n_downsample_global=2, n_blocks_global=1, n_local_enhancers=1, n_blocks_local=1)
    seen: dict[str, tuple[int, ...]] = {}
    g.model.register_forward_hook(lambda m, i, o: seen.update(global_in=tuple(i[0].shape), global_out=tuple(o.shape)))
    g.model1_1.register_forward_hook(lambda m, i, o: seen.update(local_down=tuple(o.shape)))
    x = torch.rand(2, 4, 64, 96)
    y = g(x)
    assert y.shape == (2, 3, 64, 96) and float(y.detach().abs().max()) <= 1
    assert seen == {"global_in": (2, 4, 32, 48), "global_out": (2, 8, 32, 48), "local_down": (2, 8, 32, 48)}
    assert torch.allclose(g.downsample(x), F.avg_pool2d(x, 3, 2, 1, count_include_pad=False))
    with torch.no_grad():  # forward = model1_2(model1_1(x) + model(avgpool(x))), as the reference's
        by_hand = g.model1_2(g.model1_1(x) + g.model(F.avg_pool2d(x, 3, 2, 1, count_include_pad=False)))
    assert torch.allclose(y.detach(), by_hand, atol=1e-6)


def test_bad_configs_and_inputs_are_one_sentence() -> None:
    with pytest.raises(zoo.ZooError, match="pass --config no_instance=true"):
        Pix2PixHD(Pix2PixHDConfig(label_nc=0, ngf=2))
    with pytest.raises(zoo.ZooError, match="Unknown pix2pixHD netG 'encoder'"):
        Pix2PixHD(Pix2PixHDConfig(netG="encoder"))
    with pytest.raises(zoo.ZooError, match="multiples of 32, so image_size 48"):
        Pix2PixHD(Pix2PixHDConfig(netG="local", ngf=2, image_size=48))
    with pytest.raises(zoo.ZooError, match="needs label_nc=0, input_nc=1 and output_nc=2"):
        Pix2PixHD(Pix2PixHDConfig(label_nc=0, no_instance=True, color_space="lab", ngf=2))
    grey = Pix2PixHD(Pix2PixHDConfig(**{**TINY_LOCAL_CONFIG, "label_nc": 0, "input_nc": 1, "no_instance": True}))
    with pytest.raises(zoo.ZooError, match="at least 16x16"):
        grey.translate(torch.rand(1, 1, 8, 40))
    with pytest.raises(zoo.ZooError, match="takes no instance map"):
        grey.translate(torch.rand(1, 1, 32, 32), instances=torch.zeros(1, 1, 32, 32))
    assert grey.translate(torch.rand(1, 3, 50, 33)).shape == (1, 3, 50, 33)  # RGB in: its luma


# -- losses --------------------------------------------------------------------------------------------
def test_feature_matching_loss_value() -> None:
    # two scales, n_layers_D 1: weights 1/num_D = 0.5 and 4 / (1 + 1) = 2; the logits (last) never count
    fake = [
        [torch.ones(1, 2, 2, 2), torch.full((1, 1, 1, 1), 9.0)],
        [torch.full((1, 1, 2, 2), 3.0), torch.full((1, 1, 1, 1), -9.0)],
    ]
    real = [
        [torch.zeros(1, 2, 2, 2, requires_grad=True), torch.zeros(1, 1, 1, 1)],
        [torch.ones(1, 1, 2, 2), torch.zeros(1, 1, 1, 1)],
    ]
    loss = feature_matching_loss(fake, real, n_layers_D=1, lambda_feat=10.0)
    assert float(loss) == pytest.approx(10 * (0.5 * 2 * 1 + 0.5 * 2 * 2))
    assert not loss.requires_grad  # the real features are detached; nothing of the fake here needs a gradient
    fake[0][0].requires_grad_(True)
    feature_matching_loss(fake, real, n_layers_D=1).backward()
    assert real[0][0].grad is None and fake[0][0].grad is not None


def test_multiscale_gan_loss_sums_the_scales() -> None:
    preds = [[torch.zeros(1, 4, 3, 3), torch.ones(1, 1, 4, 4)], [torch.full((1, 1, 2, 2), 0.5)]]
    assert float(multiscale_gan_loss(GANLoss("lsgan"), preds, True)) == pytest.approx(0 + 0.25)
    assert float(multiscale_gan_loss(GANLoss("lsgan"), preds, False)) == pytest.approx(1 + 0.25)
    bce = multiscale_gan_loss(GANLoss("vanilla"), [[torch.zeros(1, 1, 2, 2)]] * 2, True)
    assert float(bce) == pytest.approx(2 * 0.693147, abs=1e-5)


def test_learning_rate_schedule_is_update_learning_rate() -> None:
    rule = HDLinearDecay(niter=3, niter_decay=4)
    # train.py: after each epoch k > niter, lr -= lr0 / niter_decay: epochs 1-4 at lr0, 5 at 3/4, 6 at 1/2, 7 at 1/4
    assert [rule(e) for e in range(7)] == [1, 1, 1, 1, 0.75, 0.5, 0.25]


# -- the training step -----------------------------------------------------------------------------------
GREY_LOCAL = {
    "netG": "local",
    "label_nc": 0,
    "input_nc": 1,
    "no_instance": True,
    "ngf": 4,
    "n_downsample_global": 2,
    "n_blocks_global": 1,
    "n_blocks_local": 1,
    "ndf": 4,
    "n_layers_D": 2,
    "num_D": 2,
    "image_size": 32,
}


def make_step(tmp_path: Path, **step_config: Any) -> Pix2PixHDTrainingStep:
    cfg = TrainConfig("pix2pixhd", "photos-colorize", str(tmp_path), step_config=step_config)
    step = Pix2PixHDTrainingStep(zoo.create("pix2pixhd", **GREY_LOCAL), cfg)
    step.nets, step.global_batch_size = step.networks(), 1
    step.opts = step.optimizers()
    step.scheds = step.schedulers()
    return step


def colour_batch() -> dict[str, torch.Tensor]:
    pair = load_colorize("train", crop_size=32, crops_per_epoch=1)[0]
    return {"image": pair["image"][None], "target": pair["target"][None]}


def test_one_step_updates_g_then_d_with_the_references_losses(tmp_path: Path) -> None:
    torch.manual_seed(0)
    step = make_step(tmp_path)
    assert {n: (o.defaults["lr"], o.defaults["betas"]) for n, o in step.opts.items()} == {
        "G": (2e-4, (0.5, 0.999)),
        "D": (2e-4, (0.5, 0.999)),
    }
    assert step.criterion.gan_mode == "lsgan" and step.vgg is None
    assert "no VGG loss" in step.recipe and "10 x D feature matching" in step.recipe
    before = {k: v.clone() for k, v in step.model.state_dict().items()}
    values = step.train_step(colour_batch(), 0)
    assert set(values) == {"G_GAN", "G_GAN_Feat", "D_real", "D_fake"}
    assert all(torch.isfinite(v) for v in values.values())
    for net in ("netG.model.", "netG.model1_", "netD."):
        assert any(not torch.equal(v, before[k]) for k, v in step.model.state_dict().items() if k.startswith(net))


def test_niter_fix_global_trains_the_enhancer_alone_then_everything(tmp_path: Path) -> None:
    torch.manual_seed(0)
    step = make_step(tmp_path, niter_fix_global=1)
    g = step.model.netG
    fixed = {id(p) for p in step.fixed_parameters()}
    assert fixed == {id(p) for p in g.model.parameters()}  # model.* (the global generator), not model1_*
    before = {k: v.clone() for k, v in g.state_dict().items()}
    step.train_step(colour_batch(), 0)  # epoch 0 (from 0): the global generator frozen
    after = g.state_dict()
    assert all(torch.equal(after[k], before[k]) for k in before if k.startswith("model."))
    assert all(not torch.equal(after[k], before[k]) for k in before if k.startswith("model1_"))
    assert all(not p.requires_grad for p in g.model.parameters()) and step.global_fixed
    assert all(id(p) not in fixed for p in step.opts["G"].state)  # Adam holds no state for frozen ones
    for scheduler in step.scheds.values():
        scheduler.step()  # the end of epoch 1 = niter_fix_global: update_fixed_params
    snapshot = {k: v.clone() for k, v in g.state_dict().items()}
    step.train_step(colour_batch(), 1)
    assert not step.global_fixed and all(p.requires_grad for p in g.parameters())
    assert all(not torch.equal(g.state_dict()[k], snapshot[k]) for k in snapshot if k.startswith("model."))
    assert all(int(state["step"]) == 1 for state in step.opts["G"].state.values())  # a fresh Adam, as the reference
    assert step.extra_state() == {"global_fixed": False}
    resumed = make_step(tmp_path, niter_fix_global=1)  # a resumed run: frozen until its saved state says otherwise
    assert not any(p.requires_grad for p in resumed.model.netG.model.parameters())
    resumed.load_extra_state(step.extra_state())
    assert all(p.requires_grad for p in resumed.model.netG.parameters()) and not resumed.global_fixed


def test_the_step_refuses_what_it_cannot_train(tmp_path: Path) -> None:
    cfg = TrainConfig("pix2pixhd", "photos-colorize", str(tmp_path))
    with pytest.raises(zoo.ZooError, match="label-map data set"):
        Pix2PixHDTrainingStep(zoo.create("pix2pixhd", **{**TINY_LOCAL_CONFIG, "with_discriminator": True}), cfg)
    with pytest.raises(zoo.ZooError, match="generator only"):
        Pix2PixHDTrainingStep(zoo.create("pix2pixhd", **{**GREY_LOCAL, "with_discriminator": False}), cfg)
    with pytest.raises(zoo.ZooError, match="train it in one process"):
        Pix2PixHDTrainingStep(zoo.create("pix2pixhd", **GREY_LOCAL), cfg, world_size=2)
    fix = TrainConfig("pix2pixhd", "photos-colorize", str(tmp_path), step_config={"niter_fix_global": 2})
    with pytest.raises(zoo.ZooError, match="it needs --config netG=local"):
        Pix2PixHDTrainingStep(zoo.create("pix2pixhd", **{**GREY_LOCAL, "netG": "global"}), fix)
    vgg = TrainConfig("pix2pixhd", "photos-colorize", str(tmp_path), step_config={"vgg_weights": "/no/vgg19.pth"})
    with pytest.raises(zoo.ZooError, match=r"No VGG19 weights at /no/vgg19\.pth"):
        Pix2PixHDTrainingStep(zoo.create("pix2pixhd", **GREY_LOCAL), vgg)


def test_vgg_loss_is_the_references_five_slices(tmp_path: Path) -> None:
    from torchvision.models import vgg19
    from zoo_pix2pixhd.training import VGGLoss, load_vgg19_features

    with torch.device("meta"):
        features = vgg19().features
    loss = VGGLoss(features)
    assert [len(s) for s in loss.slices] == [2, 5, 5, 9, 9]  # up to relu1_1, relu2_1, relu3_1, relu4_1, relu5_1
    assert all(isinstance(s[-1], torch.nn.ReLU) for s in loss.slices)
    pools = [sum(isinstance(m, torch.nn.MaxPool2d) for m in s) for s in loss.slices]
    assert pools == [0, 1, 1, 1, 1]  # relu1_1, then one block down each: relu2_1 ... relu5_1
    assert loss.weights == (1 / 32, 1 / 16, 1 / 8, 1 / 4, 1) and not any(p.requires_grad for p in loss.parameters())
    fake = tmp_path / "vgg19-dcbb9e9d.pth"
    torch.save({"features.0.weight": torch.zeros(1)}, fake)
    with pytest.raises(zoo.ZooError, match=r"is not torchvision's ImageNet VGG19 \(its sha256 starts"):
        load_vgg19_features(str(fake))


def test_the_vgg_loss_joins_the_g_loss_when_weights_are_given(tmp_path: Path, monkeypatch) -> None:
    """With ``vgg_weights`` (here a narrow random network laid out as VGG19's features stands in for torchvision's
    file), G_VGG is logged and the recipe says so; the VGG's weights never change."""
    import zoo_pix2pixhd.training as training

    torch.manual_seed(0)
    layers: list[torch.nn.Module] = []
    channels = 3
    for item in [4, 4, "M", 4, 4, "M", 4, 4, 4, 4, "M", 4, 4, 4, 4, "M", 4, 4, 4, 4]:  # VGG19's "E" layout
        if item == "M":
            layers.append(torch.nn.MaxPool2d(2, 2))
        else:
            layers += [torch.nn.Conv2d(channels, int(item), 3, padding=1), torch.nn.ReLU(True)]
            channels = int(item)
    features = torch.nn.Sequential(*layers[:30])
    monkeypatch.setattr(training, "load_vgg19_features", lambda path: features)
    step = make_step(tmp_path, vgg_weights="vgg19-dcbb9e9d.pth")
    assert step.vgg is not None and "10 x VGG19" in step.recipe
    before = features[0].weight.clone()
    values = step.train_step(colour_batch(), 0)
    assert set(values) == {"G_GAN", "G_GAN_Feat", "G_VGG", "D_real", "D_fake"} and float(values["G_VGG"]) > 0
    assert torch.equal(features[0].weight, before)
    lab = TrainConfig("pix2pixhd", "photos-colorize", str(tmp_path), step_config={"vgg_weights": "x.pth"})
    with pytest.raises(zoo.ZooError, match="compares RGB images"):
        Pix2PixHDTrainingStep(zoo.create("pix2pixhd", **{**GREY_LOCAL, "output_nc": 2, "color_space": "lab"}), lab)


# -- the converter -----------------------------------------------------------------------------------------
def reference_state(seed: int = 3, legacy: bool = True) -> dict[str, torch.Tensor]:
    """A random generator state dict in the reference's layout (the table above), as PyTorch 0.3 saved it:
    InstanceNorm running statistics included, DataParallel's ``module.`` prefix."""
    generator = torch.Generator().manual_seed(seed)
    state = {f"module.{k}": torch.randn(s, generator=generator) for k, s in TINY_LOCAL}
    if legacy:
        state["module.model.2.running_mean"] = torch.zeros(8)
        state["module.model.2.running_var"] = torch.ones(8)
        state["module.model1_2.0.conv_block.2.running_mean"] = torch.zeros(8)
    return state


def test_generator_config_reads_the_shapes() -> None:
    state = {k.removeprefix("module."): v for k, v in reference_state(legacy=False).items()}
    assert generator_config(state) == {
        "netG": "local",
        "ngf": 4,
        "n_downsample_global": 2,
        "n_blocks_global": 1,
        "norm": "instance",
        "output_nc": 3,
        "n_local_enhancers": 1,
        "n_blocks_local": 1,
        "input_channels": 4,
    }
    batch = {k: torch.zeros(s) for k, s in TINY_GLOBAL_BATCH}
    assert generator_config(batch) == {
        "netG": "global",
        "ngf": 4,
        "n_downsample_global": 1,
        "n_blocks_global": 1,
        "norm": "batch",
        "output_nc": 3,
        "input_channels": 1,
    }


def test_zoo_convert_round_trip_of_a_reference_file(tmp_path: Path) -> None:
    path = tmp_path / "latest_net_G.pth"
    state = reference_state()
    torch.save(state, path)
    out = tmp_path / "converted"
    run = CliRunner().invoke
    refused = run(cli, ["convert", "pix2pixhd-nvidia", str(path), "-o", str(out)])
    assert refused.exit_code == 1 and not out.exists()
    wanted = "ngf=4 --config n_downsample_global=2 --config n_blocks_global=1 --config n_blocks_local=1."
    assert f"pass --config {wanted}" in refused.output
    sizes = ["ngf=4", "n_downsample_global=2", "n_blocks_global=1", "n_blocks_local=1"]
    args = ["convert", "pix2pixhd-nvidia", str(path), "-o", str(out), *[a for s in sizes for a in ("--config", s)]]
    refused = run(cli, args)
    assert "takes 4 input channels but the config gives 36" in refused.output and "label_nc=3" in refused.output
    result = run(cli, [*args, "--config", "label_nc=3"])
    assert result.exit_code == 0, result.output
    model = zoo.load(str(out))
    assert isinstance(model, Pix2PixHD) and model.netD is None
    ours = model.state_dict()
    plain = {k: v for k, v in state.items() if "running" not in k}
    assert sorted(ours) == sorted(f"netG.{k.removeprefix('module.')}" for k in plain)
    assert all(torch.equal(ours[f"netG.{k.removeprefix('module.')}"], v) for k, v in plain.items())
    labels = torch.randint(0, 3, (1, 1, 32, 64)) / 255
    assert model.translate(labels).shape == (1, 3, 32, 64)


def test_converter_refuses_what_is_not_a_generator() -> None:
    d = MultiscaleDiscriminator(7, ndf=4, n_layers=2, num_D=2, get_interm_feat=True).state_dict()
    with pytest.raises(zoo.ZooError, match=r"holds a discriminator \(latest_net_D.pth\)"):
        convert_nvidia(d, dict(LABEL2CITY_1024P_CONFIG))
    with pytest.raises(zoo.ZooError, match=r"has no 'model\.1\.weight'"):
        convert_nvidia({"conv.weight": torch.zeros(1)}, dict(LABEL2CITY_1024P_CONFIG))
    with pytest.raises(zoo.ZooError, match="with_discriminator=false"):
        convert_nvidia(reference_state(), {**LABEL2CITY_1024P_CONFIG, "with_discriminator": True})


class _RunsCode:
    """Pickles as a call of os.system (nothing here ever unpickles it with code allowed)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_malicious_checkpoint_is_refused_and_runs_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.pth"
    evil.write_bytes(pickle.dumps({"model.1.weight": _RunsCode(marker)}, protocol=2))
    buffer = io.BytesIO()  # and inside a torch.save zip, as a real checkpoint would carry it
    torch.save({"model.1.weight": torch.zeros(1)}, buffer)
    zipped = tmp_path / "evil_zip.pth"
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as src, zipfile.ZipFile(zipped, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.endswith("data.pkl"):
                data = pickle.dumps({"model.1.weight": _RunsCode(marker)}, protocol=2)
            dst.writestr(info, data)
    for path in (evil, zipped):
        with pytest.raises(zoo.ZooError) as info:
            convert_checkpoint("pix2pixhd-nvidia", path, tmp_path / "out", dict(TINY_LOCAL_CONFIG))
        message = str(info.value)
        assert "was refused" in message and "system" in message and "\n" not in message
    assert not marker.exists() and not (tmp_path / "out").exists()


def test_label2city_is_a_manual_upstream_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`zoo load` names the Drive page and where to save latest_net_G.pth; a file saved there (a small one in the
    reference layout, with the entry's config made small to match) is converted, its hash pinned, and it loads."""
    entry = zoo.info("pix2pixhd.label2city-1024p")
    assert entry.weights["manual"] is True and entry.weights["converter"] == "pix2pixhd-nvidia"
    assert entry.weights["format"] == "pickle" and entry.weights["sha256"] is None
    result = CliRunner().invoke(cli, ["load", "pix2pixhd.label2city-1024p"])
    assert result.exit_code == 1 and "cannot be downloaded automatically: get latest_net_G.pth from " in result.output
    assert "drive.google.com/file/d/1h9SykUnuZul7J3Nbms2QGH1wa85nbN2-" in result.output
    target = Path(result.output.split(" and save it as ")[1].split(", then run")[0])

    small = {**LABEL2CITY_1024P_ENTRY, "config": dict(TINY_LOCAL_CONFIG), "num_params": None}
    small.pop("num_params")
    copy = tmp_path / "registry.json"
    copy.write_text(json.dumps({"version": 1, "models": {"pix2pixhd.label2city-1024p": small}}))
    monkeypatch.setenv("ZOO_REGISTRY", str(copy))
    from zoo_core._catalog import reset_catalog

    reset_catalog()
    target.parent.mkdir(parents=True, exist_ok=True)
    state = reference_state()
    torch.save(state, target)
    try:
        model = zoo.load("pix2pixhd.label2city-1024p")
        assert torch.equal(model.state_dict()["netG.model1_2.5.weight"], state["module.model1_2.5.weight"])
        assert zoo.load("pix2pixhd.label2city-1024p").translate(torch.zeros(1, 1, 32, 32)).shape == (1, 3, 32, 32)
        torch.save(reference_state(seed=4), target)  # another file where the pinned one was: refused
        with pytest.raises(zoo.ZooError, match="sha256"):
            zoo.load("pix2pixhd.label2city-1024p")
    finally:
        target.unlink(missing_ok=True)
        reset_catalog()


@pytest.mark.slow
def test_zoo_train_smoke_writes_a_model_that_colorizes(tmp_path: Path) -> None:
    """A few steps of `zoo train` on photos-colorize (lab, the local enhancer frozen for the first epoch): the run
    finishes with pix2pix.colorize's metrics, and the Hub folder loads and translates."""
    from zoo_core.training import train

    result = train(
        "pix2pixhd",
        "photos-colorize",
        tmp_path / "run",
        epochs=2,
        dataset_options={"crop_size": 32, "crops_per_epoch": 2},
        config={**GREY_LOCAL, "output_nc": 2, "color_space": "lab"},
        step_config={"niter_fix_global": 1},
        progress=False,
        verbose=False,
    )
    assert result.step == 4 and {m["name"] for m in result.metrics} == {"l1", "psnr", "ssim"}
    model = zoo.load(str(result.model_dir))
    assert isinstance(model, Pix2PixHD) and model.translate(torch.rand(1, 1, 50, 40)).shape == (1, 3, 50, 40)
    entry = json.loads((tmp_path / "run" / "zoo-entry.json").read_text())["entry"]
    notes = entry["made_by"]["notes"]
    assert "no VGG loss" in notes and "the local enhancer alone for 1 epochs" in notes
    assert "without the VGG loss" in entry["description"]


def test_zoo_translate_reads_a_label_png(tmp_path: Path) -> None:
    """`zoo translate` on an 8-bit labelIds PNG: the ids come back as ``round(255 x)``, one-hot, with their edges;
    a photo instead of a label map (ids above label_nc) fails in one sentence."""
    import numpy as np
    from PIL import Image

    torch.manual_seed(0)
    model = Pix2PixHD(Pix2PixHDConfig(**TINY_LOCAL_CONFIG))
    model.save_pretrained(tmp_path / "tiny")
    ids = np.zeros((40, 70), np.uint8)
    ids[:, 30:], ids[20:, :10] = 2, 1
    Image.fromarray(ids).save(tmp_path / "labels.png")
    result = CliRunner().invoke(cli, ["translate", str(tmp_path / "tiny"), str(tmp_path / "labels.png"), "-o",
                                      str(tmp_path / "city.png")])  # fmt: skip
    assert result.exit_code == 0, result.output
    written = torch.from_numpy(np.array(Image.open(tmp_path / "city.png"))).permute(2, 0, 1).float() / 255
    expected = model.translate(torch.from_numpy(ids)[None, None].float() / 255)[0]
    assert written.shape == (3, 40, 70) and float((written - expected).abs().max()) <= 1 / 255 + 1e-6
    Image.fromarray(np.full((40, 70), 200, np.uint8)).save(tmp_path / "photo.png")
    result = CliRunner().invoke(cli, ["translate", str(tmp_path / "tiny"), str(tmp_path / "photo.png"), "-o",
                                      str(tmp_path / "bad.png")])  # fmt: skip
    assert result.exit_code == 1 and "knows 3 labels (0 to 2); pass a label map of its label set" in result.output
