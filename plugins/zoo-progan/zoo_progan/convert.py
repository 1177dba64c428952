"""Converters of the published ProGAN checkpoints onto zoo's layout (``zoo_progan.model``'s docstring).

- ``progan-genforce`` (``convert_genforce``): a torch pickle in genforce's layout, as the Hub's
  ``huggan/pggan-celebahq-1024`` ``pytorch_model.bin``: genforce's ``PGGANGenerator`` state dict
  (``lod``, ``layer{k}.weight`` ...) alone, or genforce's checkpoint ``{"generator", "discriminator",
  "generator_smooth"}`` (``converters/pggan_converter.py``), whose ``generator_smooth`` (the official ``Gs``,
  the moving average the paper samples from) is taken (with ``with_ema=true``: ``generator`` and
  ``generator_smooth`` as ``generator_ema``). Our layout is genforce's under ``generator.`` /
  ``discriminator.``, so this is a renaming. Read by zoo with ``torch.load(weights_only=True)``.
- ``progan-karras`` (``convert_official``): the official ``karras2018iclr-*.pkl`` (read by
  ``zoo_progan.tfpickle.read_official_pickle``, which runs no code). TensorFlow's variables map as
  genforce's converter maps them: a convolution ``[kh, kw, in, out]`` (``Conv0_up``: ``[kh, kw, out, in]``)
  permuted ``(3, 2, 0, 1)``; the generator's ``4x4/Dense/weight`` ``[latent, nf * 16]`` viewed as
  ``[latent, nf, 4, 4]``, permuted ``(1, 0, 2, 3)`` and flipped in both spatial axes (a 4x4 convolution
  with padding 3 on the 1x1 code reads its kernel back to front); the critic's dense weights ``[in, out]``
  transposed. The generator comes from ``Gs``, the critic (``with_discriminator=true``) from ``D``; with
  ``with_ema=true``, ``G`` is the generator and ``Gs`` its moving average ``generator_ema``. The networks'
  ``static_kwargs`` are checked against the config, naming the ``--config`` that fixes a mismatch.

Example:
    $ zoo convert progan-genforce pytorch_model.bin -o progan-celebahq-1024
    $ zoo convert progan-karras karras2018iclr-celebahq-1024x1024.pkl -o progan-celebahq-1024
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from zoo_core import ZooError
from zoo_core.checkpoints import plain_state_dict

__all__ = ["convert_genforce", "convert_official", "official_generator_names", "tf_to_torch"]

_GENFORCE_FIX = (
    "convert genforce's PGGAN generator (the Hub's huggan/pggan-celebahq-1024 pytorch_model.bin) or its "
    "checkpoint with generator_smooth"
)


def _log2(config: dict[str, Any]) -> int:
    return int(math.log2(config["resolution"]))


def convert_genforce(checkpoint: Any, config: dict[str, Any]) -> dict[str, torch.Tensor]:
    """A genforce-layout PGGAN checkpoint as zoo's ``progan`` state dict (see the module docstring).

    Example:
        >>> state = convert_genforce(torch.load("pytorch_model.bin", weights_only=True), CELEBAHQ_CONFIG)
        >>> state["generator.layer0.weight"].shape
        torch.Size([512, 512, 4, 4])
    """
    generator, discriminator, live = checkpoint, None, None
    if isinstance(checkpoint, dict) and ("generator_smooth" in checkpoint or "generator" in checkpoint):
        generator = checkpoint.get("generator_smooth", checkpoint.get("generator"))
        discriminator, live = checkpoint.get("discriminator"), checkpoint.get("generator")
    state = _genforce_generator(generator, "generator")
    if config.get("with_ema", False):  # G as generator, its moving average Gs (generator_smooth) as generator_ema
        if live is None or "generator_smooth" not in checkpoint:
            raise ZooError(
                "This genforce PGGAN checkpoint does not hold both a generator and its moving average "
                "(generator_smooth); convert it with --config with_ema=false."
            )
        state = {**_genforce_generator(live, "generator"), **_genforce_generator(generator, "generator_ema")}
    if config.get("with_discriminator", True):
        if discriminator is None:
            raise ZooError(
                "This genforce PGGAN checkpoint holds a generator only; convert it with --config "
                "with_discriminator=false."
            )
        critic = plain_state_dict(discriminator, what="genforce PGGAN discriminator", fix=_GENFORCE_FIX)
        state.update({f"discriminator.{k}": v.float() for k, v in critic.items()})
        state.setdefault("discriminator.lod", torch.zeros(()))
    return state


def _genforce_generator(generator: Any, prefix: str) -> dict[str, torch.Tensor]:
    state = plain_state_dict(generator, what="genforce PGGAN generator", fix=_GENFORCE_FIX)
    out = {f"{prefix}.{k}": v.float() for k, v in state.items()}
    out.setdefault(f"{prefix}.lod", torch.zeros(()))
    return out


def tf_to_torch(name: str, value: np.ndarray, *, dense_to_4x4: bool = False) -> torch.Tensor:
    """One TensorFlow variable of ``networks.py`` in PyTorch's layout (genforce's ``pggan_converter.py`` rule).

    Example:
        >>> tf_to_torch("8x8/Conv1/weight", np.zeros((3, 3, 16, 8), np.float32)).shape
        torch.Size([8, 16, 3, 3])
    """
    tensor = torch.from_numpy(np.array(value, dtype=np.float32, copy=True))
    if not name.endswith("/weight"):
        return tensor
    if dense_to_4x4:  # G's 4x4/Dense: [latent, nf * 16] -> (nf, latent, 4, 4), kernel flipped
        return tensor.view(tensor.shape[0], -1, 4, 4).permute(1, 0, 2, 3).flip(2, 3).contiguous()
    if tensor.dim() == 2:  # D's dense layers: [in, out] -> (out, in)
        return tensor.t().contiguous()
    return tensor.permute(3, 2, 0, 1).contiguous()


def official_generator_names(config: dict[str, Any], prefix: str = "generator") -> dict[str, str]:
    """``{our key: TF variable name}`` of ``G_paper``'s variables for ``config`` (``fused_scale``, ``resolution``).

    Example:
        >>> official_generator_names({"resolution": 8, "fused_scale": False})["generator.layer2.weight"]
        '8x8/Conv0/weight'
    """
    big_r = _log2(config)
    names = {f"{prefix}.lod": "lod"}
    for r in range(2, big_r + 1):
        b, res = r - 2, f"{2**r}x{2**r}"
        first = "Dense" if r == 2 else ("Conv0_up" if config["fused_scale"] else "Conv0")
        second = "Conv" if r == 2 else "Conv1"
        for ours, theirs in ((f"layer{2 * b}", f"{res}/{first}"), (f"layer{2 * b + 1}", f"{res}/{second}")):
            names.update({f"{prefix}.{ours}.{p}": f"{theirs}/{p}" for p in ("weight", "bias")})
        names.update({f"{prefix}.output{b}.{p}": f"ToRGB_lod{big_r - r}/{p}" for p in ("weight", "bias")})
    return names


def official_discriminator_names(config: dict[str, Any]) -> dict[str, str]:
    """``{our key: TF variable name}`` of ``D_paper``'s variables for ``config``."""
    big_r = _log2(config)
    names = {"discriminator.lod": "lod"}
    for r in range(big_r, 1, -1):
        i, res = big_r - r, f"{2**r}x{2**r}"
        names.update({f"discriminator.input{i}.{p}": f"FromRGB_lod{i}/{p}" for p in ("weight", "bias")})
        if r > 2:
            layers = [(2 * i, "Conv0"), (2 * i + 1, "Conv1_down" if config["fused_scale"] else "Conv1")]
        else:
            layers = [(2 * i, "Conv"), (2 * i + 1, "Dense0"), (2 * i + 2, "Dense1")]
        for k, theirs in layers:
            names.update({f"discriminator.layer{k}.{p}": f"{res}/{theirs}/{p}" for p in ("weight", "bias")})
    return names


