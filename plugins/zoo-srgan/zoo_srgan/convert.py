"""Converter from goodfellowliu/SRGAN-PyTorch checkpoints (Lornatang/SRGAN-PyTorch's published weights).

The Hub repository ``goodfellowliu/SRGAN-PyTorch`` holds pickles written by Lornatang's training
scripts: ``{"state_dict": ..., ...}`` (optimiser state, epoch, PSNR / SSIM may be there too),
whose keys carry an ``_orig_mod.`` prefix when the network was ``torch.compile``-d (the
generators were: ``COMPILED: True`` in its configs). Files:

- ``SRGAN_x{2,4,8}-SRGAN_ImageNet.pth.tar``: the GAN stage's generator;
- ``SRResNet_x{2,4,8}-SRGAN_ImageNet.pth.tar``: the MSE stage's generator;
- ``DiscriminatorForVGG_x{2,4,8}-SRGAN_ImageNet.pth.tar``: the GAN stage's discriminator.

zoo reads them only through ``zoo_core.checkpoints`` (``torch.load(weights_only=True)``). A generator
file becomes a generator-only ``srgan`` model (``generator.conv1.0.weight`` ...); before the keys
are mapped its shapes are read (scale, width, blocks, channels) and compared with the config,
so a x2 file converted with the x4 defaults fails naming the ``--config`` it needs. Older files
of the same repository name the generator's outer layers ``conv_block1`` / ``conv_block2`` /
``conv_block3``; they are renamed ``conv1`` / ``conv2`` / ``conv3``. A discriminator file alone
makes no model (there is nothing to super-resolve with); the GAN stage takes it with
``--train-config init_discriminator_from=FILE`` (``discriminator_state``).

Example:
    $ zoo convert srgan-goodfellowliu SRGAN_x4-SRGAN_ImageNet.pth.tar -o hub/me/srgan-x4
    $ zoo convert srgan-goodfellowliu SRResNet_x2-SRGAN_ImageNet.pth.tar -o out/srresnet-x2 \\
          --config upscale_factor=2
"""

from __future__ import annotations

import math
from typing import Any

import torch

from zoo_core import ZooError
from zoo_core.checkpoints import plain_state_dict as _plain_state_dict

from .plugin import GENERATOR_CONFIG

__all__ = [
    "GENERATOR_CONFIG",
    "checkpoint_kind",
    "convert_goodfellowliu",
    "discriminator_config",
    "discriminator_state",
    "generator_config",
    "plain_state_dict",
]

_GENERATOR_PARTS = ("conv1", "trunk", "conv2", "upsampling", "conv3")
_DISCRIMINATOR_PARTS = ("features", "classifier")
_LEGACY = {"conv_block1": "conv1", "conv_block2": "conv2", "conv_block3": "conv3"}


def plain_state_dict(checkpoint: Any, what: str = "SRGAN") -> dict[str, torch.Tensor]:
    """The network's tensors from a checkpoint: ``state_dict`` taken out, ``_orig_mod.`` / ``module.`` removed.

    Example:
        >>> plain_state_dict({"state_dict": {"_orig_mod.conv3.bias": t}, "epoch": 18})
        {'conv3.bias': t}
    """
    return _plain_state_dict(
        checkpoint, what=what, fix="convert the .pth.tar file its scripts save", rename=_legacy_name
    )


def _legacy_name(key: str) -> str:
    """The first part of a key in the names of older releases (``conv_block1`` ...) as today's (``conv1``)."""
    first, _, rest = key.partition(".")
    return f"{_LEGACY.get(first, first)}.{rest}" if rest else key


def checkpoint_kind(state: dict[str, torch.Tensor], what: str = "SRGAN") -> str:
    """``"generator"`` (SRResNet keys) or ``"discriminator"`` (DiscriminatorForVGG keys), or fail.

    Example:
        >>> checkpoint_kind(plain_state_dict(torch.load(path, weights_only=True)))
        'generator'
    """
    parts = {key.split(".", 1)[0] for key in state}
    if parts <= set(_GENERATOR_PARTS) and {"conv1", "conv3"} <= parts:
        return "generator"
    if parts == set(_DISCRIMINATOR_PARTS):
        return "discriminator"
    odd = sorted(parts - set(_GENERATOR_PARTS) - set(_DISCRIMINATOR_PARTS)) or sorted(parts)
    raise ZooError(
        f"The {what} checkpoint has keys under {odd[0]!r}; it is neither an SRResNet generator "
        "(conv1, trunk, conv2, upsampling, conv3) nor a DiscriminatorForVGG (features, classifier)."
    )


