"""``ModelInfo``: one pretrained model of the catalog, and the name filter of ``zoo list``.

Torch-free and plugin-free: ``zoo list`` builds these from the catalog snapshot without loading a plugin.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["ModelInfo", "matching_names"]


@dataclass(frozen=True)
class ModelInfo:
    """One pretrained model of the catalog (a registry entry with its name).

    Example:
        >>> import zoo_core as zoo
        >>> zoo.info("vae.mnist").weights["repo_id"]
        'zoo/vae-mnist'
    """

    name: str
    architecture: str
    plugin: str
    tasks: tuple[str, ...]
    source: str
    config: dict[str, Any]
    weights: dict[str, Any]
    dataset: dict[str, Any]
    metrics: list[dict[str, Any]]
    paper: dict[str, Any]
    license: str
    made_by: dict[str, Any]
    description: str = ""
    num_params: int | None = None
    tags: tuple[str, ...] = ()
    registered_by: str = "registry.json"
    #: where the entry comes from: "shipped", "plugin" or "user" (see the module's docstring for the precedence)
    layer: str = "shipped"
    #: the catalog file that holds it, or ``"<plugin> (register_models)"``
    catalog: str = ""

    @classmethod
    def from_entry(
        cls, name: str, entry: dict[str, Any], registered_by: str, *, layer: str = "shipped", catalog: str = ""
    ) -> ModelInfo:
        fields = dict(entry)
        fields["tasks"] = tuple(fields["tasks"])
        fields["tags"] = tuple(fields.get("tags", ()))
        return cls(name=name, registered_by=registered_by, layer=layer, catalog=catalog, **fields)

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out["tasks"], out["tags"] = list(self.tasks), list(self.tags)
        return out


def matching_names(models: Mapping[str, ModelInfo], pattern: str | None = None, task: str | None = None) -> list[str]:
    """The sorted names of ``models`` that match ``pattern`` (a glob, or else a substring) and serve ``task``.

    Example:
        >>> matching_names(get_catalog().models, "vae*", task="latent")
        ['vae.mnist']
    """
    names = sorted(models)
    if pattern:
        glob = pattern if any(c in pattern for c in "*?[") else f"*{pattern}*"
        names = [n for n in names if fnmatch.fnmatchcase(n, glob)]
    if task:
        names = [n for n in names if task in models[n].tasks]
    return names
