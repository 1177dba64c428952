"""zoo_core.layers: the pix2pix / CycleGAN building blocks against junyanz's documented structure.

The expected state-dict tables below are written by hand from the reference's layer lists
(``models/networks.py``; the key structure in ``shared/references/architectures.md``), not
derived from our modules, so a module that numbers its layers differently fails to load them.
"""

from __future__ import annotations

import json
import random

import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save
from torch import nn

from zoo_core import ZooError
from zoo_core.layers import (
    GANLoss,
    ImagePool,
    LinearDecay,
    NLayerDiscriminator,
    PixelDiscriminator,
    ResnetGenerator,
    UnetGenerator,
    define_discriminator,
    define_generator,
    get_norm_layer,
    gradient_penalty,
    init_weights,
    legacy_instance_norm_keys,
    linear_decay_scheduler,
    norm_uses_bias,
    patch_instance_norm_state_dict,
)
from zoo_core.training.checkpoint import decode, encode

Shapes = dict[str, tuple[int, ...]]
BN_BUFFERS = ("weight", "bias", "running_mean", "running_var")


# -- the reference's key layouts, enumerated by hand ---------------------------------------
def resnet_9blocks_instance_keys(ngf: int = 64, in_nc: int = 3, out_nc: int = 3) -> Shapes:
    """resnet_9blocks / instance: 0 pad, 1 conv7, 2 IN, 3 ReLU, 4 conv s2, 5 IN, 6 ReLU, 7 conv s2,
    8 IN, 9 ReLU, 10-18 ResnetBlock [0 pad, 1 conv, 2 IN, 3 ReLU, 4 pad, 5 conv, 6 IN],
    19 convT, 20 IN, 21 ReLU, 22 convT, 23 IN, 24 ReLU, 25 pad, 26 conv7, 27 Tanh. InstanceNorm:
    every conv has a bias; ConvTranspose2d weights are (in, out, k, k)."""
    keys: Shapes = {
        "model.1.weight": (ngf, in_nc, 7, 7),
        "model.1.bias": (ngf,),
        "model.4.weight": (2 * ngf, ngf, 3, 3),
        "model.4.bias": (2 * ngf,),
        "model.7.weight": (4 * ngf, 2 * ngf, 3, 3),
        "model.7.bias": (4 * ngf,),
    }
    for block in range(10, 19):
        for conv in (1, 5):
            keys[f"model.{block}.conv_block.{conv}.weight"] = (4 * ngf, 4 * ngf, 3, 3)
            keys[f"model.{block}.conv_block.{conv}.bias"] = (4 * ngf,)
    keys.update(
        {
            "model.19.weight": (4 * ngf, 2 * ngf, 3, 3),
            "model.19.bias": (2 * ngf,),
            "model.22.weight": (2 * ngf, ngf, 3, 3),
            "model.22.bias": (ngf,),
            "model.26.weight": (out_nc, ngf, 7, 7),
            "model.26.bias": (out_nc,),
        }
    )
    return keys


#: InstanceNorm layers of resnet_9blocks (where legacy checkpoints carry running stats) and their widths
RESNET_9_INSTANCE_NORMS = {
    "model.2": 1,
    "model.5": 2,
    "model.8": 4,
    **{f"model.{b}.conv_block.{i}": 4 for b in range(10, 19) for i in (2, 6)},
    "model.20": 2,
    "model.23": 1,
}


