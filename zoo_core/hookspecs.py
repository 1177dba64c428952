"""The hooks a zoo plugin implements.

A plugin is a module exposed under the entry-point group ``zoo``; it implements any of these
hooks with ``@zoo_core.hookimpl``. Each hook receives a ``register`` callable (or the click
group) and registers descriptions, never built objects, so that discovering plugins stays
cheap: nothing here may import torch.

A plugin cannot take zoo down (see ``zoo_core._plugins``): an error at import or in a hook, a hook
name that is not one of these, output printed to stdout, or a name that is already taken (a model,
task, architecture, dataset, metric, evaluation protocol, converter or command; built-in commands can never
be replaced) is reported once on stderr and by ``zoo plugins``, and only that part of the plugin is skipped.

Example (``pyproject.toml`` of a plugin)::

    [project.entry-points.zoo]
    my-gan = "my_gan.plugin"
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("zoo")
hookimpl = pluggy.HookimplMarker("zoo")


@hookspec
def register_tasks(register):
    """Register task contracts of the plugin's own: ``register(zoo_core.Task(...))``.

    A task is a ``typing.Protocol`` of verbs and attributes, the base class models mix in to serve it and the
    conformance calls ``zoo plugin check`` makes (see ``zoo_core.tasks.Task``). The core's tasks
    (``zoo_core.tasks.CORE_TASKS``) cannot be replaced; of two plugins registering one name the first keeps it.
    """


@hookspec
def register_architectures(register):
    """Register architectures: ``register(zoo_core.Architecture(...))``."""


@hookspec
def register_models(register):
    """Register pretrained model entries: ``register("arch.tag", {...registry entry...})``.

    Each entry is checked against the registry schema (and its name against ``arch.tag``). A plugin may instead
    ship a ``registry.json`` catalog file in its package, beside the module its entry point names. Plugins'
    entries override the shipped registry.json's and are overridden by the user's ``$ZOO_REGISTRY`` catalogs.
    """


@hookspec
def register_datasets(register):
    """Register datasets: ``register(zoo_core.DatasetInfo(...))``."""


@hookspec
def register_metrics(register):
    """Register metrics: ``register(zoo_core.MetricInfo(...))``."""


@hookspec
def register_evaluation_protocols(register):
    """Register evaluation protocols: ``register(zoo_core.EvaluationProtocol(...))``, how a task's models feed metrics.

    ``zoo eval`` and the final evaluation of ``zoo train`` pick, for each metric, a protocol of one
    of the model's tasks that provides the metric's inputs (see ``zoo_core.evaluation``).
    """


@hookspec
def register_converters(register):
    """Register checkpoint converters: ``register(zoo_core.Converter(...))``."""


@hookspec
def register_commands(cli):
    """Add click commands to ``cli``, a click group of the plugin's own merged into ``zoo``.

    A command whose name is taken (a built-in such as ``list``, or another plugin's) is skipped.
    """
