"""Normalisation-layer choice of pix2pix / CycleGAN (``get_norm_layer`` in junyanz's ``models/networks.py``).

Three choices, each a factory ``channels -> nn.Module``:

- ``"batch"``: ``nn.BatchNorm2d(C, affine=True, track_running_stats=True)`` (pix2pix's default);
  state-dict keys ``weight``, ``bias``, ``running_mean``, ``running_var``, ``num_batches_tracked``.
- ``"instance"``: ``nn.InstanceNorm2d(C, affine=False, track_running_stats=False)`` (CycleGAN's
  default); no parameters and no buffers, so it has no state-dict keys at all.
- ``"none"``: ``nn.Identity()``; no keys either, but it keeps its place in an ``nn.Sequential``
  so the indices of the layers after it (and therefore the state-dict keys) do not move.

The reference's ``use_bias`` rule is kept: a convolution followed by a norm has a bias only when
that norm is InstanceNorm (BatchNorm's own shift makes a bias redundant). Because the rule tests
for InstanceNorm only, ``"none"`` gives convolutions *without* bias too, exactly as the reference.

Example:
    >>> factory, bias = resolve_norm("instance")
    >>> norm = factory(64)
    >>> type(norm).__name__, norm.affine, norm.track_running_stats, bias
    ('InstanceNorm2d', False, False, True)
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from torch import nn

from .._errors import ZooError

__all__ = ["NORM_TYPES", "NormLayer", "get_norm_layer", "norm_uses_bias", "resolve_norm"]

#: the names ``get_norm_layer`` accepts
NORM_TYPES = ("batch", "instance", "none")

#: a factory ``channels -> normalisation module`` (what ``get_norm_layer`` returns)
NormLayer = Callable[[int], nn.Module]


def _identity(num_features: int) -> nn.Module:
    return nn.Identity()


def get_norm_layer(norm_type: str = "instance") -> NormLayer:
    """The factory for ``norm_type`` (``"batch"``, ``"instance"`` or ``"none"``), as the reference's.

    Example:
        >>> bn = get_norm_layer("batch")(8)
        >>> type(bn).__name__, bn.affine, bn.track_running_stats
        ('BatchNorm2d', True, True)
        >>> get_norm_layer("none")(8)
        Identity()
    """
    if norm_type == "batch":
        return functools.partial(nn.BatchNorm2d, affine=True, track_running_stats=True)
    if norm_type == "instance":
        return functools.partial(nn.InstanceNorm2d, affine=False, track_running_stats=False)
    if norm_type == "none":
        return _identity
    raise ZooError(f"Unknown norm {norm_type!r}; choose one of {', '.join(NORM_TYPES)}.")


def norm_uses_bias(norm_layer: NormLayer) -> bool:
    """The reference's ``use_bias``: True only when ``norm_layer`` builds an InstanceNorm2d.

    ``norm_layer`` may be a class or a ``functools.partial`` of one (what ``get_norm_layer`` gives).

    Example:
        >>> norm_uses_bias(get_norm_layer("instance")), norm_uses_bias(get_norm_layer("batch"))
        (True, False)
        >>> norm_uses_bias(get_norm_layer("none"))
        False
    """
    func = norm_layer.func if isinstance(norm_layer, functools.partial) else norm_layer
    return isinstance(func, type) and issubclass(func, nn.InstanceNorm2d)


def resolve_norm(norm: str | NormLayer) -> tuple[NormLayer, bool]:
    """``(factory, use_bias)`` for a norm name or a norm-layer factory.

    Example:
        >>> resolve_norm("batch")[1]
        False
        >>> resolve_norm(nn.InstanceNorm2d)[1]  # a class works too (then with PyTorch's defaults)
        True
    """
    factory = get_norm_layer(norm) if isinstance(norm, str) else norm
    return factory, norm_uses_bias(factory)
