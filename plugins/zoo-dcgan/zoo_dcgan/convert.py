"""Converters from foreign DCGAN checkpoints to zoo ``dcgan`` models (generator only).

- ``dcgan-huggan``: ``huggan/dcgan-mnist`` ``pytorch_model.bin`` (the 2022 Hugging Face sprint,
  ``huggan/pytorch/dcgan/modeling_dcgan.py``): the reference's generator layers under
  ``model.N`` instead of ``main.N``; 64x64, nc 3 (MNIST converted to RGB), nz 100, ngf 64.
- ``dcgan-pytorch-examples``: a ``netG_epoch_N.pth`` saved by pytorch/examples
  ``dcgan/main.py`` (``torch.save(netG.state_dict(), ...)``: keys ``main.N``). The script saves
  G and D in separate files; a zoo model is built from the generator's.

Both give ``generator.main.N...`` keys for a ``DCGANConfig(with_discriminator=False)``, which
loads strictly. Before the keys are mapped, the checkpoint's shapes are compared with the
config, so a checkpoint of another size fails with the ``--config`` values it needs.

Example:
    $ zoo convert dcgan-huggan pytorch_model.bin -o hub/me/dcgan-mnist
    $ zoo convert dcgan-pytorch-examples netG_epoch_24.pth -o out/dcgan --config channels=1
"""

from __future__ import annotations

import re
from typing import Any

import torch

from zoo_core import ZooError
from zoo_core.checkpoints import plain_state_dict

__all__ = ["HUGGAN_CONFIG", "PYTORCH_EXAMPLES_CONFIG", "convert_huggan", "convert_pytorch_examples", "generator_config"]

#: the config of huggan/dcgan-mnist (its Generator(num_channels=3, latent_dim=100, hidden_size=64))
HUGGAN_CONFIG: dict[str, Any] = {
    "image_size": 64,
    "channels": 3,
    "nz": 100,
    "ngf": 64,
    "ndf": 64,
    "with_discriminator": False,
}
#: the reference script's defaults (--imageSize 64, nc 3 for every dataset but mnist, --nz 100, --ngf 64)
PYTORCH_EXAMPLES_CONFIG: dict[str, Any] = dict(HUGGAN_CONFIG)


def generator_config(state_dict: dict[str, torch.Tensor], prefix: str = "main.") -> dict[str, int]:
    """``image_size``, ``channels``, ``nz`` and ``ngf`` read off a generator state dict's shapes.

    Example:
        >>> generator_config(Generator().state_dict())
        {'image_size': 64, 'channels': 3, 'nz': 100, 'ngf': 64}
    """
    convs = sorted(
        (int(key[len(prefix) :].split(".")[0]), value)
        for key, value in state_dict.items()
        if key.startswith(prefix) and key.endswith(".weight") and value.dim() == 4
    )
    if not convs:
        raise ZooError(f"The checkpoint has no generator convolutions under {prefix!r}.")
    first, last = convs[0][1], convs[-1][1]
    return {"image_size": 2 ** (len(convs) + 1), "channels": last.shape[1], "nz": first.shape[0], "ngf": last.shape[0]}


def _check_fits(found: dict[str, int], config: dict[str, Any], what: str) -> None:
    wrong = [f"{key}={value}" for key, value in found.items() if config.get(key) != value]
    if wrong:
        raise ZooError(
            f"The {what} checkpoint holds a generator with {', '.join(f'{k}={v}' for k, v in found.items())}; "
            f"pass --config {' --config '.join(wrong)}."
        )


def _convert(state_dict: Any, config: dict[str, Any], prefix: str, what: str) -> dict[str, torch.Tensor]:
    state = plain_state_dict(state_dict, what=what, fix="convert the file its code saves")
    state = {key.removeprefix("module."): value for key, value in state.items()}
    if config.get("with_discriminator", True):
        raise ZooError(
            f"A {what} checkpoint holds a generator only; convert it with --config with_discriminator=false."
        )
    foreign = sorted(key for key in state if not re.fullmatch(rf"{re.escape(prefix)}\d+\..+", key))
    if foreign:
        raise ZooError(
            f"The {what} checkpoint has key {foreign[0]!r}, not a generator key {prefix}N...; "
            "it is not a generator of that layout (a discriminator file cannot be converted)."
        )
    index = {key: int(key[len(prefix) :].split(".")[0]) for key in state}
    odd = sorted((k for k, v in state.items() if v.dim() == 4 and index[k] % 3), key=index.__getitem__)
    if odd:  # the generator's convolutions are at 0, 3, 6 ...; the discriminator's at 0, 2, 5 ...
        raise ZooError(
            f"The {what} checkpoint holds a discriminator (a convolution at {odd[0]!r}); zoo converts the "
            "generator's file (netG_epoch_N.pth) into a generator-only model."
        )
    _check_fits(generator_config(state, prefix), config, what)
    return {f"generator.main.{key[len(prefix) :]}": value for key, value in state.items()}


def convert_huggan(state_dict: dict[str, torch.Tensor], config: dict[str, Any]) -> dict[str, torch.Tensor]:
    """huggan/dcgan-mnist ``pytorch_model.bin`` (``model.N...``) to ``generator.main.N...``.

    Example:
        >>> ours = convert_huggan(torch.load("pytorch_model.bin", weights_only=True), HUGGAN_CONFIG)
        >>> DCGAN.from_weights(HUGGAN_CONFIG, ours).sample(4, seed=0).shape
        torch.Size([4, 3, 64, 64])
    """
    return _convert(state_dict, config, "model.", "huggan/dcgan-mnist")


def convert_pytorch_examples(state_dict: dict[str, torch.Tensor], config: dict[str, Any]) -> dict[str, torch.Tensor]:
    """A ``netG_epoch_N.pth`` of pytorch/examples ``dcgan/main.py`` (``main.N...``) to ``generator.main.N...``.

    Example:
        >>> ours = convert_pytorch_examples(torch.load("netG_epoch_24.pth", weights_only=True), {**config})
    """
    return _convert(state_dict, config, "main.", "pytorch/examples dcgan netG")
