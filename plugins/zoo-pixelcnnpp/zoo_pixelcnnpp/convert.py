"""pclucas14/pixel-cnn-pp checkpoints to zoo ``pixelcnnpp`` models.

pclucas14's ``main.py`` saves ``model.state_dict()`` of a ``nn.DataParallel`` model with
``torch.save``: every key starts with ``module.``, and every layer is wrapped by
``torch.nn.utils.weight_norm`` (``weight_g`` / ``weight_v``). Our modules have the same tree
and the same parameter names, so the converter drops the prefix, renames the newer
``parametrizations.weight.original0`` / ``original1`` keys (what ``torch.nn.utils.parametrizations
.weight_norm`` writes, for a checkpoint from a re-run of that code) to ``weight_g`` / ``weight_v``,
and checks the shapes against the config: ``nr_resnet``, ``nr_filters``, ``nr_logistic_mix`` and
``channels`` are read off the state dict, so a checkpoint of another size fails with the
``--config`` values it needs. The image size cannot be read off the weights (32 for CIFAR-10).

Example:
    $ zoo convert pixelcnnpp-pclucas14 pcnn_lr.0.00040_nr-resnet5_nr-filters160_889.pth -o hub/me/pixelcnnpp-cifar10
"""

from __future__ import annotations

import re
from typing import Any

import torch

from zoo_core import ZooError
from zoo_core.checkpoints import plain_state_dict

__all__ = ["convert_pclucas14", "pclucas14_config"]

_PARAMETRIZED = re.compile(r"\.parametrizations\.weight\.original([01])$")


def _weight_norm_name(key: str) -> str:
    """``weight_norm``'s parametrized names (``.parametrizations.weight.original0/1``) as the legacy ``weight_g/v``."""
    return _PARAMETRIZED.sub(lambda m: ".weight_g" if m.group(1) == "0" else ".weight_v", key)


def pclucas14_config(state_dict: dict[str, torch.Tensor]) -> dict[str, int]:
    """``channels``, ``nr_resnet``, ``nr_filters`` and ``nr_logistic_mix`` read off a (prefix-free) state dict.

    Example:
        >>> pclucas14_config(PixelCNNPP.from_config().state_dict())
        {'channels': 3, 'nr_resnet': 5, 'nr_filters': 160, 'nr_logistic_mix': 10}
    """
    try:
        u_init = state_dict["u_init.conv.weight_v"]
        out = state_dict["nin_out.lin_a.weight_v"]
    except KeyError as exc:
        raise ZooError(
            f"The checkpoint has no {exc.args[0]!r}: it is not a pclucas14/pixel-cnn-pp PixelCNN++ state dict."
        ) from None
    channels = u_init.shape[1] - 1
    blocks = {int(m.group(1)) for k in state_dict if (m := re.match(r"up_layers\.0\.u_stream\.(\d+)\.", k))}
    per_mix = 3 if channels == 1 else 10
    return {
        "channels": channels,
        "nr_resnet": len(blocks),
        "nr_filters": u_init.shape[0],
        "nr_logistic_mix": out.shape[0] // per_mix,
    }


def convert_pclucas14(checkpoint: Any, config: dict[str, Any]) -> dict[str, torch.Tensor]:
    """A pclucas14/pixel-cnn-pp state dict (``module.`` prefix, weight-norm keys) to ours.

    Example:
        >>> state = convert_pclucas14(torch.load(path, weights_only=True), {"image_size": 32})
        >>> PixelCNNPP.from_weights(config, state)  # loads with strict=True
    """
    state = plain_state_dict(
        checkpoint,
        what="pclucas14/pixel-cnn-pp",
        fix="convert the file its main.py saves (torch.save(model.state_dict(), ...))",
        rename=_weight_norm_name,
    )
    found = pclucas14_config(state)
    wrong = [f"{key}={value}" for key, value in found.items() if config.get(key) != value]
    if wrong:
        raise ZooError(
            f"The checkpoint holds a PixelCNN++ with {', '.join(f'{k}={v}' for k, v in found.items())}; "
            f"pass --config {' --config '.join(wrong)}."
        )
    return state
