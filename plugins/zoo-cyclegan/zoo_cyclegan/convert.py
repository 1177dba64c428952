"""The converter ``cyclegan-junyanz``: one generator saved by junyanz/pytorch-CycleGAN-and-pix2pix, as a zoo model.

The reference saves each network on its own (``BaseModel.save_networks``:
``torch.save(net.state_dict(), "{epoch}_net_{G_A|G_B|D_A|D_B}.pth")``), and its pretrained
CycleGAN models (``http://efrosgans.eecs.berkeley.edu/cyclegan/pretrained_models/{name}.pth``,
saved by ``scripts/download_cyclegan_model.sh`` as ``latest_net_G.pth``) are one generator each:
``horse2zebra.pth`` translates horses to zebras, ``zebra2horse.pth`` is another file. So a
converted file becomes a model holding that generator alone, with ``directions`` saying which:

- ``directions="AtoB"`` (the default): the file is ``netG_A`` (``latest_net_G_A.pth``, or an
  official ``{name}.pth``: its name's first domain is A, e.g. ``zebra2horse``: A = zebra);
- ``directions="BtoA"``: the file is ``netG_B`` (``latest_net_G_B.pth``).

Keys are those of the generator (``model.1.weight`` … ``model.26.bias`` for ``resnet_9blocks``,
48 tensors); a ``module.`` prefix (a DataParallel-wrapped save) is dropped. Checkpoints saved
before PyTorch 0.4 carry InstanceNorm ``running_mean`` / ``running_var`` (and
``num_batches_tracked``) keys, which the reference's ``__patch_instance_norm_state_dict`` drops
before loading; so does this converter (``zoo_core.layers.patch_instance_norm_state_dict``).
Every other key must fit: the model is loaded with ``strict=True``, and a checkpoint whose shapes
say another config (``ngf``, blocks, channels, norm, dropout) fails with the ``--config`` values
it needs. A discriminator file (``latest_net_D_A.pth``) is refused.

Example:
    $ zoo convert cyclegan-junyanz horse2zebra.pth -o hub/me/horse2zebra
    $ zoo convert cyclegan-junyanz latest_net_G_B.pth -o out/g_b --config directions=BtoA
"""

from __future__ import annotations

import re
from typing import Any

import torch

from zoo_core import ZooError
from zoo_core.checkpoints import plain_state_dict
from zoo_core.layers import patch_instance_norm_state_dict

from .plugin import OFFICIAL_CONFIG  # defined there: plugin.py must not import torch

__all__ = ["OFFICIAL_CONFIG", "convert_junyanz", "resnet_generator_config"]


_BLOCK = re.compile(r"model\.(\d+)\.conv_block\.(\d+)\.weight")


def resnet_generator_config(state: dict[str, torch.Tensor]) -> dict[str, Any] | None:
    """``netG``, ``ngf``, channels, ``norm`` and ``use_dropout`` read off a ResnetGenerator state dict.

    ``None`` when the keys are not a ResnetGenerator's (a U-Net's are checked by the strict load).
    ``in_nc`` / ``out_nc`` are the generator's own (for a ``netG_B`` file: ``output_nc`` / ``input_nc``).

    Example:
        >>> resnet_generator_config(ResnetGenerator(3, 3, 64, norm="instance", n_blocks=9).state_dict())
        {'netG': 'resnet_9blocks', 'ngf': 64, 'in_nc': 3, 'out_nc': 3, 'norm': 'instance', 'use_dropout': False}
    """
    stem = state.get("model.1.weight")
    if stem is None or stem.dim() != 4 or tuple(stem.shape[-2:]) != (7, 7):
        return None
    blocks = {int(m[1]) for key in state if (m := _BLOCK.fullmatch(key))}
    convs = {int(m[2]) for key in state if (m := _BLOCK.fullmatch(key))}
    heads = [
        (int(key.split(".")[1]), value)
        for key, value in state.items()
        if re.fullmatch(r"model\.\d+\.weight", key) and value.dim() == 4 and tuple(value.shape[-2:]) == (7, 7)
    ]
    head = max(heads, key=lambda item: item[0])[1]
    if "model.2.weight" in state:
        norm = "batch"
    elif "model.1.bias" in state:
        norm = "instance"
    else:
        norm = "none"
    return {
        "netG": f"resnet_{len(blocks)}blocks",
        "ngf": int(stem.shape[0]),
        "in_nc": int(stem.shape[1]),
        "out_nc": int(head.shape[0]),
        "norm": norm,
        "use_dropout": 6 in convs,
    }


