"""The converter ``wgan-arjovsky``: a generator saved by martinarjovsky/WassersteinGAN to a zoo ``wgan``.

``main.py`` saves ``torch.save(netG.state_dict(), 'netG_epoch_N.pth')`` (l. 241) and the critic
in ``netD_epoch_N.pth``; with them it writes ``generator_config.json`` (``imageSize``, ``nz``,
``nc``, ``ngf``, ``n_extra_layers``, ``noBN``, ``mlp_G``), the values to pass as ``--config``
(``image_size``, ``nz``, ``channels``, ``ngf``, ``n_extra_layers``, ``batch_norm=false``,
``model=mlp``). The file is read by zoo_core with ``torch.load(weights_only=True)``: a pickle
that asks for anything but tensors is refused before this module sees it.

The keys are already ours under ``generator.``: ``main.initial:100-256:convt.weight`` becomes
``generator.main.initial:100-256:convt.weight``, for a ``WGANConfig(with_critic=False)``. For the
DCGAN layout the config is read off the key names and compared with the one given, so a
mismatch names the ``--config`` values the file needs; a critic's file is refused. Checkpoints
saved before PyTorch 0.4 get BatchNorm's ``num_batches_tracked`` (0), so they load strictly too.

Example:
    $ zoo convert wgan-arjovsky netG_epoch_24.pth -o out/wgan --config image_size=32 --config channels=1
"""

from __future__ import annotations

import math
import re
from typing import Any

import torch

from zoo_core import ZooError
from zoo_core.checkpoints import plain_state_dict
from zoo_core.checkpoints.state_dict import add_batch_counters

__all__ = ["convert_arjovsky", "dcgan_generator_config"]

WHAT = "martinarjovsky/WassersteinGAN netG"
_INITIAL = re.compile(r"main\.initial:(\d+)-(\d+):convt\.weight")
_FINAL = re.compile(r"main\.final:(\d+)-(\d+):convt\.weight")


def dcgan_generator_config(state: dict[str, torch.Tensor]) -> dict[str, Any]:
    """``image_size``, ``nz``, ``channels``, ``ngf``, ``n_extra_layers`` and ``batch_norm`` of a ``DCGAN_G`` state dict.

    Example:
        >>> dcgan_generator_config(DCGANGenerator(32, 100, 1, 64).state_dict())
        {'image_size': 32, 'nz': 100, 'channels': 1, 'ngf': 64, 'n_extra_layers': 0, 'batch_norm': True}
    """
    initial = [m for m in map(_INITIAL.fullmatch, state) if m]
    final = [m for m in map(_FINAL.fullmatch, state) if m]
    if len(initial) != 1 or len(final) != 1:
        raise ZooError(f"The {WHAT} checkpoint has no main.initial:NZ-C:convt / main.final:C-NC:convt weights.")
    pyramid = sum(1 for key in state if re.fullmatch(r"main\.pyramid:\d+-\d+:convt\.weight", key))
    image_size = 2 ** (pyramid + 3)
    nz, cngf = int(initial[0][1]), int(initial[0][2])
    return {
        "image_size": image_size,
        "nz": nz,
        "channels": int(final[0][2]),
        "ngf": cngf * 8 // image_size,
        "n_extra_layers": sum(1 for key in state if re.fullmatch(r"main\.extra-layers-\d+:\d+:conv\.weight", key)),
        "batch_norm": any(":batchnorm." in key for key in state),
    }


def convert_arjovsky(state_dict: Any, config: dict[str, Any]) -> dict[str, torch.Tensor]:
    """A ``netG_epoch_N.pth`` of the reference (``main.*`` keys) to ``generator.main.*`` for ``config``.

    Example:
        >>> ours = convert_arjovsky(torch.load("netG_epoch_24.pth", weights_only=True), config)
        >>> WGAN.from_weights(config, ours).sample(4, seed=0).shape
    """
    state = plain_state_dict(state_dict, what=WHAT, fix="convert the netG_epoch_N.pth file that main.py saves")
    if config.get("with_critic", True):
        raise ZooError(f"A {WHAT} checkpoint holds a generator only; convert it with --config with_critic=false.")
    if any(re.fullmatch(r"main\.(initial:\d+-\d+:conv|final:\d+-1:conv)\.weight", key) for key in state):
        raise ZooError(
            f"The {WHAT} checkpoint holds a critic (main.initial:NC-NDF:conv); zoo converts the generator's file "
            "(netG_epoch_N.pth) into a generator-only model."
        )
    if config.get("model") == "dcgan":
        found = dcgan_generator_config(state)
        wrong = [f"{key}={str(value).lower()}" for key, value in found.items() if config.get(key) != value]
        if wrong:
            raise ZooError(
                f"The {WHAT} checkpoint holds a DCGAN generator with "
                f"{', '.join(f'{k}={str(v).lower()}' for k, v in found.items())}; "
                f"pass --config {' --config '.join(wrong)}."
            )
    else:
        first, last = state.get("main.0.weight"), state.get("main.6.weight")
        if first is None or last is None or first.dim() != 2:
            raise ZooError(f"The {WHAT} checkpoint is not an MLP_G (main.0 ... main.6 Linear layers); drop model=mlp.")
        pixels = config["channels"] * config["image_size"] ** 2
        if tuple(first.shape) != (config["ngf"], config["nz"]) or last.shape[0] != pixels:
            side = math.isqrt(last.shape[0] // max(config["channels"], 1))
            raise ZooError(
                f"The {WHAT} checkpoint holds an MLP generator with nz={first.shape[1]}, ngf={first.shape[0]} and "
                f"{last.shape[0]} outputs (e.g. image_size={side} at channels={config['channels']}); "
                "pass those --config values."
            )
    # the 2017 checkpoints predate BatchNorm's num_batches_tracked (PyTorch 0.4): added as 0, as PyTorch does
    return {f"generator.{key}": value for key, value in add_batch_counters(state).items()}
