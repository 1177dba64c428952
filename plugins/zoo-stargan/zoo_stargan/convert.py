"""Converters from the published StarGAN generators to zoo ``stargan`` models (generator only).

- ``stargan-yunjey``: a generator saved by yunjey/stargan's solver (``torch.save(self.G.state_dict(),
  '{i}-G.ckpt')``), the authors' ``200000-G.ckpt`` among them: keys ``main.N.*`` exactly as
  ``zoo_stargan.model.Generator``'s, every InstanceNorm with ``weight``, ``bias``, ``running_mean``,
  ``running_var`` (and ``num_batches_tracked`` from PyTorch 0.4 on; added as 0 when missing, as
  PyTorch's own loader does).
- ``stargan-goodfellowliu``: Lornatang/StarGAN-PyTorch's files on the Hub (``g_celeba-128x128.pth.tar``):
  ``{"state_dict": ...}`` whose keys are either the reference's ``main.N.*`` or Lornatang's own layout
  (``first_layer.{0,1}``, ``down_sampling.{0,1,3,4}``, ``trunk.K.main.*``, ``up_sampling.{0,1,3,4}``,
  ``last_layer.0``), perhaps behind ``torch.compile``'s ``_orig_mod.``; Lornatang's layout is renamed to
  the reference's, module for module (``rename_lornatang``).

Both read the files only through ``zoo convert`` / ``zoo load`` (``torch.load(weights_only=True)``: a
pickle that asks for anything but tensors is refused before any of it runs), read the sizes off the
shapes (``channels``, ``c_dim``, ``g_conv_dim``, ``g_repeat_num``) and fail naming the ``--config``
values a file needs when the config differs; a discriminator file (``200000-D.ckpt``) is refused.
The model they make holds no discriminator (``with_discriminator=false``).

Example:
    $ zoo convert stargan-yunjey 200000-G.ckpt -o hub/me/stargan-celeba
    $ zoo convert stargan-goodfellowliu g_celeba-256x256.pth.tar -o out/celeba-256 --config image_size=256
"""

from __future__ import annotations

import re
from typing import Any

import torch

from zoo_core import ZooError
from zoo_core.checkpoints import add_batch_counters, plain_state_dict

from .upstream import celeba_config

__all__ = ["celeba_config", "convert_goodfellowliu", "convert_yunjey", "generator_config", "rename_lornatang"]

_BLOCK = re.compile(r"main\.(\d+)\.main\.0\.weight")
_LORNATANG = re.compile(r"(first_layer|down_sampling|up_sampling|last_layer)\.(\d+)\.(.+)|trunk\.(\d+)\.(main\..+)")


def generator_config(state: dict[str, torch.Tensor], what: str) -> dict[str, int]:
    """``channels``, ``c_dim``, ``g_conv_dim`` and ``g_repeat_num`` read off a reference generator state dict.

    Example:
        >>> generator_config(Generator(64, 5, 6).state_dict(), "StarGAN")
        {'channels': 3, 'c_dim': 5, 'g_conv_dim': 64, 'g_repeat_num': 6}
    """
    first = state.get("main.0.weight")
    if first is None or first.dim() != 4 or tuple(first.shape[-2:]) != (7, 7):
        raise ZooError(
            f"The {what} checkpoint has no 7x7 convolution at 'main.0.weight'; it is not a StarGAN generator."
        )
    repeat = len({m[1] for key in state if (m := _BLOCK.fullmatch(key))})
    last = state.get(f"main.{15 + repeat}.weight")
    if last is None or last.dim() != 4 or tuple(last.shape[-2:]) != (7, 7):
        raise ZooError(
            f"The {what} checkpoint has no 7x7 output convolution at 'main.{15 + repeat}.weight' after its "
            f"{repeat} residual blocks; it is not a StarGAN generator."
        )
    channels = int(last.shape[0])
    return {
        "channels": channels,
        "c_dim": int(first.shape[1]) - channels,
        "g_conv_dim": int(first.shape[0]),
        "g_repeat_num": repeat,
    }


