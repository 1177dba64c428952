"""The converter ``pix2pixhd-nvidia``: a generator saved by NVIDIA/pix2pixHD, as a generator-only zoo ``pix2pixhd``.

The reference saves each network on its own (``BaseModel.save_network``:
``torch.save(network.cpu().state_dict(), "{epoch}_net_G.pth")``); its published Cityscapes model
is ``checkpoints/label2city_1024p/latest_net_G.pth``, a ``LocalEnhancer`` (``--netG local --ngf 32``)
on 35 one-hot labels and the instance-edge map (36 channels). Keys: ``model.N.*`` (the global
generator without its last layers, or all of it for ``--netG global``), ``model1_1.*``,
``model1_2.*`` (one pair per enhancer); a ``module.`` prefix (DataParallel) is removed. Files saved
before PyTorch 0.4 carry InstanceNorm ``running_mean`` / ``running_var`` keys, which the
reference's loader ignores and this converter drops (``zoo_core.layers.patch_instance_norm_state_dict``).

``generator_config`` reads off the shapes what the file is (``netG``, ``ngf``, downsamplings,
blocks, enhancers, channels, norm); ``convert_nvidia`` compares it with the config it is given
(the registered default: ``LABEL2CITY_1024P_CONFIG``) and fails naming the ``--config`` values
the file needs, then maps every key to ``netG.*`` of a ``with_discriminator=False`` model, which
zoo loads strictly. The file is read by ``zoo_core.checkpoints.read_checkpoint`` only
(``torch.load(weights_only=True)``): a pickle that would run code is refused.

Example:
    $ zoo convert pix2pixhd-nvidia latest_net_G.pth -o hub/me/pix2pixhd-label2city
    $ zoo convert pix2pixhd-nvidia 512p_net_G.pth -o out/g512 --config netG=global --config ngf=64
"""

from __future__ import annotations

import re
from typing import Any

import torch

from zoo_core import ZooError
from zoo_core.checkpoints import plain_state_dict
from zoo_core.layers import patch_instance_norm_state_dict

from .plugin import LABEL2CITY_1024P_CONFIG  # defined there: plugin.py must not import torch

__all__ = ["LABEL2CITY_1024P_CONFIG", "convert_nvidia", "generator_config"]

_WHAT = "NVIDIA/pix2pixHD netG"
_FIX = "convert the latest_net_G.pth (or N_net_G.pth) its trainer saves"
_KEY = re.compile(r"(model(?:\d+_[12])?)\.(\d+)\.(?:conv_block\.\d+\.)?weight")


def _weight(state: dict[str, torch.Tensor], key: str) -> torch.Tensor:
    if key not in state:
        raise ZooError(f"The {_WHAT} checkpoint has no {key!r}; it is not a pix2pixHD generator of the reference.")
    return state[key]


def _indices(state: dict[str, torch.Tensor], prefix: str, blocks: bool) -> list[int]:
    """The layer indices under ``prefix.`` that hold a weight (``blocks``: only residual blocks'), sorted."""
    found = set()
    for key in state:
        m = _KEY.fullmatch(key)
        if m and m[1] == prefix and (".conv_block." in key) == blocks:
            found.add(int(m[2]))
    return sorted(found)