#: static_kwargs of G_paper / D_paper -> (our config key, how a value of theirs reads as ours)
_STATIC_KWARGS = {
    "resolution": "resolution",
    "num_channels": "channels",
    "fmap_base": "fmap_base",
    "fmap_decay": "fmap_decay",
    "fmap_max": "fmap_max",
    "latent_size": "latent_size",
    "normalize_latents": "normalize_latents",
    "use_wscale": "use_wscale",
    "use_pixelnorm": "use_pixelnorm",
    "fused_scale": "fused_scale",
    "mbstd_group_size": "mbstd_group_size",
}

#: networks.py's defaults, for keys a pickle's static_kwargs leave out
_REFERENCE_DEFAULTS = {
    "resolution": 32,
    "num_channels": 1,
    "fmap_base": 8192,
    "fmap_decay": 1.0,
    "fmap_max": 512,
    "normalize_latents": True,
    "use_wscale": True,
    "use_pixelnorm": True,
    "fused_scale": True,
    "mbstd_group_size": 4,
}


def _check_static_kwargs(net: dict[str, Any], what: str, config: dict[str, Any]) -> None:
    """Fail in one sentence when the network was built with other arguments than ``config`` gives ours."""
    kwargs = net.get("static_kwargs") or {}
    if not isinstance(kwargs, dict):
        raise ZooError(f"The official pickle's {what} has no static_kwargs dict; convert a karras2018iclr-*.pkl file.")
    # the critic has no latent code and no pixel norm; the generator no minibatch standard deviation
    skip = {"latent_size", "normalize_latents", "use_pixelnorm"} if what == "D" else {"mbstd_group_size"}
    if kwargs.get("label_size", 0):
        raise ZooError(
            f"The official pickle's {what} is conditioned on {kwargs['label_size']} labels, which zoo's progan does "
            "not take; convert an unconditional network (CelebA-HQ, LSUN)."
        )
    for theirs, ours in _STATIC_KWARGS.items():
        if theirs in skip:
            continue
        value = kwargs.get(theirs, _REFERENCE_DEFAULTS.get(theirs))
        mine = config.get(ours)
        if theirs == "latent_size":  # None is nf(0) on both sides
            nf0 = min(int(config["fmap_base"]), int(config["fmap_max"]))
            value, mine = (nf0 if value is None else value), (nf0 if mine is None else mine)
        if ours == "mbstd_group_size" and value is not None and value <= 1 and mine <= 1:
            continue  # both without the layer
        if value is not None and mine != value:
            shown = str(value).lower() if isinstance(value, bool) else value
            raise ZooError(
                f"The official pickle's {what} network was built with {theirs}={value} but the config has "
                f"{ours}={mine}; convert it with --config {ours}={shown}."
            )