def unet_batch_keys(n_512_levels: int, ngf: int = 64, in_nc: int = 3, out_nc: int = 3) -> Shapes:
    """unet_256 / batch (n_512_levels = 3; unet_128: 2). Levels from the outside in, (outer_nc, inner_nc):
    outermost (out_nc, ngf) with input in_nc, then (ngf, 2ngf), (2ngf, 4ngf), (4ngf, 8ngf),
    n_512_levels x (8ngf, 8ngf), innermost (8ngf, 8ngf). Layers of a block: outermost
    [0 conv, 1 sub, 2 ReLU, 3 convT (bias), 4 Tanh]; middle [0 LReLU, 1 conv, 2 BN, 3 sub,
    4 ReLU, 5 convT, 6 BN]; innermost [0 LReLU, 1 conv, 2 ReLU, 3 convT, 4 BN]. BatchNorm: no
    conv bias except the outermost convT. The submodule is child 1 of the outermost, 3 of a middle block."""
    levels = [(ngf, 2 * ngf), (2 * ngf, 4 * ngf), (4 * ngf, 8 * ngf)] + [(8 * ngf, 8 * ngf)] * n_512_levels
    keys: Shapes = {
        "model.model.0.weight": (ngf, in_nc, 4, 4),
        "model.model.3.weight": (2 * ngf, out_nc, 4, 4),
        "model.model.3.bias": (out_nc,),
    }
    prefix = "model.model.1.model."
    for outer, inner in levels:
        keys[prefix + "1.weight"] = (inner, outer, 4, 4)
        keys.update({prefix + f"2.{b}": (inner,) for b in BN_BUFFERS})
        keys[prefix + "2.num_batches_tracked"] = ()
        keys[prefix + "5.weight"] = (2 * inner, outer, 4, 4)
        keys.update({prefix + f"6.{b}": (outer,) for b in BN_BUFFERS})
        keys[prefix + "6.num_batches_tracked"] = ()
        prefix += "3.model."
    keys[prefix + "1.weight"] = (8 * ngf, 8 * ngf, 4, 4)
    keys[prefix + "3.weight"] = (8 * ngf, 8 * ngf, 4, 4)
    keys.update({prefix + f"4.{b}": (8 * ngf,) for b in BN_BUFFERS})
    keys[prefix + "4.num_batches_tracked"] = ()
    return keys


def nlayer_basic_keys(norm: str, ndf: int = 64, in_nc: int = 3) -> Shapes:
    """basic (n_layers 3): 0 conv s2 (bias), 1 LReLU, 2 conv s2, 3 norm, 4 LReLU, 5 conv s2, 6 norm,
    7 LReLU, 8 conv s1, 9 norm, 10 LReLU, 11 conv s1 -> 1 (bias)."""
    keys: Shapes = {"model.0.weight": (ndf, in_nc, 4, 4), "model.0.bias": (ndf,)}
    for conv, c_in, c_out in ((2, ndf, 2 * ndf), (5, 2 * ndf, 4 * ndf), (8, 4 * ndf, 8 * ndf)):
        keys[f"model.{conv}.weight"] = (c_out, c_in, 4, 4)
        if norm == "batch":
            keys.update({f"model.{conv + 1}.{b}": (c_out,) for b in BN_BUFFERS})
            keys[f"model.{conv + 1}.num_batches_tracked"] = ()
        else:  # instance: a bias, and no norm keys
            keys[f"model.{conv}.bias"] = (c_out,)
    keys.update({"model.11.weight": (1, 8 * ndf, 4, 4), "model.11.bias": (1,)})
    return keys