def generator_config(state: dict[str, torch.Tensor]) -> dict[str, Any]:
    """What a reference generator state dict's keys and shapes say: its config values and its input channels.

    Example:
        >>> generator_config(LocalEnhancer(36, 3, ngf=32, n_downsample_global=4).state_dict())
        {'netG': 'local', 'ngf': 32, 'n_downsample_global': 4, 'n_blocks_global': 9, 'norm': 'instance',
         'output_nc': 3, 'n_local_enhancers': 1, 'n_blocks_local': 3, 'input_channels': 36}
    """
    enhancers = 0
    while f"model{enhancers + 1}_1.1.weight" in state:
        enhancers += 1
    stem = _weight(state, "model.1.weight")
    if stem.dim() != 4 or tuple(stem.shape[-2:]) != (7, 7):
        raise ZooError(f"The {_WHAT} checkpoint's model.1.weight is not a 7x7 convolution; it is not a pix2pixHD one.")
    plain = [i for i in _indices(state, "model", blocks=False) if i > 1]
    three = [i for i in plain if tuple(state[f"model.{i}.weight"].shape[-2:]) == (3, 3)]
    found: dict[str, Any] = {
        "netG": "local" if enhancers else "global",
        "ngf": int(stem.shape[0]),
        "n_downsample_global": len(three) // 2,
        "n_blocks_global": len(_indices(state, "model", blocks=True)),
        "norm": "batch" if "model.2.weight" in state else "instance",
    }
    if enhancers:
        outer = f"model{enhancers}_2"
        last = _indices(state, outer, blocks=False)
        found["output_nc"] = int(_weight(state, f"{outer}.{last[-1]}.weight").shape[0]) if last else 0
        found["ngf"] = int(_weight(state, f"model{enhancers}_1.1.weight").shape[0])
        found["n_local_enhancers"] = enhancers
        found["n_blocks_local"] = len(_indices(state, outer, blocks=True))
        if int(stem.shape[0]) != found["ngf"] * 2**enhancers:
            raise ZooError(
                f"The {_WHAT} checkpoint's global generator is {int(stem.shape[0])} wide and its outer enhancer "
                f"{found['ngf']}; the reference's (and zoo's) is ngf * 2**n_local_enhancers wide."
            )
    else:
        found["output_nc"] = int(state[f"model.{plain[-1]}.weight"].shape[0]) if plain else 0
    found["input_channels"] = int(stem.shape[1])
    return found


def _check_fits(found: dict[str, Any], config: dict[str, Any]) -> None:
    from .model import Pix2PixHDConfig, generator_input_nc

    c = Pix2PixHDConfig(**{**Pix2PixHDConfig().to_dict(), **config})
    wrong = [f"{k}={v}" for k, v in found.items() if k != "input_channels" and getattr(c, k) != v]
    if wrong:
        said = ", ".join(f"{k}={v}" for k, v in found.items() if k != "input_channels")
        raise ZooError(
            f"The {_WHAT} checkpoint holds a generator with {said}; pass --config {' --config '.join(wrong)}."
        )
    if generator_input_nc(c) != found["input_channels"]:
        channels = found["input_channels"]
        raise ZooError(
            f"The {_WHAT} checkpoint takes {channels} input channels but the config gives "
            f"{generator_input_nc(c)} (label_nc={c.label_nc}, no_instance={str(c.no_instance).lower()}); pass "
            f"--config label_nc={channels - 1} for labels with instance edges, or --config label_nc={channels} "
            "--config no_instance=true for labels alone."
        )


def convert_nvidia(state_dict: Any, config: dict[str, Any]) -> dict[str, torch.Tensor]:
    """A reference ``latest_net_G.pth`` (global or local) to ``netG.*`` of a generator-only ``pix2pixhd``.

    Example:
        >>> ours = convert_nvidia(torch.load("latest_net_G.pth", weights_only=True), LABEL2CITY_1024P_CONFIG)
        >>> sorted({k.split(".")[1] for k in ours})
        ['model', 'model1_1', 'model1_2']
    """
    state = plain_state_dict(state_dict, what=_WHAT, fix=_FIX)
    if any(k.startswith(("scale0_layer0.", "layer0.")) for k in state):
        raise ZooError(
            f"The {_WHAT} checkpoint holds a discriminator (latest_net_D.pth); zoo converts the generator's file "
            "(latest_net_G.pth) into a generator-only model."
        )
    if config.get("with_discriminator", True):
        raise ZooError(
            f"A {_WHAT} checkpoint holds a generator only; convert it with --config with_discriminator=false."
        )
    found = generator_config(state)
    _check_fits(found, config)
    from .model import Pix2PixHDConfig, build_generator

    c = Pix2PixHDConfig(**{**Pix2PixHDConfig().to_dict(), **config})
    with torch.device("meta"):
        shell = build_generator(c)
    state = patch_instance_norm_state_dict(state, shell)
    return {f"netG.{key}": value for key, value in state.items()}
