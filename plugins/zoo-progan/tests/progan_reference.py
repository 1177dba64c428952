"""Independent re-implementations for the tests: ``networks.py``'s G_paper / D_paper in numpy, straight from the
TensorFlow graph (variables in TF's layouts, the ``'linear'`` structure, float64); the official-pickle
format written from stub classes of the same module and class names as the reference's ``tfutil.Network``;
genforce's PGGANGenerator state dict and forward pass, written out in torch.

Nothing here is imported by the plugin; it shares no code with it.
"""

from __future__ import annotations

import math
import pickle
import sys
import types
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

SQRT2 = np.sqrt(2.0)


def nf(stage: int, fmap_base: int, fmap_max: int, fmap_decay: float = 1.0) -> int:
    return min(int(fmap_base / (2.0 ** (stage * fmap_decay))), fmap_max)


def wscale(w: np.ndarray, gain: float = SQRT2, fan_in: int | None = None) -> np.ndarray:
    fan_in = int(np.prod(w.shape[:-1])) if fan_in is None else fan_in
    return w * (gain / np.sqrt(fan_in))


def lrelu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x * 0.2, x)


def pixel_norm(x: np.ndarray, eps: float = 1e-8) -> np.ndarray:
    return x / np.sqrt(np.mean(np.square(x), axis=1, keepdims=True) + eps)


def bias(x: np.ndarray, b: np.ndarray) -> np.ndarray:
    return x + (b if x.ndim == 2 else b.reshape(1, -1, 1, 1))


