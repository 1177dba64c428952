"""The converter ``pix2pix-junyanz``: a generator saved by junyanz/pytorch-CycleGAN-and-pix2pix to a zoo ``pix2pix``.

The reference saves each network with ``torch.save(net.state_dict(), "{epoch}_net_G.pth")``
(``latest_net_G.pth``); the authors' pretrained pix2pix models
(``http://efrosgans.eecs.berkeley.edu/pix2pix/models-pytorch/{name}.pth``) are such files. Their
keys are the generator's own (``model.model.0.weight`` ... for a U-Net, ``model.1.weight`` ... for
a ResNet); the converter puts them behind ``netG.`` for a generator-only model
(``with_discriminator=false``) and handles what the reference's loader handles:

- a ``module.`` prefix (a network saved while wrapped in ``DataParallel``) is removed;
- BatchNorm layers saved before PyTorch 0.4 have no ``num_batches_tracked``: it is added as 0
  (what ``BatchNorm``'s own loader does for old state dicts; the counter only matters for
  ``momentum=None``, which pix2pix does not use);
- InstanceNorm layers with ``running_mean`` / ``running_var`` (``num_batches_tracked``) from old
  versions lose them (``__patch_instance_norm_state_dict``, ``zoo_core.layers.legacy``).

Before mapping, the generator's configuration is read off the shapes (input / output channels,
``ngf``, U-Net depth or ResNet blocks, norm), so a checkpoint of another kind fails with the
``--config`` values it needs; a discriminator's file is refused in one sentence.

Example:
    $ zoo convert pix2pix-junyanz facades_label2photo.pth -o hub/me/pix2pix-facades
    $ zoo convert pix2pix-junyanz latest_net_G.pth -o out/p2p --config netG=unet_128 --config image_size=128
"""

from __future__ import annotations

from typing import Any

import torch

from zoo_core import ZooError
from zoo_core.checkpoints import add_batch_counters, plain_state_dict
from zoo_core.layers import MAX_RESNET_BLOCKS, UNET_GENERATORS, generator_name, patch_instance_norm_state_dict

from .plugin import OFFICIAL_CONFIG  # defined there: plugin.py must not import torch

__all__ = ["OFFICIAL_CONFIG", "convert_junyanz", "generator_config"]

_WHAT = "pix2pix (junyanz) generator"


def _norm(state: dict[str, torch.Tensor], layer: str, conv: str) -> str:
    if f"{layer}.running_mean" in state or f"{layer}.weight" in state:
        return "batch" if f"{layer}.weight" in state else "instance"  # old InstanceNorms kept running stats only
    return "instance" if f"{conv}.bias" in state else "none"


def generator_config(state: dict[str, torch.Tensor]) -> dict[str, Any]:
    """``netG``, ``input_nc``, ``output_nc``, ``ngf``, ``norm`` (a ResNet's ``use_dropout`` too) read off a state dict.

    Example:
        >>> generator_config(UnetGenerator(3, 3, 8).state_dict())
        {'netG': 'unet_256', 'input_nc': 3, 'output_nc': 3, 'ngf': 64, 'norm': 'batch'}
    """
    if "model.model.0.weight" in state:  # a U-Net: count the nested levels
        first, last = state["model.model.0.weight"], state.get("model.model.3.weight")
        if last is None:
            raise ZooError(f"The {_WHAT} checkpoint has no outermost up-convolution 'model.model.3.weight'.")
        prefix, levels = "model.model.1.model.", 2
        while any(key.startswith(prefix + "3.model.") for key in state):
            prefix, levels = prefix + "3.model.", levels + 1
        if generator_name("unet", levels) not in UNET_GENERATORS:
            raise ZooError(
                f"The {_WHAT} checkpoint is a U-Net with {levels} levels; zoo builds 5 to 8 (unet_32 ... unet_256)."
            )
        return {
            "netG": generator_name("unet", levels),
            "input_nc": int(first.shape[1]),
            "output_nc": int(last.shape[1]),
            "ngf": int(first.shape[0]),
            "norm": _norm(state, "model.model.1.model.2", "model.model.1.model.1"),
        }
    first = state.get("model.1.weight")
    if first is not None and first.dim() == 4 and tuple(first.shape[-2:]) == (7, 7):  # a ResNet generator
        blocks = sorted({int(k.split(".")[1]) for k in state if ".conv_block." in k})
        heads = sorted(int(k.split(".")[1]) for k in state if k.endswith(".weight") and state[k].dim() == 4)
        dropout = any(".conv_block.6." in k and state[k].dim() == 4 for k in state)
        if not 1 <= len(blocks) <= MAX_RESNET_BLOCKS:
            raise ZooError(
                f"The {_WHAT} checkpoint is a ResNet with {len(blocks)} blocks; zoo builds 1 to {MAX_RESNET_BLOCKS}."
            )
        return {
            "netG": generator_name("resnet", len(blocks)),
            "input_nc": int(first.shape[1]),
            "output_nc": int(state[f"model.{heads[-1]}.weight"].shape[0]),
            "ngf": int(first.shape[0]),
            "norm": _norm(state, "model.2", "model.1"),
            "use_dropout": dropout,
        }
    if "model.0.weight" in state or "net.0.weight" in state:
        raise ZooError(
            f"The checkpoint holds a discriminator ('{'model' if 'model.0.weight' in state else 'net'}.0.weight'); "
            "zoo converts the generator's file (*_net_G.pth) into a generator-only pix2pix."
        )
    raise ZooError(
        f"The checkpoint's key {next(iter(state))!r} is not a {_WHAT} key (model.model.0.weight for a U-Net, "
        "model.1.weight for a ResNet); it was saved by other code."
    )


def convert_junyanz(state_dict: Any, config: dict[str, Any]) -> dict[str, torch.Tensor]:
    """A reference ``*_net_G.pth`` state dict to the ``netG.*`` keys of a generator-only ``Pix2Pix(config)``.

    Example:
        >>> ours = convert_junyanz(torch.load("facades_label2photo.pth", weights_only=True), OFFICIAL_CONFIG)
        >>> Pix2Pix.from_weights(OFFICIAL_CONFIG, ours)  # strict: every key fits
    """
    from .model import Pix2PixConfig, build_generator

    state = plain_state_dict(state_dict, what=_WHAT, fix="convert the file the reference saves (*_net_G.pth)")
    if config.get("with_discriminator", True):
        raise ZooError(
            f"A {_WHAT} checkpoint holds a generator only; convert it with --config with_discriminator=false."
        )
    found = generator_config(state)
    wrong = [f"{key}={value}" for key, value in found.items() if config.get(key, OFFICIAL_CONFIG[key]) != value]
    if wrong:
        described = ", ".join(f"{k}={v}" for k, v in found.items())
        raise ZooError(
            f"The {_WHAT} checkpoint holds {described}; pass --config {' --config '.join(wrong)}"
            f"{' (and an image_size that fits it)' if any(w.startswith('netG=') for w in wrong) else ''}."
        )
    with torch.device("meta"):
        target = build_generator(Pix2PixConfig(**{**OFFICIAL_CONFIG, **config}))
    state = patch_instance_norm_state_dict(add_batch_counters(state, affine_only=True), target)
    return {f"netG.{key}": value for key, value in state.items()}