def _indices(state: dict[str, torch.Tensor], part: str) -> set[int]:
    found = {key.split(".")[1] for key in state if key.startswith(f"{part}.")}
    odd = sorted(index for index in found if not index.isdigit())
    if odd:
        raise ZooError(f"The checkpoint has a key under {part}.{odd[0]} where an index {part}.N is expected.")
    return {int(index) for index in found}


def generator_config(state: dict[str, torch.Tensor]) -> dict[str, int]:
    """``upscale_factor``, ``channels``, ``width`` and ``num_rcb`` read off an SRResNet state dict's shapes.

    Example:
        >>> generator_config(SRResNet().state_dict())
        {'upscale_factor': 4, 'channels': 3, 'width': 64, 'num_rcb': 16}
    """
    if "conv1.0.weight" not in state:
        raise ZooError("The SRGAN checkpoint has no 'conv1.0.weight'; it is not an SRResNet generator.")
    width, channels = state["conv1.0.weight"].shape[:2]
    return {
        "upscale_factor": 2 ** len(_indices(state, "upsampling")),
        "channels": int(channels),
        "width": int(width),
        "num_rcb": len(_indices(state, "trunk")),
    }


def discriminator_config(state: dict[str, torch.Tensor]) -> dict[str, int]:
    """``channels``, ``d_width`` and ``discriminator_size`` read off a DiscriminatorForVGG state dict.

    Example:
        >>> discriminator_config(DiscriminatorForVGG().state_dict())
        {'channels': 3, 'd_width': 64, 'discriminator_size': 96}
    """
    for key in ("features.0.weight", "classifier.0.weight"):
        if key not in state:
            raise ZooError(f"The SRGAN checkpoint has no {key!r}; it is not a DiscriminatorForVGG.")
    width, channels = state["features.0.weight"].shape[:2]
    side = math.isqrt(int(state["classifier.0.weight"].shape[1]) // (8 * int(width)))
    return {"channels": int(channels), "d_width": int(width), "discriminator_size": 16 * side}


def _check_fits(found: dict[str, int], config: dict[str, Any], what: str) -> None:
    wrong = [f"{key}={value}" for key, value in found.items() if config.get(key, GENERATOR_CONFIG[key]) != value]
    if wrong:
        holds = ", ".join(f"{k}={v}" for k, v in found.items())
        raise ZooError(f"The {what} checkpoint holds a network with {holds}; pass --config {' --config '.join(wrong)}.")


def convert_goodfellowliu(checkpoint: Any, config: dict[str, Any]) -> dict[str, torch.Tensor]:
    """A goodfellowliu/SRGAN-PyTorch generator file (SRGAN_x* or SRResNet_x*) to ``generator.*`` keys.

    Example:
        >>> state = convert_goodfellowliu(torch.load("SRGAN_x4-SRGAN_ImageNet.pth.tar", weights_only=True),
        ...                               GENERATOR_CONFIG)
        >>> SRGAN.from_weights(GENERATOR_CONFIG, state).translate(torch.rand(1, 3, 24, 24)).shape
        torch.Size([1, 3, 96, 96])
    """
    what = "goodfellowliu/SRGAN-PyTorch"
    state = plain_state_dict(checkpoint, what)
    if checkpoint_kind(state, what) == "discriminator":
        raise ZooError(
            f"The {what} checkpoint holds the discriminator (DiscriminatorForVGG) only; convert a generator file "
            "(SRGAN_x4-... or SRResNet_x4-...) and give this one to the GAN stage with "
            "--train-config init_discriminator_from=FILE."
        )
    if config.get("with_discriminator", GENERATOR_CONFIG["with_discriminator"]):
        raise ZooError(
            f"A {what} generator file holds no discriminator; convert it with --config with_discriminator=false."
        )
    _check_fits(generator_config(state), config, what)
    return {f"generator.{key}": value for key, value in state.items()}


def discriminator_state(checkpoint: Any, config: dict[str, Any]) -> dict[str, torch.Tensor]:
    """A ``DiscriminatorForVGG_x*`` file to ``discriminator.*`` keys, after checking it fits ``config``.

    Example:
        >>> discriminator_state(read_checkpoint("DiscriminatorForVGG_x4-SRGAN_ImageNet.pth.tar"), config)
    """
    what = "SRGAN discriminator"
    state = plain_state_dict(checkpoint, what)
    if checkpoint_kind(state, what) != "discriminator":
        raise ZooError(
            "The checkpoint holds a generator, not a discriminator; give a DiscriminatorForVGG_x*.pth.tar file."
        )
    found = discriminator_config(state)
    wrong = [f"{key}={value}" for key, value in found.items() if config.get(key) != value]
    if wrong:
        raise ZooError(
            f"The discriminator checkpoint has {', '.join(f'{k}={v}' for k, v in found.items())}; "
            f"train with --config {' --config '.join(wrong)}."
        )
    return {f"discriminator.{key}": value for key, value in state.items()}