def conv2d(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """tf.nn.conv2d NCHW, stride 1, 'SAME', w [k, k, in, out] (odd k)."""
    k, h, wd = w.shape[0], x.shape[2], x.shape[3]
    p = k // 2
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    out = np.zeros((x.shape[0], w.shape[3], h, wd))
    for a in range(k):
        for b in range(k):
            out += np.einsum("nchw,co->nohw", xp[:, :, a : a + h, b : b + wd], w[a, b])
    return out


def conv2d_stride2(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """tf.nn.conv2d stride 2 'SAME' with a 4x4 kernel on an even input: one pixel of padding before, one after."""
    h, wd = x.shape[2] // 2, x.shape[3] // 2
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    out = np.zeros((x.shape[0], w.shape[3], h, wd))
    for a in range(4):
        for b in range(4):
            out += np.einsum("nchw,co->nohw", xp[:, :, a : a + 2 * h : 2, b : b + 2 * wd : 2], w[a, b])
    return out


def conv2d_transpose_stride2(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """tf.nn.conv2d_transpose stride 2 'SAME' to twice the size, w [4, 4, out, in]: the adjoint of conv2d_stride2."""
    n, _, h, wd = x.shape
    out = np.zeros((n, w.shape[2], 2 * h + 2, 2 * wd + 2))  # padded by one on each side
    for a in range(4):
        for b in range(4):
            out[:, :, a : a + 2 * h : 2, b : b + 2 * wd : 2] += np.einsum("nchw,oc->nohw", x, w[a, b])
    return out[:, :, 1 : 1 + 2 * h, 1 : 1 + 2 * wd]


def fused_kernel(w: np.ndarray) -> np.ndarray:
    w = np.pad(w, ((1, 1), (1, 1), (0, 0), (0, 0)))
    return w[1:, 1:] + w[:-1, 1:] + w[1:, :-1] + w[:-1, :-1]


def upscale2d(x: np.ndarray, factor: int = 2) -> np.ndarray:
    return x.repeat(factor, axis=2).repeat(factor, axis=3)


def downscale2d(x: np.ndarray, factor: int = 2) -> np.ndarray:
    n, c, h, w = x.shape
    return x.reshape(n, c, h // factor, factor, w // factor, factor).mean(axis=(3, 5))


def lerp_clip(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    return a + (b - a) * np.clip(t, 0.0, 1.0)


def g_paper(v: dict[str, np.ndarray], z: np.ndarray, kw: dict[str, Any], lod: float = 0.0) -> np.ndarray:
    """G_paper's 'linear' graph on TF variables ``v`` (use_wscale, pixel norm, leaky ReLU, no labels)."""
    v = {k: np.asarray(a, dtype=np.float64) for k, a in v.items()}
    big_r = int(np.log2(kw["resolution"]))
    fmap_base, fmap_max, fused = kw["fmap_base"], kw["fmap_max"], kw["fused_scale"]

    def block(x: np.ndarray, r: int) -> np.ndarray:
        res = f"{2**r}x{2**r}"
        if r == 2:
            x = pixel_norm(x)
            w = wscale(v["4x4/Dense/weight"], SQRT2 / 4)
            x = (x @ w).reshape(-1, nf(1, fmap_base, fmap_max), 4, 4)
            x = pixel_norm(lrelu(bias(x, v["4x4/Dense/bias"])))
            return pixel_norm(lrelu(bias(conv2d(x, wscale(v["4x4/Conv/weight"])), v["4x4/Conv/bias"])))
        if fused:
            w = v[f"{res}/Conv0_up/weight"]
            w = fused_kernel(wscale(w, fan_in=9 * w.shape[3]))
            x = pixel_norm(lrelu(bias(conv2d_transpose_stride2(x, w), v[f"{res}/Conv0_up/bias"])))
        else:
            x = pixel_norm(lrelu(bias(conv2d(upscale2d(x), wscale(v[f"{res}/Conv0/weight"])), v[f"{res}/Conv0/bias"])))
        return pixel_norm(lrelu(bias(conv2d(x, wscale(v[f"{res}/Conv1/weight"])), v[f"{res}/Conv1/bias"])))

    def torgb(x: np.ndarray, r: int) -> np.ndarray:
        name = f"ToRGB_lod{big_r - r}"
        return bias(conv2d(x, wscale(v[f"{name}/weight"], 1.0)), v[f"{name}/bias"])

    x = block(np.asarray(z, dtype=np.float64), 2)
    images = torgb(x, 2)
    for r in range(3, big_r + 1):
        x = block(x, r)
        images = lerp_clip(torgb(x, r), upscale2d(images), lod - (big_r - r))
    return images


def d_paper(v: dict[str, np.ndarray], images: np.ndarray, kw: dict[str, Any], lod: float = 0.0) -> np.ndarray:
    """D_paper's 'linear' graph on TF variables ``v``: scores ``(N,)``."""
    v = {k: np.asarray(a, dtype=np.float64) for k, a in v.items()}
    big_r = int(np.log2(kw["resolution"]))
    fused, group = kw["fused_scale"], kw["mbstd_group_size"]

    def fromrgb(x: np.ndarray, r: int) -> np.ndarray:
        name = f"FromRGB_lod{big_r - r}"
        return lrelu(bias(conv2d(x, wscale(v[f"{name}/weight"])), v[f"{name}/bias"]))

    def block(x: np.ndarray, r: int) -> np.ndarray:
        res = f"{2**r}x{2**r}"
        if r >= 3:
            x = lrelu(bias(conv2d(x, wscale(v[f"{res}/Conv0/weight"])), v[f"{res}/Conv0/bias"]))
            if fused:
                w = fused_kernel(wscale(v[f"{res}/Conv1_down/weight"])) * 0.25
                return lrelu(bias(conv2d_stride2(x, w), v[f"{res}/Conv1_down/bias"]))
            return downscale2d(lrelu(bias(conv2d(x, wscale(v[f"{res}/Conv1/weight"])), v[f"{res}/Conv1/bias"])))
        if group > 1:  # minibatch_stddev_layer
            g = min(group, x.shape[0])
            y = x.reshape(g, -1, *x.shape[1:])
            y = np.sqrt(np.mean(np.square(y - y.mean(axis=0, keepdims=True)), axis=0) + 1e-8)
            y = np.tile(y.mean(axis=(1, 2, 3), keepdims=True), (g, 1, x.shape[2], x.shape[3]))
            x = np.concatenate([x, y], axis=1)
        x = lrelu(bias(conv2d(x, wscale(v["4x4/Conv/weight"])), v["4x4/Conv/bias"]))
        x = lrelu(bias(x.reshape(x.shape[0], -1) @ wscale(v["4x4/Dense0/weight"]), v["4x4/Dense0/bias"]))
        return bias(x @ wscale(v["4x4/Dense1/weight"], 1.0), v["4x4/Dense1/bias"])

    img = np.asarray(images, dtype=np.float64)
    x = fromrgb(img, big_r)
    for r in range(big_r, 2, -1):
        x = block(x, r)
        img = downscale2d(img)
        x = lerp_clip(x, fromrgb(img, r - 1), lod - (big_r - r))
    return block(x, 2)[:, 0]


def random_tf_variables(kw: dict[str, Any], seed: int = 0) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Random (G, D) variables named and shaped as G_paper / D_paper create them for ``kw`` (weights N(0, 1))."""
    rng = np.random.default_rng(seed)
    big_r = int(np.log2(kw["resolution"]))
    ch, fused = kw["num_channels"], kw["fused_scale"]

    def f(stage: int) -> int:
        return nf(stage, kw["fmap_base"], kw["fmap_max"])

    def layer(out: dict[str, np.ndarray], name: str, shape: tuple[int, ...]) -> None:
        out[f"{name}/weight"] = rng.standard_normal(shape).astype(np.float32)
        out[f"{name}/bias"] = (0.1 * rng.standard_normal(shape[-1])).astype(np.float32)

    g: dict[str, np.ndarray] = {}
    layer(g, "4x4/Dense", (f(0), f(1) * 16))
    g["4x4/Dense/bias"] = (0.1 * rng.standard_normal(f(1))).astype(np.float32)  # added after the reshape
    layer(g, "4x4/Conv", (3, 3, f(1), f(1)))
    for r in range(3, big_r + 1):
        res = f"{2**r}x{2**r}"
        if fused:
            layer(g, f"{res}/Conv0_up", (3, 3, f(r - 1), f(r - 2)))
            g[f"{res}/Conv0_up/bias"] = (0.1 * rng.standard_normal(f(r - 1))).astype(np.float32)
        else:
            layer(g, f"{res}/Conv0", (3, 3, f(r - 2), f(r - 1)))
        layer(g, f"{res}/Conv1", (3, 3, f(r - 1), f(r - 1)))
    for r in range(2, big_r + 1):
        layer(g, f"ToRGB_lod{big_r - r}", (1, 1, f(r - 1), ch))
    d: dict[str, np.ndarray] = {}
    for r in range(big_r, 2, -1):
        res = f"{2**r}x{2**r}"
        layer(d, f"FromRGB_lod{big_r - r}", (1, 1, ch, f(r - 1)))
        layer(d, f"{res}/Conv0", (3, 3, f(r - 1), f(r - 1)))
        layer(d, f"{res}/Conv1_down" if fused else f"{res}/Conv1", (3, 3, f(r - 1), f(r - 2)))
    layer(d, f"FromRGB_lod{big_r - 2}", (1, 1, ch, f(1)))
    layer(d, "4x4/Conv", (3, 3, f(1) + (1 if kw["mbstd_group_size"] > 1 else 0), f(1)))
    layer(d, "4x4/Dense0", (f(1) * 16, f(0)))
    layer(d, "4x4/Dense1", (f(0), 1))
    return g, d


def official_pickle_bytes(
    g: dict[str, np.ndarray],
    d: dict[str, np.ndarray],
    kw: dict[str, Any],
    *,
    protocol: int = 4,
    module_src: str = "def G_paper(*args, **kwargs): pass\n",
    extra: Any = None,
    gs: dict[str, np.ndarray] | None = None,
) -> bytes:
    """``pickle.dump((G, D, Gs))`` as the TF release writes it: objects of a class ``tfutil.Network`` whose
    ``__getstate__`` is tfutil's (``version`` 2, ``variables`` a list of (name, value) with ``lod`` a numpy
    scalar). The class lives in a throwaway module registered as ``tfutil`` only while pickling."""
    module = types.ModuleType("tfutil")

    class Network:
        def __init__(self, name: str, func: str, variables: dict[str, np.ndarray], static_kwargs: dict[str, Any]):
            self.state = {
                "version": 2,
                "name": name,
                "static_kwargs": dict(static_kwargs),
                "build_module_src": module_src,
                "build_func_name": func,
                "variables": [("lod", np.float32(0.0)), *variables.items()],
            }
            if extra is not None:
                self.state["extra"] = extra

        def __getstate__(self) -> dict[str, Any]:
            return self.state

    Network.__module__, Network.__qualname__ = "tfutil", "Network"
    module.Network = Network  # type: ignore[attr-defined]
    g_kwargs = {k: kw[k] for k in ("num_channels", "resolution", "fmap_base", "fmap_max", "fused_scale")}
    d_kwargs = {**g_kwargs, "mbstd_group_size": kw["mbstd_group_size"]}
    nets = (
        Network("G", "G_paper", g, {**g_kwargs, "label_size": 0}),
        Network("D", "D_paper", d, {**d_kwargs, "label_size": 0}),
        Network("Gs", "G_paper", g if gs is None else gs, {**g_kwargs, "label_size": 0}),
    )
    saved = sys.modules.get("tfutil")
    sys.modules["tfutil"] = module
    try:
        return pickle.dumps(nets, protocol=protocol)
    finally:
        if saved is None:
            del sys.modules["tfutil"]
        else:
            sys.modules["tfutil"] = saved


# -- genforce's PGGANGenerator (the layout of the Hub's huggan/pggan-celebahq-1024) ------------------------


def genforce_state(seed: int, *, resolution: int = 16, latent: int = 32, fmaps_base: int = 256, fmaps_max: int = 32):
    """Random tensors named and shaped as genforce's PGGANGenerator(resolution, z_space_dim, image_channels=3,
    fused_scale=False, fmaps_base, fmaps_max) holds them (its get_nf(res) = min(fmaps_base // res, fmaps_max))."""
    gen = torch.Generator().manual_seed(seed)
    state: dict[str, torch.Tensor] = {"lod": torch.zeros(())}
    for block, log2 in enumerate(range(2, int(math.log2(resolution)) + 1)):
        res = 2**log2
        nf, nf_in = min(fmaps_base // res, fmaps_max), min(fmaps_base // max(res // 2, 1), fmaps_max)
        first = (nf, latent, 4, 4) if res == 4 else (nf, nf_in, 3, 3)
        for name, shape in ((f"layer{2 * block}", first), (f"layer{2 * block + 1}", (nf, nf, 3, 3))):
            state[f"{name}.weight"] = torch.randn(shape, generator=gen)
            state[f"{name}.bias"] = 0.1 * torch.randn(shape[0], generator=gen)
        state[f"output{block}.weight"] = torch.randn(3, nf, 1, 1, generator=gen)
        state[f"output{block}.bias"] = 0.1 * torch.randn(3, generator=gen)
    return state


def genforce_forward(state: dict[str, torch.Tensor], z: torch.Tensor, lod: float = 0.0) -> torch.Tensor:
    """genforce's PGGANGenerator.forward (pggan_generator.py), written out: each ConvBlock pixel-normalises its
    input, upsamples (from 8x8), convolves with weight * gain / sqrt(fan_in) and applies a leaky ReLU (none on
    the outputs, gain 1); the code is pixel-normalised and scaled by sqrt(latent) first."""
    latent = z.shape[1]

    def pn(x: torch.Tensor) -> torch.Tensor:
        return x / torch.sqrt(x.pow(2).mean(1, keepdim=True) + 1e-8)

    def conv(x: torch.Tensor, name: str, padding: int, gain: float = math.sqrt(2), act: bool = True) -> torch.Tensor:
        w = state[f"{name}.weight"]
        fan_in = w.shape[1] * w.shape[2] * w.shape[3]
        x = F.conv2d(pn(x), w * (gain / math.sqrt(fan_in)), state[f"{name}.bias"], padding=padding)
        return F.leaky_relu(x, 0.2) if act else x

    x = (pn(z) * math.sqrt(latent)).view(z.shape[0], latent, 1, 1)
    blocks = sum(1 for k in state if k.startswith("output") and k.endswith(".weight"))
    final = blocks - 1
    image = None
    for block in range(blocks):
        current_lod = final - block
        if lod < current_lod + 1:
            if block == 0:
                x = conv(x, "layer0", 3)
            else:
                x = conv(F.interpolate(pn(x), scale_factor=2, mode="nearest"), f"layer{2 * block}", 1)
            x = conv(x, f"layer{2 * block + 1}", 1)
        if current_lod - 1 < lod <= current_lod:
            image = conv(x, f"output{block}", 0, gain=1.0, act=False)
        elif current_lod < lod < current_lod + 1:
            alpha = math.ceil(lod) - lod
            rgb = conv(x, f"output{block}", 0, gain=1.0, act=False)
            image = rgb * alpha + F.interpolate(image, scale_factor=2, mode="nearest") * (1 - alpha)
        elif lod >= current_lod + 1:
            image = F.interpolate(image, scale_factor=2, mode="nearest")
    return image
