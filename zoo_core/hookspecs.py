"""The hooks a zoo plugin implements.

A plugin is a module exposed under the entry-point group ``zoo``; it implements any of these
hooks with ``@zoo_core.hookimpl``. Each hook receives a ``register`` callable (or the click
group) and registers descriptions, never built objects, so that discovering plugins stays
cheap: nothing here may import torch.

Example (``pyproject.toml`` of a plugin)::

    [project.entry-points.zoo]
    my-gan = "my_gan.plugin"
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("zoo")
hookimpl = pluggy.HookimplMarker("zoo")


@hookspec
def register_architectures(register):
    """Register architectures: ``register(zoo_core.Architecture(...))``."""


@hookspec
def register_models(register):
    """Register pretrained model entries: ``register("arch.tag", {...registry entry...})``."""


@hookspec
def register_datasets(register):
    """Register datasets: ``register(zoo_core.DatasetInfo(...))``."""


@hookspec
def register_metrics(register):
    """Register metrics: ``register(zoo_core.MetricInfo(...))``."""


@hookspec
def register_converters(register):
    """Register checkpoint converters: ``register(zoo_core.Converter(...))``."""


@hookspec
def register_commands(cli):
    """Add click commands to the ``zoo`` command group."""