def random_state(shapes: Shapes, seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    state = {}
    for key, shape in shapes.items():
        if key.endswith("num_batches_tracked"):
            state[key] = torch.tensor(7)
        elif key.endswith("running_var"):
            state[key] = torch.rand(shape, generator=g) + 0.5
        else:
            state[key] = torch.randn(shape, generator=g) * 0.1
    return state


def n_params(shapes: Shapes) -> int:
    total = 0
    for key, shape in shapes.items():
        if key.rsplit(".", 1)[1] in ("weight", "bias"):
            total += torch.Size(shape).numel()
    return total


def load_on_meta(build, state: dict[str, torch.Tensor]) -> nn.Module:
    """Build on the meta device (no init cost) and assign ``state`` strictly, as zoo's loader does."""
    with torch.device("meta"):
        net = build()
    net.load_state_dict(state, strict=True, assign=True)
    return net


# -- official key layouts load strictly; parameter counts -----------------------------------
def test_resnet_9blocks_instance_official_layout():
    shapes = resnet_9blocks_instance_keys()
    assert len(shapes) == 48 and n_params(shapes) == 11_378_179  # the documented numbers
    net = load_on_meta(lambda: ResnetGenerator(3, 3, 64, norm="instance", n_blocks=9), random_state(shapes))
    assert sum(p.numel() for p in net.parameters()) == 11_378_179
    assert {k: tuple(v.shape) for k, v in net.state_dict().items()} == shapes


def test_resnet_dropout_shifts_the_second_conv():
    net = ResnetGenerator(3, 3, 8, norm="instance", n_blocks=6, use_dropout=True)
    keys = set(net.state_dict())
    assert "model.10.conv_block.6.weight" in keys and "model.10.conv_block.5.weight" not in keys
    assert isinstance(net.model[10].conv_block[4], nn.Dropout)
    assert len(net.model) == 10 + 6 + 9 and isinstance(net.model[23], nn.Conv2d)  # head after 6 blocks


def test_unet_256_batch_official_layout():
    shapes = unet_batch_keys(3)
    assert len(shapes) == 82
    assert round(n_params(shapes) / 1e6, 2) == 54.41
    for dropout in (False, True):  # dropout adds no keys
        net = load_on_meta(
            lambda d=dropout: UnetGenerator(3, 3, 8, 64, norm="batch", use_dropout=d), random_state(shapes)
        )
        assert sum(p.numel() for p in net.parameters()) == n_params(shapes) == 54_413_955
    assert "model.model.1.model.1.weight" in shapes and "model.model.1.model.2.running_mean" in shapes


def test_unet_128_batch_official_layout():
    shapes = unet_batch_keys(2)
    net = load_on_meta(lambda: define_generator("unet_128", 3, 3, norm="batch", init_type=None), random_state(shapes))
    assert len(net.state_dict()) == len(shapes) == 70
    assert sum(p.numel() for p in net.parameters()) == n_params(shapes) == 41_828_995


@pytest.mark.parametrize("norm", ["batch", "instance"])
def test_nlayer_basic_official_layout(norm):
    shapes = nlayer_basic_keys(norm)
    net = load_on_meta(lambda: define_discriminator("basic", 3, norm=norm, init_type=None), random_state(shapes))
    assert {k: tuple(v.shape) for k, v in net.state_dict().items()} == shapes
    expected = {"batch": 2_765_633, "instance": 2_764_737}[norm]  # the reference prints 2.765 M for basic/batch
    assert sum(p.numel() for p in net.parameters()) == n_params(shapes) == expected


def test_a_wrong_layout_is_refused():
    shapes = resnet_9blocks_instance_keys()
    state = random_state(shapes)
    state["model.11.conv_block.1.weight"] = state.pop("model.10.conv_block.1.weight")  # wrong place
    with pytest.raises(RuntimeError):
        load_on_meta(lambda: ResnetGenerator(3, 3, 64, norm="instance", n_blocks=9), state)
    with pytest.raises(RuntimeError, match="Missing key"):  # batch norm expects running stats, no conv biases
        load_on_meta(lambda: ResnetGenerator(3, 3, 64, norm="batch", n_blocks=9), random_state(shapes))
    with pytest.raises(RuntimeError, match="size mismatch"):
        load_on_meta(lambda: ResnetGenerator(3, 3, 32, norm="instance", n_blocks=9), random_state(shapes))


def test_pixel_discriminator_layout():
    net = PixelDiscriminator(3, ndf=64, norm="batch")
    shapes = {k: tuple(v.shape) for k, v in net.state_dict().items() if "running" not in k and "num_b" not in k}
    assert shapes == {
        "net.0.weight": (64, 3, 1, 1),
        "net.0.bias": (64,),
        "net.2.weight": (128, 64, 1, 1),
        "net.3.weight": (128,),
        "net.3.bias": (128,),
        "net.5.weight": (1, 128, 1, 1),
    }
    assert net(torch.randn(2, 3, 5, 7)).shape == (2, 1, 5, 7)


# -- the legacy InstanceNorm keys -----------------------------------------------------------
def test_legacy_instance_norm_checkpoint_loads_after_the_patch():
    shapes = resnet_9blocks_instance_keys(ngf=8)
    state = random_state(shapes)
    legacy = {}
    for path, mult in RESNET_9_INSTANCE_NORMS.items():
        legacy[f"{path}.running_mean"] = torch.zeros(8 * mult)
        legacy[f"{path}.running_var"] = torch.ones(8 * mult)
        legacy[f"{path}.num_batches_tracked"] = torch.tensor(100)
    old = {**state, **legacy}
    net = ResnetGenerator(3, 3, 8, norm="instance", n_blocks=9)
    with pytest.raises(RuntimeError, match="Unexpected key"):
        net.load_state_dict(old, strict=True)
    assert sorted(legacy_instance_norm_keys(old, net)) == sorted(legacy)
    patched = patch_instance_norm_state_dict(old, net)
    assert len(old) == 48 + 3 * 23  # the input is left alone
    net.load_state_dict(patched, strict=True)
    assert torch.equal(net.model[26].weight, state["model.26.weight"])


def test_legacy_patch_keeps_everything_else():
    net = UnetGenerator(3, 3, 5, ngf=4, norm="batch")
    state = net.state_dict()
    # BatchNorm running stats are real state, and an unknown key must still reach the strict load
    extra = {**state, "model.model.9.running_mean": torch.zeros(3)}
    assert legacy_instance_norm_keys(extra, net) == []
    assert patch_instance_norm_state_dict(extra, net).keys() == extra.keys()
    with pytest.raises(RuntimeError, match="Unexpected key"):
        net.load_state_dict(patch_instance_norm_state_dict(extra, net), strict=True)
    # an InstanceNorm that tracks statistics owns its buffers: nothing of it is dropped
    tracking = nn.Sequential(nn.Conv2d(3, 4, 1), nn.InstanceNorm2d(4, track_running_stats=True))
    assert legacy_instance_norm_keys(tracking.state_dict(), tracking) == []
    plain = nn.Sequential(nn.Conv2d(3, 4, 1), nn.InstanceNorm2d(4))
    assert legacy_instance_norm_keys(tracking.state_dict(), plain) == [
        "1.running_mean",
        "1.running_var",
        "1.num_batches_tracked",
    ]


# -- same weights, same outputs as the documented layer lists -------------------------------
class _Residual(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.conv_block = nn.Sequential(
            nn.ReflectionPad2d(1),
            nn.Conv2d(dim, dim, 3),
            nn.InstanceNorm2d(dim),
            nn.ReLU(),
            nn.ReflectionPad2d(1),
            nn.Conv2d(dim, dim, 3),
            nn.InstanceNorm2d(dim),
        )

    def forward(self, x):
        return x + self.conv_block(x)


def hand_built_resnet(ngf: int, n_blocks: int) -> nn.Sequential:
    """resnet_Nblocks / instance straight from the documented layer list."""
    return nn.Sequential(
        nn.ReflectionPad2d(3),
        nn.Conv2d(3, ngf, 7),
        nn.InstanceNorm2d(ngf),
        nn.ReLU(),
        nn.Conv2d(ngf, 2 * ngf, 3, stride=2, padding=1),
        nn.InstanceNorm2d(2 * ngf),
        nn.ReLU(),
        nn.Conv2d(2 * ngf, 4 * ngf, 3, stride=2, padding=1),
        nn.InstanceNorm2d(4 * ngf),
        nn.ReLU(),
        *[_Residual(4 * ngf) for _ in range(n_blocks)],
        nn.ConvTranspose2d(4 * ngf, 2 * ngf, 3, stride=2, padding=1, output_padding=1),
        nn.InstanceNorm2d(2 * ngf),
        nn.ReLU(),
        nn.ConvTranspose2d(2 * ngf, ngf, 3, stride=2, padding=1, output_padding=1),
        nn.InstanceNorm2d(ngf),
        nn.ReLU(),
        nn.ReflectionPad2d(3),
        nn.Conv2d(ngf, 3, 7),
        nn.Tanh(),
    )


def test_resnet_generator_matches_the_hand_built_reference():
    torch.manual_seed(0)
    reference = hand_built_resnet(ngf=8, n_blocks=9)
    state = random_state(resnet_9blocks_instance_keys(ngf=8), seed=1)
    reference.load_state_dict({k.removeprefix("model."): v for k, v in state.items()}, strict=True)
    ours = ResnetGenerator(3, 3, 8, norm="instance", n_blocks=9)
    ours.load_state_dict(state, strict=True)
    x = torch.randn(2, 3, 36, 44)
    with torch.no_grad():
        expected, got = reference(x), ours(x)
    assert got.shape == (2, 3, 36, 44)
    assert torch.equal(got, expected)
    assert expected.abs().max() > 0.05  # not a degenerate all-zero comparison


def functional_unet(x: torch.Tensor, s: dict[str, torch.Tensor], levels: int) -> torch.Tensor:
    """unet / batch (eval mode) as a plain recursion over the documented keys. (The reference's
    in-place LeakyReLU makes the skip carry LeakyReLU(x); the parent's up path starts with a
    ReLU, so x or LeakyReLU(x) give the same output.)"""

    def bn(h, p):
        return F.batch_norm(h, s[p + "running_mean"], s[p + "running_var"], s[p + "weight"], s[p + "bias"])

    def block(h, prefix, depth):
        h = F.leaky_relu(h, 0.2)
        down = F.conv2d(h, s[prefix + "1.weight"], stride=2, padding=1)
        if depth == levels - 1:  # innermost
            up = F.conv_transpose2d(F.relu(down), s[prefix + "3.weight"], stride=2, padding=1)
            return torch.cat([h, bn(up, prefix + "4.")], 1)
        inner = block(bn(down, prefix + "2."), prefix + "3.model.", depth + 1)
        up = F.conv_transpose2d(F.relu(inner), s[prefix + "5.weight"], stride=2, padding=1)
        return torch.cat([h, bn(up, prefix + "6.")], 1)

    down = F.conv2d(x, s["model.model.0.weight"], stride=2, padding=1)
    inner = block(down, "model.model.1.model.", 1)
    up = F.conv_transpose2d(F.relu(inner), s["model.model.3.weight"], s["model.model.3.bias"], stride=2, padding=1)
    return torch.tanh(up)


def test_unet_generator_matches_a_functional_reference():
    # unet with 6 downsamplings and ngf 4: the structure of unet_256 (one 8ngf middle level less)
    shapes = unet_batch_keys(1, ngf=4)
    state = random_state(shapes, seed=2)
    state = {k: v * 5 if k.endswith(".weight") and v.dim() == 4 else v for k, v in state.items()}
    net = UnetGenerator(3, 3, 6, ngf=4, norm="batch").eval()
    net.load_state_dict(state, strict=True)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        got = net(x)
    expected = functional_unet(x, state, levels=6)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-6)
    assert expected.std() > 0.05


def test_patchgan_receptive_field_is_70():
    net = NLayerDiscriminator(3, ndf=4, n_layers=3, norm="batch").eval()
    x = torch.randn(1, 3, 256, 256, requires_grad=True)
    out = net(x)
    assert out.shape == (1, 1, 30, 30)
    out[0, 0, 15, 15].backward()
    rows = x.grad.abs().sum(dim=(0, 1, 3)).nonzero().flatten()
    cols = x.grad.abs().sum(dim=(0, 1, 2)).nonzero().flatten()
    assert (rows.max() - rows.min() + 1, cols.max() - cols.min() + 1) == (70, 70)


# -- norms, bias rule, init -----------------------------------------------------------------
def test_norm_choice_and_bias_rule():
    bn, inorm, none = get_norm_layer("batch")(5), get_norm_layer("instance")(5), get_norm_layer("none")(5)
    assert isinstance(bn, nn.BatchNorm2d) and bn.affine and bn.track_running_stats
    assert isinstance(inorm, nn.InstanceNorm2d) and not inorm.affine and not inorm.track_running_stats
    assert list(inorm.state_dict()) == [] and isinstance(none, nn.Identity)
    assert [norm_uses_bias(get_norm_layer(n)) for n in ("batch", "instance", "none")] == [False, True, False]
    with pytest.raises(ZooError, match="instance"):
        get_norm_layer("group")
    # the rule as the networks apply it: with "none" the reference's convs have no bias either
    for norm, bias in (("batch", False), ("instance", True), ("none", False)):
        d = NLayerDiscriminator(3, ndf=4, norm=norm)
        assert (d.model[2].bias is not None) == bias
        assert d.model[0].bias is not None and d.model[11].bias is not None
    assert len(NLayerDiscriminator(3, ndf=4, norm="none").model) == 12  # Identity keeps the indices


def test_init_weights_normal():
    torch.manual_seed(0)
    net = define_generator("unet_128", 3, 3, ngf=16, norm="batch", use_dropout=True)
    convs = [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    weights = torch.cat([m.weight.detach().flatten() for m in convs])
    assert abs(float(weights.mean())) < 1e-3 and abs(float(weights.std()) - 0.02) < 1e-3
    assert all(m.bias is None or not m.bias.any() for m in convs)
    bn = torch.cat([m.weight.detach() for m in net.modules() if isinstance(m, nn.BatchNorm2d)])
    assert abs(float(bn.mean()) - 1.0) < 5e-3 and abs(float(bn.std()) - 0.02) < 5e-3
    assert not any(m.bias.any() for m in net.modules() if isinstance(m, nn.BatchNorm2d))
    torch.manual_seed(0)
    again = define_generator("unet_128", 3, 3, ngf=16, norm="batch", use_dropout=True)
    assert all(torch.equal(a, b) for a, b in zip(net.state_dict().values(), again.state_dict().values(), strict=True))


def test_init_weights_other_types():
    conv = nn.Conv2d(4, 8, 3)
    init_weights(nn.Sequential(conv), "orthogonal", 0.5)
    w = conv.weight.flatten(1)  # (8, 36): orthogonal rows scaled by the gain
    torch.testing.assert_close(w @ w.T, 0.25 * torch.eye(8), atol=1e-5, rtol=0)
    init_weights(nn.Sequential(conv), "kaiming", 0.02)  # gain ignored: std sqrt(2 / fan_in)
    assert 0.15 < float(conv.weight.detach().std()) < 0.32
    init_weights(nn.Sequential(conv), "xavier", 1.0)
    assert 0.12 < float(conv.weight.detach().std()) < 0.22  # sqrt(2 / (36 + 72)) = 0.136
    with pytest.raises(ZooError):
        init_weights(conv, "uniform")


def test_define_by_reference_names():
    assert isinstance(define_generator("resnet_6blocks", 1, 3, ngf=4, norm="instance"), ResnetGenerator)
    assert len(define_generator("resnet_6blocks", 1, 3, ngf=4).model) == 10 + 6 + 9
    assert define_discriminator("n_layers", 3, ndf=4, n_layers=5).model[-1].in_channels == 32
    assert define_discriminator("pixel", 3, ndf=4).net[0].in_channels == 3
    # one table for every plugin: resnet_<n>blocks takes any n up to 64 (as CycleGAN's), U-Nets go down to unet_32
    assert len(define_generator("resnet_12blocks", 3, 3, ngf=4).model) == 10 + 12 + 9
    assert isinstance(define_generator("unet_32", 3, 3, ngf=4), UnetGenerator)
    with pytest.raises(ZooError, match="resnet_9blocks"):
        define_generator("unet_512", 3, 3)
    with pytest.raises(ZooError, match="from 1 to 64 blocks"):
        define_generator("resnet_65blocks", 3, 3)
    with pytest.raises(ZooError, match="basic"):
        define_discriminator("patch", 3)


# -- losses ---------------------------------------------------------------------------------
def test_gan_loss_values():
    torch.manual_seed(0)
    p = torch.randn(3, 1, 6, 6)
    sig = torch.sigmoid(p.double())
    vanilla = GANLoss("vanilla")
    torch.testing.assert_close(vanilla(p, True).double(), -torch.log(sig).mean(), rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(vanilla(p, False).double(), -torch.log(1 - sig).mean(), rtol=1e-5, atol=1e-6)
    lsgan = GANLoss("lsgan")
    torch.testing.assert_close(lsgan(p, True), ((p - 1) ** 2).mean())
    torch.testing.assert_close(lsgan(p, False), (p**2).mean())
    wgan = GANLoss("wgangp")
    torch.testing.assert_close(wgan(p, True), -p.mean())
    torch.testing.assert_close(wgan(p, False), p.mean())
    smooth = GANLoss("lsgan", target_real_label=0.9, target_fake_label=0.1)
    torch.testing.assert_close(smooth(p, True), ((p - 0.9) ** 2).mean())
    torch.testing.assert_close(smooth(p, False), ((p - 0.1) ** 2).mean())
    assert smooth.get_target_tensor(p, True).shape == p.shape
    with pytest.raises(ZooError, match="lsgan"):
        GANLoss("hinge")


def test_gan_loss_labels_move_but_stay_out_of_state_dicts():
    loss = GANLoss("lsgan").to(torch.float64)
    assert loss.real_label.dtype == torch.float64 and loss.state_dict() == {}
    holder = nn.Module()
    holder.criterion = GANLoss("vanilla")
    assert list(holder.state_dict()) == []
    p = torch.zeros(2, 1, 3, 3, dtype=torch.float64, requires_grad=True)
    loss(p, True).backward()
    torch.testing.assert_close(p.grad, torch.full_like(p, -2 / p.numel()))


def test_gradient_penalty_against_direct_computation():
    real, fake = torch.randn(4, 3, 5, 5), torch.randn(4, 3, 5, 5)
    linear = nn.Sequential(nn.Flatten(), nn.Linear(75, 1))
    w = linear[1].weight
    for kind in ("real", "fake", "mixed"):  # a linear D has the gradient w everywhere
        penalty, grads = gradient_penalty(linear, real, fake, type=kind)
        torch.testing.assert_close(grads, w.detach().expand(4, 75))
        torch.testing.assert_close(penalty, 10 * (w.norm() - 1) ** 2)
    penalty.backward()  # the graph is kept: d/dw 10 (|w| - 1)^2 = 20 (|w| - 1) w / |w|
    torch.testing.assert_close(linear[1].weight.grad, (20 * (w.norm() - 1) * w / w.norm()).detach())
    assert not real.requires_grad and not fake.requires_grad  # the caller's tensors are left alone

    class Quadratic(nn.Module):  # D(x) = sum(x^2) / 2 per sample: the gradient is x itself
        def forward(self, x):
            return 0.5 * (x**2).flatten(1).sum(1)

    alpha = torch.rand(4, 1, generator=torch.Generator().manual_seed(3))
    x_hat = (alpha.view(4, 1, 1, 1) * real + (1 - alpha.view(4, 1, 1, 1)) * fake).flatten(1)
    penalty, grads = gradient_penalty(
        Quadratic(), real, fake, "mixed", constant=2.0, lambda_gp=3.0, generator=torch.Generator().manual_seed(3)
    )
    torch.testing.assert_close(grads, x_hat)
    torch.testing.assert_close(penalty, 3.0 * ((x_hat.norm(dim=1) - 2.0) ** 2).mean())
    for kind, point in (("real", real), ("fake", fake)):
        penalty, _ = gradient_penalty(Quadratic(), real, fake, kind)
        torch.testing.assert_close(penalty, 10 * ((point.flatten(1).norm(dim=1) - 1) ** 2).mean())
    assert gradient_penalty(Quadratic(), real, fake, lambda_gp=0.0)[1] is None
    with pytest.raises(ZooError):
        gradient_penalty(Quadratic(), real, fake, type="both")


# -- image pool -----------------------------------------------------------------------------
def numbered(start: int, n: int) -> torch.Tensor:
    """n images whose every pixel is their number, so a returned image names itself."""
    return torch.arange(start, start + n, dtype=torch.float32).view(n, 1, 1, 1).expand(n, 2, 3, 3).clone()


def ids(images: torch.Tensor) -> list[int]:
    return [int(v) for v in images[:, 0, 0, 0]]


def test_image_pool_fills_then_swaps():
    pool = ImagePool(5, generator=torch.Generator().manual_seed(0))
    assert ids(pool.query(numbered(0, 3))) == [0, 1, 2]
    assert ids(pool.query(numbered(3, 2))) == [3, 4] and len(pool) == 5
    swaps = 0
    for new in range(5, 200):
        before = ids(torch.cat(pool.images))
        (got,) = ids(pool.query(numbered(new, 1)))
        after = ids(torch.cat(pool.images))
        if got == new:  # returned as it is, the pool untouched
            assert after == before
        else:  # an old image came back, and the new one took its place
            swaps += 1
            i = before.index(got)
            assert after == [*before[:i], new, *before[i + 1 :]]
    assert 0 < swaps < 195


def test_image_pool_swap_probability_and_determinism():
    def run(seed):
        pool = ImagePool(10, generator=torch.Generator().manual_seed(seed))
        pool.query(numbered(0, 10))
        return ids(pool.query(numbered(10, 4000)))

    out = run(0)
    swapped = sum(got != new for new, got in zip(range(10, 4010), out, strict=True)) / 4000
    assert 0.46 < swapped < 0.54
    assert run(0) == out and run(1) != out


def test_image_pool_draws_from_torch_not_python_random():
    results = []
    for py_seed in (1, 2):
        random.seed(py_seed)
        torch.manual_seed(0)
        pool = ImagePool(4)  # the global torch generator
        results.append(ids(pool.query(numbered(0, 64))))
    assert results[0] == results[1]
    torch.manual_seed(1)
    assert ids(ImagePool(4).query(numbered(0, 64))) != results[0]


def test_image_pool_state_round_trip_through_a_checkpoint():
    pool = ImagePool(6, generator=torch.Generator().manual_seed(5))
    for start in range(0, 40, 3):
        pool.query(numbered(start, 3))
    # what zoo train does with extra_state(): a JSON skeleton and a safetensors file
    tensors: dict[str, torch.Tensor] = {}
    skeleton = json.loads(json.dumps(encode(pool.state_dict(), "extra/pool", tensors)))
    state = decode(skeleton, st_load(st_save(tensors)))
    resumed = ImagePool(6, generator=torch.Generator())
    resumed.load_state_dict(state)
    assert len(resumed) == 6
    for start in range(100, 160, 3):
        assert torch.equal(pool.query(numbered(start, 3)), resumed.query(numbered(start, 3)))
    with pytest.raises(ZooError, match="pool size"):
        ImagePool(5, generator=torch.Generator()).load_state_dict(state)
    with pytest.raises(ZooError, match="generator"):
        ImagePool(6).load_state_dict(state)


def test_image_pool_edge_cases():
    x = torch.randn(3, 2, 4, 4, requires_grad=True)
    assert ImagePool(0).query(x) is x
    out = ImagePool(3).query(x)
    assert not out.requires_grad and torch.equal(out, x.detach())
    with pytest.raises(ZooError):
        ImagePool(-1)


# -- linear decay ---------------------------------------------------------------------------
def test_linear_decay_factor():
    rule = LinearDecay(n_epochs=100, n_epochs_decay=100)
    assert [rule(e) for e in (0, 50, 99)] == [1.0, 1.0, 1.0]
    assert rule(100) == pytest.approx(100 / 101) and rule(150) == pytest.approx(50 / 101)
    assert rule(199) == pytest.approx(1 / 101) and rule(200) == 0.0
    assert LinearDecay(100, 100, epoch_count=51)(50) == pytest.approx(100 / 101)  # restarted at epoch 51


def test_linear_decay_scheduler_per_epoch_and_resume():
    param = torch.zeros(1, requires_grad=True)
    opt = torch.optim.Adam([param], lr=2e-4)
    scheduler = linear_decay_scheduler(opt, n_epochs=3, n_epochs_decay=4)
    lrs = []
    for _ in range(7):  # 3 + 4 epochs, stepped at the end of each
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        scheduler.step()
    assert lrs == pytest.approx([2e-4, 2e-4, 2e-4, 2e-4 * 4 / 5, 2e-4 * 3 / 5, 2e-4 * 2 / 5, 2e-4 * 1 / 5])
    state = json.loads(json.dumps(scheduler.state_dict()))  # JSON only: checkpointable without pickle
    assert state["lr_lambdas"] == [{"n_epochs": 3, "n_epochs_decay": 4, "epoch_count": 1}]
    opt2 = torch.optim.Adam([torch.zeros(1, requires_grad=True)], lr=2e-4)
    resumed = linear_decay_scheduler(opt2, n_epochs=3, n_epochs_decay=4)
    resumed.load_state_dict(state)
    assert resumed.get_last_lr() == scheduler.get_last_lr()