def _check_fits(found: dict[str, Any], config: dict[str, Any], direction: str) -> None:
    a_to_b = direction == "AtoB"
    wanted = {
        "netG": found["netG"],
        "ngf": found["ngf"],
        "input_nc": found["in_nc"] if a_to_b else found["out_nc"],
        "output_nc": found["out_nc"] if a_to_b else found["in_nc"],
        "norm": found["norm"],
        "use_dropout": found["use_dropout"],
    }
    wrong = [f"{key}={str(value).lower()}" for key, value in wanted.items() if config.get(key) != value]
    if wrong:
        held = ", ".join(f"{k}={str(v).lower()}" for k, v in wanted.items())
        raise ZooError(
            f"The CycleGAN checkpoint holds a {direction} generator with {held}; "
            f"pass --config {' --config '.join(wrong)}."
        )


def convert_junyanz(state_dict: Any, config: dict[str, Any]) -> dict[str, torch.Tensor]:
    """One generator of the reference (``model.N…`` keys) to ``netG_A.model.N…`` or ``netG_B.model.N…``.

    ``config`` is the zoo model's (``OFFICIAL_CONFIG`` for the pretrained files); its ``directions``
    says which generator the file is.

    Example:
        >>> ours = convert_junyanz(torch.load("horse2zebra.pth", weights_only=True), OFFICIAL_CONFIG)
        >>> CycleGAN.from_weights(OFFICIAL_CONFIG, ours).translate(horses).shape
    """
    from .model import CycleGAN, CycleGANConfig

    state = plain_state_dict(
        state_dict,
        what="CycleGAN",
        fix="convert a file saved by the reference (latest_net_G_A.pth) or an official pretrained {name}.pth",
    )
    direction = config.get("directions", "AtoB")
    if direction not in ("AtoB", "BtoA"):
        raise ZooError(
            "A reference CycleGAN file holds one generator; convert it with --config directions=AtoB "
            "(latest_net_G_A.pth, an official {name}.pth) or --config directions=BtoA (latest_net_G_B.pth)."
        )
    if config.get("with_discriminators", True):
        raise ZooError(
            "A reference CycleGAN file holds one generator and no discriminators; "
            "convert it with --config with_discriminators=false."
        )
    foreign = sorted(key for key in state if not key.startswith("model."))
    if foreign:
        raise ZooError(
            f"The CycleGAN checkpoint has key {foreign[0]!r}, not a generator key model.N…; "
            "it is not a file saved by the reference's save_networks."
        )
    first = state.get("model.0.weight")
    if first is not None and first.dim() == 4 and tuple(first.shape[-2:]) == (4, 4):
        raise ZooError(
            "The CycleGAN checkpoint holds a discriminator (a 4x4 convolution at 'model.0.weight'); "
            "zoo converts generator files (latest_net_G_A.pth, latest_net_G_B.pth, an official {name}.pth)."
        )
    found = resnet_generator_config(state)
    if found is not None:
        _check_fits(found, config, direction)
    with torch.device("meta"):
        model = CycleGAN(CycleGANConfig.from_dict(dict(config), "architecture 'cyclegan'"))
    generator = model.generator(direction)
    state = patch_instance_norm_state_dict(state, generator)
    prefix = "netG_A." if direction == "AtoB" else "netG_B."
    return {prefix + key: value for key, value in state.items()}
