"""Foreign checkpoints to zoo models: the one place where a pickle is ever opened.

A checkpoint written by another codebase (a ``.pth`` / ``.bin`` / ``.pth.tar``) is read with
``torch.load(weights_only=True)``, which unpickles tensors and plain containers only and refuses
anything that would run code. A registered ``Converter`` maps its keys onto the architecture's,
the model is loaded strictly, and a Hub-layout folder is written.

Example:
    >>> convert_checkpoint("fid-inception", "pt_inception-2015-12-05-6726825d.pth", "hub/me/inception")
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ._catalog import get_catalog
from ._errors import ZooError
from .specs import Converter, resolve_target

__all__ = ["convert_checkpoint", "convert_state", "converter_spec", "read_checkpoint"]


def read_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The contents of a foreign checkpoint, without running any code from it."""
    import pickle

    import torch

    path = Path(path)
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(path)
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "GLOBAL" not in str(exc):  # torch names the class or function it refused to import
            raise ZooError(f"{path} is not a readable PyTorch checkpoint ({exc}); download it again.") from exc
        raise ZooError(
            f"{path} holds more than tensors (unpickling it would run code), so zoo will not open it; "
            "ask its authors for a plain state dict or safetensors."
        ) from exc
    except (RuntimeError, EOFError, OSError) as exc:
        raise ZooError(f"{path} is not a readable PyTorch checkpoint ({exc}); download it again.") from exc


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
    """Read a foreign checkpoint (no code runs) and map it onto the architecture's keys."""
    return resolve_target(spec.convert)(read_checkpoint(checkpoint), config)


def convert_checkpoint(
    converter: str,
    checkpoint: str | os.PathLike[str],
    output: str | os.PathLike[str],
    config: dict[str, Any] | None = None,
) -> Path:
    """Convert ``checkpoint`` with the registered ``converter`` into a Hub-layout folder ``output``."""
    from ._factory import model_class

    spec = converter_spec(converter)
    config = {**spec.options.get("config", {}), **(config or {})}
    state = convert_state(spec, checkpoint, config)
    model = model_class(spec.architecture).from_weights(config, state)
    card = (
        f"# {spec.architecture}\n\nConverted by zoo from `{Path(checkpoint).name}` "
        f"({spec.source or 'a foreign checkpoint'}) with the converter `{converter}`.\n"
    )
    return model.save_pretrained(output, card=card, metadata={"converted_from": Path(checkpoint).name})
