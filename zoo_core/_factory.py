"""``zoo.load``, ``zoo.create`` and ``zoo convert``: from a name (or a foreign checkpoint) to a ready model.

The top of the model layers: it stands on ``zoo_core.hub`` (weights) and ``zoo_core.checkpoints`` (foreign
files), and neither of them imports it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._catalog import get_catalog
from ._errors import ZooError
from ._plugins import plugin_records

if TYPE_CHECKING:
    import torch

    from .modeling import ZooModel

__all__ = ["convert_checkpoint", "create", "load", "model_class"]

LOCAL_PREFIX = "local-dir:"


def model_class(architecture: str) -> type[ZooModel]:
    """The model class of an architecture, with a clear error when its plugin is missing."""
    catalog = get_catalog()
    if architecture not in catalog.architectures:
        failed = [r for r in plugin_records() if r.status == "failed"]
        hint = f" (a plugin failed to load: {failed[0].name}; see `zoo plugins`)" if failed else ""
        raise ZooError(
            f"No installed plugin provides the architecture {architecture!r}{hint}; "
            f"install it (e.g. `pip install zoo-{architecture}`) and try again."
        )
    cls = catalog.architectures[architecture].model_class()
    declared = set(catalog.architectures[architecture].tasks)
    if set(cls.task_names()) != declared:
        raise ZooError(
            f"Architecture {architecture!r} declares tasks {sorted(declared)} but its model serves "
            f"{sorted(cls.task_names())}; the plugin is inconsistent."
        )
    return cls


def _is_local(name: str) -> bool:
    return name.startswith(LOCAL_PREFIX) or os.sep in name or name.startswith(".") or Path(name).is_dir()


def load(
    name: str,
    device: str | torch.device | None = None,
    dtype: str | torch.dtype | None = None,
) -> ZooModel:
    """A pretrained model, ready in eval mode.

    ``name`` is a registry name (``"vae.mnist"``; an architecture alone means its default
    model), or a local folder in Hub layout (``"local-dir:/path"`` or any path).
    The weights are downloaded once, verified against the registry's sha256, and assigned
    to a module built on the meta device.

    Example:
        >>> import zoo_core as zoo
        >>> model = zoo.load("vae.mnist")
        >>> model.sample(16, seed=0).shape
        torch.Size([16, 1, 28, 28])
    """
    from .hub.weights import fetch_weights
    from .modeling import ZooModel

    if _is_local(name):
        folder = name.removeprefix(LOCAL_PREFIX)
        if not Path(folder).is_dir():
            raise ZooError(f"{folder} is not a folder; give a model folder in Hub layout or a registry name.")
        return ZooModel.from_pretrained(folder, device=device, dtype=dtype)
    info = get_catalog().resolve_model(name)
    cls = model_class(info.architecture)
    path = fetch_weights(info)
    model = cls.from_weights(info.config, path, device=device, dtype=dtype).eval()
    model.pretrained = info
    model.weights_path = path
    return model


def create(architecture: str, **config: Any) -> ZooModel:
    """An untrained model of ``architecture`` (random init, train mode).

    Example:
        >>> zoo.create("vae", latent_dim=2).config.latent_dim
        2
    """
    return model_class(architecture).from_config(config)


def convert_checkpoint(
    converter: str,
    checkpoint: str | os.PathLike[str],
    output: str | os.PathLike[str],
    config: dict[str, Any] | None = None,
) -> Path:
    """Convert ``checkpoint`` with the registered ``converter`` into a Hub-layout folder ``output`` (``zoo convert``).

    The file is read with ``torch.load(weights_only=True)`` (no code from it runs), mapped by the
    converter, loaded strictly and saved as ``config.json`` + ``model.safetensors`` + a card.

    Example:
        >>> convert_checkpoint("fid-inception", "pt_inception-2015-12-05-6726825d.pth", "hub/me/inception")
        PosixPath('hub/me/inception')
    """
    from .checkpoints import convert_state, converter_spec

    spec = converter_spec(converter)
    config = {**spec.options.get("config", {}), **(config or {})}
    cls = model_class(spec.architecture)
    # --config values are checked (types, ranges) before the converter or torch sees them
    config = cls.config_class.from_dict(config, f"architecture {spec.architecture!r}").to_dict()
    state = convert_state(spec, checkpoint, config)
    model = cls.from_weights(config, state)
    card = (
        f"# {spec.architecture}\n\nConverted by zoo from `{Path(checkpoint).name}` "
        f"({spec.source or 'a foreign checkpoint'}) with the converter `{converter}`.\n"
    )
    return model.save_pretrained(output, card=card, metadata={"converted_from": Path(checkpoint).name})
