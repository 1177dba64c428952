"""Registered converters (``Converter``): a foreign checkpoint's keys mapped onto an architecture's.

Example:
    >>> state = convert_state(converter_spec("cyclegan-junyanz"), "horse2zebra.pth", OFFICIAL_CONFIG)
"""

from __future__ import annotations

import os
from typing import Any

from .._catalog import get_catalog
from .._errors import ZooError, foreign_reason
from ..specs import Converter, resolve_target
from .reader import read_checkpoint

__all__ = ["convert_state", "converter_spec"]


def converter_spec(name: str, *, needed_by: str = "") -> Converter:
    """The registered converter ``name``; ``needed_by`` names the model that asked for it, if any."""
    catalog = get_catalog()
    if name not in catalog.converters:
        if needed_by:
            raise ZooError(
                f"{needed_by} needs the converter {name!r}, which no installed plugin registers; "
                "install the plugin that provides it."
            )
        raise catalog._unknown("converter", name, list(catalog.converters), "zoo plugins")
    return catalog.converters[name]


def convert_state(spec: Converter, checkpoint: str | os.PathLike[str], config: dict[str, Any]) -> dict[str, Any]:
    """Read a foreign checkpoint (no code runs) and map it onto the architecture's keys.

    The file is read with ``read_checkpoint`` (``torch.load(weights_only=True)``), or by the converter's own
    reader, ``options["read"]`` (``"module:function"``, ``function(path) -> contents``), for a format torch
    cannot read safely (the official ProGAN pickles of TensorFlow objects: a restricted unpickler that
    rebuilds numpy arrays only); such a reader must run no code from the file and fail with a ``ZooError``.

    Whatever the file holds, a failure is a ``ZooError``: a converter meeting a layout it does not
    expect (a missing key, a tensor of another rank ...) says that the file is not one it converts.
    """
    import torch

    reader = spec.options.get("read")
    contents = resolve_target(reader)(checkpoint) if reader else read_checkpoint(checkpoint)
    try:
        state = resolve_target(spec.convert)(contents, config)
    except ZooError:
        raise
    except Exception as exc:  # a converter reading a layout it does not expect
        raise ZooError(
            f"{checkpoint} is not a checkpoint the converter {spec.name!r} can read ({type(exc).__name__}: "
            f"{foreign_reason(exc)}); convert the file it is written for ({spec.source or spec.description})."
        ) from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ZooError(f"The converter {spec.name!r} did not return a state dict of tensors; its plugin has a bug.")
    return state
