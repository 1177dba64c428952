"""Old pix2pix / CycleGAN checkpoints: the InstanceNorm state-dict patch of junyanz's ``models/base_model.py``.

Checkpoints saved before PyTorch 0.4 (and by versions of the reference whose InstanceNorm
tracked running statistics) carry ``running_mean`` / ``running_var`` (and, from 0.4,
``num_batches_tracked``) for InstanceNorm layers. Today's InstanceNorm2d(affine=False,
track_running_stats=False) has no such buffers, so a strict load would fail on them. The
reference's ``__patch_instance_norm_state_dict`` drops them before loading, key by key:

- ``running_mean`` / ``running_var`` of a module that is an InstanceNorm and does not track
  running statistics (its attribute is None);
- ``num_batches_tracked`` of any InstanceNorm module. Here only when the module does not
  track statistics either (the attribute is None): an InstanceNorm that does track them owns
  that buffer, and dropping it would make the strict load fail. The reference's own networks
  never track them, so for its checkpoints the two rules drop the same keys.

``patch_instance_norm_state_dict`` does the same on a copy, for converters to call before
``load_state_dict(strict=True)``; every other key, including ones the model lacks, is kept so
that the strict load still names real mismatches.

Example:
    >>> state = torch.load("latest_net_G.pth", weights_only=True)
    >>> model.load_state_dict(patch_instance_norm_state_dict(state, model), strict=True)
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

__all__ = ["legacy_instance_norm_keys", "patch_instance_norm_state_dict"]

_LEGACY = ("running_mean", "running_var", "num_batches_tracked")


def legacy_instance_norm_keys(state_dict: Mapping[str, torch.Tensor], model: nn.Module) -> list[str]:
    """The keys of ``state_dict`` the reference's patch would drop for ``model``, in order.

    Example:
        >>> g = ResnetGenerator(3, 3, norm="instance", n_blocks=9)
        >>> legacy_instance_norm_keys({"model.2.running_mean": torch.zeros(64)}, g)
        ['model.2.running_mean']
    """
    modules = dict(model.named_modules())
    dropped = []
    for key in state_dict:
        path, _, leaf = key.rpartition(".")
        module = modules.get(path)
        if not isinstance(module, nn.modules.instancenorm._InstanceNorm):
            continue
        if leaf in _LEGACY and getattr(module, leaf, None) is None:
            dropped.append(key)
    return dropped


def patch_instance_norm_state_dict(state_dict: Mapping[str, torch.Tensor], model: nn.Module) -> dict[str, torch.Tensor]:
    """A copy of ``state_dict`` without the legacy InstanceNorm keys ``model`` has no place for.

    Example:
        >>> g = ResnetGenerator(3, 3, norm="instance", n_blocks=9)
        >>> old = {**g.state_dict(), "model.2.running_mean": torch.zeros(64), "model.2.running_var": torch.ones(64)}
        >>> g.load_state_dict(patch_instance_norm_state_dict(old, g), strict=True)
        <All keys matched successfully>
    """
    drop = set(legacy_instance_norm_keys(state_dict, model))
    return {key: value for key, value in state_dict.items() if key not in drop}
