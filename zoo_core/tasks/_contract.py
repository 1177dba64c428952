"""The machinery of task contracts: a ``Task`` record and the check that a model class fulfils one (no torch here)."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from .._errors import ZooError

__all__ = ["Task", "abstract_verb", "check_contract", "verb_signature"]

_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def abstract_verb(function: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a task base class's placeholder verb: a model class that does not override it lacks the verb."""
    function.__zoo_abstract__ = True  # type: ignore[attr-defined]
    return function


class Task(NamedTuple):
    """One task: the contract (a ``typing.Protocol``) a model of the task fulfils, and its Hub pipeline tag.

    ``summary`` is the verbs as the README shows them; ``verbs`` and ``attributes`` are read from ``protocol``;
    ``base`` names the class a ``ZooModel`` mixes in to serve the task (its class attribute ``task`` is the
    task's name): a name in ``zoo_core.modeling`` for the core's tasks, ``"module:Class"`` for a plugin's.

    A plugin declares a task of its own through the ``register_tasks`` hook; ``conformance``
    (``"module:function"``) then gives the conformance kit (``zoo plugin check``) its calls:
    ``function(model, images) -> {label: call}``, each call a verb of the task on fixed inputs (``images``:
    ``(2, C, H, W)`` in [0, 1] of the model's input shape), checked to return finite tensors, to repeat under
    a seed and to survive save/load.

    Example:
        >>> TASKS["image-to-image"].attributes
        ('input_channels', 'output_channels', 'size_multiple', 'min_size', 'directions', 'scale', 'translate_options')
        >>> Task("score(x)", "image-classification", AnomalyDetection, "anomaly-detection",
        ...      "zoo_anogan.tasks:AnomalyDetector", conformance="zoo_anogan.tasks:conformance_calls")
    """

    summary: str
    pipeline_tag: str
    protocol: type
    name: str
    #: the base class a ``ZooModel`` mixes in to serve the task: a ``zoo_core.modeling`` name or ``"module:Class"``
    base: str
    #: a plugin task's conformance calls, ``"module:function"`` (the core's tasks have theirs in the kit)
    conformance: str | None = None
    #: the plugin that registered the task (``None``: zoo_core)
    plugin: str | None = None

    @property
    def base_path(self) -> str:
        """``base`` as an import path, e.g. ``"zoo_core.modeling.ImageTranslator"``."""
        return self.base.replace(":", ".") if ":" in self.base else f"zoo_core.modeling.{self.base}"

    @property
    def verbs(self) -> tuple[str, ...]:
        """The methods the contract names, in the order it declares them."""
        return tuple(k for k, v in vars(self.protocol).items() if not k.startswith("_") and inspect.isfunction(v))

    @property
    def attributes(self) -> tuple[str, ...]:
        """The attributes (class attributes or properties) the contract names."""
        return tuple(k for k in vars(self.protocol).get("__annotations__", {}) if not k.startswith("_"))


def verb_signature(task: Task, verb: str) -> str:
    """``verb``'s contract signature as text, without ``self``: ``"translate(x, *, direction=None, seed=0, ...)"``."""
    parameters = list(inspect.signature(getattr(task.protocol, verb)).parameters.values())[1:]
    parts: list[str] = []
    star = False
    for p in parameters:
        if p.kind is p.KEYWORD_ONLY and not star:
            parts.append("*")
            star = True
        parts.append(p.name if p.default is p.empty else f"{p.name}={p.default!r}")
    return f"{verb}({', '.join(parts)})"


def _signature_problem(function: Callable[..., Any], spec: Callable[..., Any]) -> str | None:
    """Why ``function`` cannot be called as the contract's ``spec`` is, or ``None`` when it can."""
    try:
        got = list(inspect.signature(function).parameters.values())[1:]  # follows __wrapped__; drops self
    except (TypeError, ValueError):
        return None  # a builtin or C function: nothing to compare
    want = list(inspect.signature(spec).parameters.values())[1:]
    var_positional = any(p.kind is p.VAR_POSITIONAL for p in got)
    var_keyword = any(p.kind is p.VAR_KEYWORD for p in got)
    got_positional = [p for p in got if p.kind in _POSITIONAL]
    want_positional = [p for p in want if p.kind in _POSITIONAL]
    if len(got_positional) < len(want_positional) and not var_positional:
        return f"takes {len(got_positional)} positional argument(s), not {len(want_positional)}"
    for extra in got_positional[len(want_positional) :]:
        if extra.default is extra.empty:
            return f"needs the argument {extra.name!r} that the contract does not pass"
    by_name = {p.name: p for p in got}
    for p in want:
        if p.kind is not p.KEYWORD_ONLY:
            continue
        mine = by_name.get(p.name)
        if mine is None or mine.kind not in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD):
            if not var_keyword:
                return f"does not take the keyword {p.name!r}"
        elif mine.default is mine.empty:
            return f"needs {p.name!r}, which the contract lets callers leave out"
    wanted = {p.name for p in want}
    for p in got:
        if p.kind is p.KEYWORD_ONLY and p.name not in wanted and p.default is p.empty:
            return f"needs the keyword {p.name!r} that the contract does not pass"
    return None


def check_contract(cls: type, tasks: Iterable[str], owner: str) -> None:
    """Fail in one sentence naming the first verb or attribute of ``tasks`` that ``cls`` lacks or mis-declares.

    A verb is missing when ``cls`` has no method of that name or only a task base class's placeholder;
    its signature must accept every argument the contract passes (extra keywords need defaults). An
    attribute must be declared on the class (a class attribute or a property), not only set in ``__init__``.

    Example:
        >>> check_contract(VAE, ["unconditional", "latent"], "The model class VAE")
    """
    from . import TASKS

    for name in tasks:
        task = TASKS[name]
        for verb in task.verbs:
            function = getattr(cls, verb, None)
            shown = verb_signature(task, verb)
            if function is None or getattr(function, "__zoo_abstract__", False):
                raise ZooError(f"{owner} declares the task {name!r} but has no verb {shown}; add it to the class.")
            if not callable(function):
                raise ZooError(f"{owner} declares the task {name!r} but its {verb} is not a method; define {shown}.")
            problem = _signature_problem(function, getattr(task.protocol, verb))
            if problem:
                raise ZooError(f"{owner} declares the task {name!r} but its {verb} {problem}; the contract is {shown}.")
        for attribute in task.attributes:
            if not hasattr(cls, attribute):
                raise ZooError(
                    f"{owner} declares the task {name!r} but not its attribute {attribute!r}; declare it on the "
                    "class (a class attribute or a property)."
                )