def rename_lornatang(key: str, repeat_num: int) -> str:
    """A key of Lornatang/StarGAN-PyTorch's generator as the reference's ``main.N.*`` key.

    Example:
        >>> rename_lornatang("trunk.2.main.4.running_var", 6), rename_lornatang("up_sampling.3.weight", 6)
        ('main.11.main.4.running_var', 'main.18.weight')
    """
    m = _LORNATANG.fullmatch(key)
    if m is None:
        return key
    if m[4] is not None:
        return f"main.{9 + int(m[4])}.{m[5]}"
    start = {"first_layer": 0, "down_sampling": 3, "up_sampling": 9 + repeat_num, "last_layer": 15 + repeat_num}
    return f"main.{start[m[1]] + int(m[2])}.{m[3]}"


def _convert(state: dict[str, torch.Tensor], config: dict[str, Any], what: str, name: str) -> dict[str, torch.Tensor]:
    if any(key.startswith(("conv1.", "conv2.")) for key in state):
        raise ZooError(
            f"The {what} checkpoint holds a discriminator (conv1 / conv2 keys: a *-D.ckpt or d_celeba file); "
            f"zoo converts the generator's file (200000-G.ckpt, g_celeba-*.pth.tar) into a generator-only model."
        )
    foreign = sorted(key for key in state if not key.startswith("main."))
    if foreign:
        raise ZooError(
            f"The {what} checkpoint has the key {foreign[0]!r}, not a generator key main.N.*; it is not a StarGAN "
            "generator of the reference's layout."
        )
    if config.get("with_discriminator", True):
        raise ZooError(
            f"A {what} generator file holds no discriminator; convert it with --config with_discriminator=false."
        )
    found = generator_config(state, what)
    from .model import StarGANConfig

    defaults = StarGANConfig().to_dict()
    wrong = [f"{key}={value}" for key, value in found.items() if config.get(key, defaults[key]) != value]
    if wrong:
        fix = " --config ".join(wrong)
        names = " and --config attributes=[...] naming its attributes" if "c_dim" in fix else ""
        raise ZooError(
            f"The {what} checkpoint holds a generator with "
            f"{', '.join(f'{k}={v}' for k, v in found.items())}; pass --config {fix}{names} to `zoo convert {name}`."
        )
    return add_batch_counters(state, affine_only=True)


def convert_yunjey(state_dict: Any, config: dict[str, Any]) -> dict[str, torch.Tensor]:
    """The reference's ``{i}-G.ckpt`` (keys ``main.N.*``) to ``G.main.N.*`` of a generator-only ``stargan``.

    Example:
        >>> ours = convert_yunjey(torch.load("200000-G.ckpt", weights_only=True), celeba_config(128))
        >>> StarGAN.from_weights(celeba_config(128), ours).translate(faces, attributes=["Blond_Hair"])
    """
    what = "yunjey/stargan"
    state = plain_state_dict(state_dict, what=what, fix="convert the {iters}-G.ckpt its solver saves (200000-G.ckpt)")
    return {f"G.{key}": value for key, value in _convert(state, config, what, "stargan-yunjey").items()}


def convert_goodfellowliu(state_dict: Any, config: dict[str, Any]) -> dict[str, torch.Tensor]:
    """Lornatang/StarGAN-PyTorch's ``g_celeba-*.pth.tar`` to ``G.main.N.*`` of a generator-only ``stargan``.

    Example:
        >>> ours = convert_goodfellowliu(torch.load("g_celeba-128x128.pth.tar", weights_only=True), celeba_config())
    """
    what = "goodfellowliu/StarGAN-PyTorch"
    state = plain_state_dict(state_dict, what=what, fix="convert a g_celeba-*.pth.tar generator file")
    repeat = len({key.split(".")[1] for key in state if key.startswith("trunk.")})
    state = {rename_lornatang(key, repeat): value for key, value in state.items()}
    return {f"G.{key}": value for key, value in _convert(state, config, what, "stargan-goodfellowliu").items()}
