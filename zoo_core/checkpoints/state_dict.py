"""The one reader of a foreign checkpoint's contents: the network's tensors, whatever wrapped them.

Every converter starts here (``Converter.convert`` receives what ``read_checkpoint`` returned): the
training scripts of other codebases save ``{"state_dict": ...}`` or ``{"model": ...}`` beside an epoch
counter, ``DataParallel`` prefixes every key with ``module.`` and ``torch.compile`` with ``_orig_mod.``,
and BatchNorm layers saved before PyTorch 0.4 lack ``num_batches_tracked``.

Example:
    >>> plain_state_dict({"state_dict": {"module.conv.weight": w}, "epoch": 18}, what="SRGAN", fix="...")
    {'conv.weight': w}
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .._errors import ZooError

if TYPE_CHECKING:
    import torch

__all__ = ["WRAPPER_KEYS", "WRAPPER_PREFIXES", "add_batch_counters", "plain_state_dict"]

#: the keys under which training scripts save the network's state dict beside other things
WRAPPER_KEYS = ("state_dict", "model")
#: the key prefixes of ``DataParallel`` / ``DistributedDataParallel`` and ``torch.compile``
WRAPPER_PREFIXES = ("_orig_mod.", "module.")


def plain_state_dict(
    checkpoint: Any,
    *,
    what: str,
    fix: str,
    strip: tuple[str, ...] = WRAPPER_PREFIXES,
    rename: Callable[[str], str] | None = None,
) -> dict[str, torch.Tensor]:
    """The network's state dict in ``checkpoint``: unwrapped, prefixes removed, every value a tensor.

    ``checkpoint`` is what ``read_checkpoint`` returned. A ``{"state_dict": {...}}`` or
    ``{"model": {...}}`` wrapper is taken off; the prefixes ``strip`` (``_orig_mod.`` and ``module.`` by default; any
    order, any number of times) are removed from every key, then ``rename`` (if given) is applied to it.
    Anything else (not a dict, an empty one, a value that is not a tensor) is a ``ZooError``:
    ``"The {what} checkpoint ...; {fix}."``.

    Args:
        checkpoint: the checkpoint's contents.
        what: the checkpoint's kind in the error's words (``"CycleGAN"``, ``"pix2pix (junyanz) generator"``).
        fix: the end of the error: what file to convert instead.
        strip: key prefixes to remove (by default ``_orig_mod.`` of ``torch.compile``, ``module.`` of ``DataParallel``).
        rename: a function of each key, applied after ``strip``.

    Example:
        >>> plain_state_dict({"state_dict": {"module.conv.weight": torch.ones(1)}}, what="X", fix="convert X's file")
        {'conv.weight': tensor([1.])}
        >>> plain_state_dict([1, 2], what="X", fix="convert X's file")
        Traceback (most recent call last):
        zoo_core._errors.ZooError: The X checkpoint is not a state dict of tensors (it holds a list); convert X's file.
    """
    import torch

    if isinstance(checkpoint, dict):
        for key in WRAPPER_KEYS:
            if isinstance(checkpoint.get(key), dict):
                checkpoint = checkpoint[key]
                break
    if not isinstance(checkpoint, dict) or not checkpoint:
        holds = "it is empty" if isinstance(checkpoint, dict) else f"it holds a {type(checkpoint).__name__}"
        raise ZooError(f"The {what} checkpoint is not a state dict of tensors ({holds}); {fix}.")
    state: dict[str, torch.Tensor] = {}
    for key, value in checkpoint.items():
        if not isinstance(value, torch.Tensor):
            raise ZooError(
                f"The {what} checkpoint holds {key!r}, which is not a tensor, so it is not a state dict of tensors; "
                f"{fix}."
            )
        name = str(key)
        while strip and name.startswith(strip):
            name = name.split(".", 1)[1]
        state[rename(name) if rename is not None else name] = value
    return state


def add_batch_counters(state: dict[str, torch.Tensor], *, affine_only: bool = False) -> dict[str, torch.Tensor]:
    """``state`` with ``num_batches_tracked`` = 0 beside every BatchNorm's ``running_var`` that lacks it.

    PyTorch 0.4 added the counter; checkpoints saved before it load strictly once it is added, as
    PyTorch's own loader does for old BatchNorm layers. ``affine_only``: only where the layer has a
    ``weight`` (an InstanceNorm with running statistics keeps none). The order of the keys is kept.

    Example:
        >>> sorted(add_batch_counters({"bn.running_mean": m, "bn.running_var": v}))
        ['bn.num_batches_tracked', 'bn.running_mean', 'bn.running_var']
    """
    import torch

    out: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        out[key] = value
        if key.endswith(".running_var"):
            layer = key.removesuffix("running_var")
            if f"{layer}num_batches_tracked" not in state and (not affine_only or f"{layer}weight" in state):
                out[f"{layer}num_batches_tracked"] = torch.tensor(0, dtype=torch.long)
    return out
