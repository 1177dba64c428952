"""``zoo plugin new`` (a plugin package written from a template) and ``zoo architectures`` (what is registered).

The template is a complete, installable plugin that passes its own tests and ``zoo plugin check`` as
soon as it is installed: ``pyproject.toml`` with the ``zoo`` entry point, ``plugin.py`` (the hooks, no
torch), ``model.py`` (the network and its config), ``training.py`` (the ``TrainingStep``), ``catalog.json``
(the plugin's registry fragment, the registry's schema), ``tests/`` (the conformance kit) and a README.

Example:
    >>> write_plugin("demo-gan", task="unconditional", directory="demo-gan")
    PosixPath('demo-gan')
    $ pip install -e demo-gan && zoo plugin check demo-gan
"""

from __future__ import annotations

import dataclasses
import keyword
import re
from pathlib import Path
from string import Template
from typing import Any

from ._atomic import atomic_write_text
from ._errors import ZooError

__all__ = ["TEMPLATE_TASKS", "describe_architectures", "write_plugin"]

_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


# -- zoo architectures ------------------------------------------------------------------------------
def describe_architectures() -> list[dict[str, Any]]:
    """Every registered architecture: name, plugin, tasks, trainable, description, paper, test config and
    config fields (``{field: {"type": ..., "default": ...}}``; reading them imports the model class).

    Example:
        >>> [a["name"] for a in describe_architectures()][:2]
        ['cyclegan', 'dcgan']
    """
    from ._catalog import get_catalog

    rows = []
    for name in sorted(get_catalog().architectures):
        spec = get_catalog().architectures[name]
        row: dict[str, Any] = {
            "name": name,
            "plugin": spec.plugin,
            "tasks": list(spec.tasks),
            "trainable": spec.training_step is not None,
            "description": spec.description,
            "paper": spec.paper,
            "test_config": dict(getattr(spec, "test_config", None) or {}),
            "config": {},
        }
        try:
            config_class = spec.model_class().config_class
            for f in dataclasses.fields(config_class):
                if not f.init:
                    continue
                if f.default is not dataclasses.MISSING:
                    default = f.default
                elif f.default_factory is not dataclasses.MISSING:
                    default = f.default_factory()
                else:
                    default = None
                kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
                row["config"][f.name] = {"type": kind, "default": default}
        except Exception as exc:  # a plugin that cannot import its model: say so, list the others
            row["error"] = " ".join(str(exc).split())[:200] or type(exc).__name__
        rows.append(row)
    return rows


# -- zoo plugin new ---------------------------------------------------------------------------------
TEMPLATE_TASKS = ("unconditional", "image-to-image")


def _names(name: str) -> dict[str, str]:
    if not _NAME.match(name):
        raise ZooError(
            f"{name!r} is no plugin name zoo can use: lower-case letters and digits, words joined by '-', "
            "starting with a letter (e.g. demo-gan)."
        )
    package = name.replace("-", "_")
    if keyword.iskeyword(package):
        raise ZooError(f"{name!r} would make the Python package {package!r}, a keyword; pick another name.")
    cls = "".join(part.capitalize() for part in name.split("-"))
    return {"dist": name, "arch": name, "pkg": package, "Cls": cls}


def write_plugin(name: str, *, task: str = "unconditional", directory: str | Path | None = None) -> Path:
    """Write the plugin package ``name`` (its architecture has the same name) into ``directory``.

    Args:
        name: the distribution and architecture name, e.g. ``"demo-gan"`` (package ``demo_gan``).
        task: ``"unconditional"`` (a small GAN) or ``"image-to-image"`` (a small convolutional translator).
        directory: where to write (default ``./NAME``); it must not exist, or be empty.

    Returns:
        The folder written.

    Example:
        >>> write_plugin("demo-gan", directory="/tmp/demo-gan")
        PosixPath('/tmp/demo-gan')
    """
    if task not in TEMPLATE_TASKS:
        raise ZooError(f"zoo plugin new has templates for {', '.join(TEMPLATE_TASKS)}, not {task!r}.")
    names = _names(name)
    from ._catalog import get_catalog

    taken = get_catalog().architectures.get(names["arch"])
    if taken is not None:
        raise ZooError(
            f"The architecture name {name!r} is taken by the plugin {taken.plugin or 'zoo'}; pick another name."
        )
    folder = Path(directory) if directory is not None else Path(name)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise ZooError(f"{folder} already exists and is not an empty folder; pick a new --dir.")
    from . import _scaffold_templates as templates

    files = templates.FILES[task]
    for relative, text in files.items():
        path = folder / Template(relative).substitute(names)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, Template(text).substitute(names))
    return folder
