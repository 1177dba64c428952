"""Converter from hanzhanggit/StackGAN-Pytorch generator checkpoints to zoo ``stackgan`` models (generator only).

The reference's trainer saves ``netG.state_dict()`` as ``netG_epoch_N.pth`` (``save_model`` in
``miscc/utils.py``): ``STAGE1_G``'s keys (``ca_net.fc.*``, ``fc.0.weight``, ``fc.1.*``,
``upsample1..4.{1,2}.*``, ``img.0.weight``) or ``STAGE2_G``'s (those of its frozen stage I under
``STAGE1_G.``, then ``ca_net``, ``encoder``, ``hr_joint``, ``residual``, ``upsample1..4``,
``img``). The authors' released files date from 2017 (PyTorch 0.2): their BatchNorm layers
have no ``num_batches_tracked``, which is added here (0, as PyTorch's own loader does for old
checkpoints); a ``module.`` prefix (DataParallel) is removed.

``convert_hanzhanggit`` reads the stage and every size the shapes tell (``channels``,
``text_dim``, ``condition_dim``, ``z_dim``, ``gf_dim``, ``r_num``, ``stage1_size``,
``stage2_size``), compares them with the config it is given (the registered default:
``COCO_STAGE2_CONFIG``, the authors' COCO stage-II generator) and fails naming the ``--config``
values a checkpoint needs; then it maps the keys to ``generator.*`` of a
``StackGANConfig(with_discriminator=False, text_encoder=None)``, which loads strictly. The
converted model is fed 1024-d char-CNN-RNN embeddings (``sample(n, embedding=...)``): the
reference's text encoder is Torch7 Lua code whose embeddings ship as pickles.

Example:
    $ zoo convert stackgan-hanzhanggit netG_epoch_90.pth -o hub/me/stackgan-coco
    $ zoo convert stackgan-hanzhanggit netG_epoch_120.pth -o out/stackgan-coco-s1 --config stage=1
"""

from __future__ import annotations

from typing import Any

import torch

from zoo_core import ZooError
from zoo_core.checkpoints import add_batch_counters, plain_state_dict

from .plugin import COCO_STAGE2_CONFIG

__all__ = ["COCO_STAGE1_CONFIG", "COCO_STAGE2_CONFIG", "convert_hanzhanggit", "generator_config"]

#: ``cfg/coco_s1.yml``: a COCO stage-I generator (netG_epoch_120.pth), generator only
COCO_STAGE1_CONFIG: dict[str, Any] = {**COCO_STAGE2_CONFIG, "stage": 1}

_WHAT = "hanzhanggit/StackGAN-Pytorch netG"


def _shape(state: dict[str, torch.Tensor], key: str) -> tuple[int, ...]:
    if key not in state:
        raise ZooError(f"The {_WHAT} checkpoint has no {key!r}; it is not a StackGAN generator of the reference.")
    return tuple(state[key].shape)


def _upsample_blocks(state: dict[str, torch.Tensor], prefix: str = "") -> int:
    blocks = 0
    while f"{prefix}upsample{blocks + 1}.1.weight" in state:
        blocks += 1
    if not blocks:
        raise ZooError(f"The {_WHAT} checkpoint has no {prefix}upsample1.1.weight; it is not a StackGAN generator.")
    return blocks


def generator_config(state: dict[str, torch.Tensor]) -> dict[str, int]:
    """The stage and the sizes a reference generator state dict's shapes tell.

    Example:
        >>> generator_config(reference_stage2_state)
        {'stage': 2, 'channels': 3, 'text_dim': 1024, 'condition_dim': 128, 'z_dim': 100, 'gf_dim': 192,
         'stage1_size': 64, 'r_num': 2, 'stage2_size': 256}
    """
    stage = 2 if any(k.startswith("STAGE1_G.") for k in state) else 1
    s1 = "STAGE1_G." if stage == 2 else ""
    text = _shape(state, f"{s1}ca_net.fc.weight")
    fc = _shape(state, f"{s1}fc.0.weight")
    condition_dim = text[0] // 2
    found = {
        "stage": stage,
        "channels": _shape(state, "img.0.weight")[0],
        "text_dim": text[1],
        "condition_dim": condition_dim,
        "z_dim": fc[1] - condition_dim,
        "gf_dim": fc[0] // (16 * 8),
        "stage1_size": 4 * 2 ** _upsample_blocks(state, s1),
    }
    if stage == 2:
        found["gf_dim"] = _shape(state, "encoder.0.weight")[0]
        if fc[0] != found["gf_dim"] * 8 * 16:
            raise ZooError(
                f"The {_WHAT} checkpoint's stage I is {fc[0] // 128} gf_dim wide and its stage II "
                f"{found['gf_dim']}; zoo's stackgan (as the reference) uses one gf_dim for both."
            )
        found["r_num"] = len({k.split(".")[1] for k in state if k.startswith("residual.")})
        found["stage2_size"] = found["stage1_size"] // 4 * 2 ** _upsample_blocks(state)
    return found


def _check_fits(found: dict[str, int], config: dict[str, Any]) -> None:
    from .model import StackGANConfig

    defaults = StackGANConfig().to_dict()
    wrong = [f"{key}={value}" for key, value in found.items() if config.get(key, defaults[key]) != value]
    if wrong:
        raise ZooError(
            f"The {_WHAT} checkpoint holds a stage-{found['stage']} generator with "
            f"{', '.join(f'{k}={v}' for k, v in found.items() if k != 'stage')}; "
            f"pass --config {' --config '.join(wrong)}."
        )


def convert_hanzhanggit(state_dict: Any, config: dict[str, Any]) -> dict[str, torch.Tensor]:
    """A reference ``netG_epoch_N.pth`` (stage I or II) to ``generator.*`` of a generator-only ``stackgan``.

    Example:
        >>> ours = convert_hanzhanggit(torch.load("netG_epoch_90.pth", weights_only=True), COCO_STAGE2_CONFIG)
        >>> StackGAN.from_weights(COCO_STAGE2_CONFIG, ours).sample(2, embedding=torch.randn(1024), seed=0).shape
        torch.Size([2, 3, 256, 256])
    """
    state = plain_state_dict(state_dict, what=_WHAT, fix="convert the netG_epoch_N.pth its trainer saves")
    if any(k.startswith(("encode_img.", "get_cond_logits.", "get_uncond_logits.")) for k in state):
        raise ZooError(
            f"The {_WHAT} checkpoint holds a discriminator (netD_epoch_last.pth); zoo converts the generator's "
            "file (netG_epoch_N.pth) into a generator-only model."
        )
    if config.get("with_discriminator", True) or config.get("text_encoder") is not None:
        raise ZooError(
            f"A {_WHAT} checkpoint holds a generator only; convert it with --config with_discriminator=false "
            "and no text_encoder."
        )
    found = generator_config(state)
    _check_fits(found, config)
    return {f"generator.{key}": value for key, value in add_batch_counters(state).items()}