def _official_state(net: dict[str, Any], names: dict[str, str], what: str, config: dict[str, Any]) -> dict[str, Any]:
    if net.get("version") != 2 or not str(net.get("build_func_name", "")).startswith(what[0]):
        raise ZooError(
            f"The official pickle's {what} is not a version-2 tfutil network of {what[0]}_paper (it was written by the "
            "Theano code or another network); convert the TensorFlow release's karras2018iclr-*.pkl file."
        )
    _check_static_kwargs(net, what, config)
    variables = net["variables"]
    missing = sorted(set(names.values()) - set(variables))
    if missing:
        fused = not config["fused_scale"]
        scaling = any("Conv0" in m or "Conv1" in m for m in missing)
        hint = f" (pass --config fused_scale={str(fused).lower()})" if scaling else ""
        raise ZooError(
            f"The official pickle's {what} lacks the variable {missing[0]!r} that this config needs{hint}; "
            "convert the file with the config it was trained with."
        )
    return {
        ours: tf_to_torch(theirs, variables[theirs], dense_to_4x4=theirs == "4x4/Dense/weight")
        for ours, theirs in names.items()
    }


def convert_official(networks: dict[str, Any], config: dict[str, Any]) -> dict[str, torch.Tensor]:
    """The official pickle's ``Gs`` (and ``D`` when ``with_discriminator``) as zoo's ``progan`` state dict.

    With ``with_ema`` (the whole training state, to train further): ``G`` as ``generator``, ``Gs`` as
    ``generator_ema``.

    ``networks`` is what ``zoo_progan.tfpickle.read_official_pickle`` returned.

    Example:
        >>> state = convert_official(read_official_pickle("karras2018iclr-celebahq-1024x1024.pkl"), CELEBAHQ_CONFIG)
        >>> state["generator.output8.weight"].shape
        torch.Size([3, 16, 1, 1])
    """
    if not isinstance(networks, dict) or not {"G", "D", "Gs"} <= set(networks):
        raise ZooError(
            "The progan-karras converter takes the (G, D, Gs) networks of an official pickle as "
            "zoo_progan.tfpickle.read_official_pickle reads them; convert a karras2018iclr-*.pkl file."
        )
    if config.get("with_ema", False):  # the training state: G, and Gs as its moving average
        state = _official_state(networks["G"], official_generator_names(config), "G", config)
        state.update(_official_state(networks["Gs"], official_generator_names(config, "generator_ema"), "Gs", config))
    else:
        state = _official_state(networks["Gs"], official_generator_names(config), "Gs", config)
    if config.get("with_discriminator", True):
        state.update(_official_state(networks["D"], official_discriminator_names(config), "D", config))
    return state
