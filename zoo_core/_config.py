"""Typed validation of config values: the one check behind ``config.json``, ``--config`` and ``zoo.create``.

A value is checked against its dataclass field's type hint (``int``, ``float``, ``bool``, ``str``,
``Literal[...]``, ``tuple``/``list`` of X, ``dict``, ``X | None``) and against its range: the
field's ``metadata["range"]`` (``(low, high)``, inclusive, ``None`` for no bound; ``range=None`` for
none at all), or, for every ``int`` field that declares none, :data:`DEFAULT_INT_RANGE` (sizes, widths
and counts are positive).
Floats must be finite unless a field declares ``metadata={"finite": False}``. Failures are one
sentence naming the field, the value and what was expected. No torch here.

Example:
    >>> @dataclasses.dataclass
    ... class Config:
    ...     width: int = 64
    ...     dropout: float = dataclasses.field(default=0.5, metadata={"range": (0.0, 1.0)})
    >>> check_values(Config, {"width": 32, "dropout": 0})
    {'width': 32, 'dropout': 0.0}
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import types
import typing
from collections.abc import Mapping
from typing import Any, Literal, Union

from ._errors import ZooError

__all__ = [
    "DEFAULT_INT_RANGE",
    "call_parameters",
    "check_call_options",
    "check_value",
    "check_values",
    "describe_value",
]

#: the range of an ``int`` field that declares none: sizes, widths and counts are positive and not absurd
DEFAULT_INT_RANGE: tuple[int, int] = (1, 2**31 - 1)


def describe_value(value: Any) -> str:
    """A value as a sentence names it, with its JSON type: ``'abc' (a string)``, ``null``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    kind = {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list"}.get(type(value))
    if kind is None:
        kind = "a tuple" if isinstance(value, tuple) else ("an object" if isinstance(value, Mapping) else "")
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({kind})" if kind else text


def _type_name(hint: Any) -> str:
    """What a type hint expects, in words."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return "any JSON value"
    if hint is type(None):
        return "null"
    if origin in (Union, types.UnionType):
        return " or ".join(_type_name(a) for a in args)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if origin in (list, tuple) or hint in (list, tuple):
        if origin is tuple and args and args[-1] is not Ellipsis:
            return f"a list of {len(args)} values ({', '.join(_type_name(a) for a in args)})"
        return f"a list of {_plural(args[0])}" if args else "a list"
    if origin is dict or hint is dict:
        return "an object"
    names = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}
    return names.get(hint, getattr(hint, "__name__", str(hint)))


_UNSET: Any = object()


def _plural(hint: Any) -> str:
    plurals = {bool: "booleans", int: "integers", float: "numbers", str: "strings"}
    return plurals.get(hint, f"values that are each {_type_name(hint)}")


class _Mismatch(Exception):
    """A value that does not fit its hint (turned into a ZooError sentence by ``check_values``)."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(where, problem)
        self.where, self.problem = where, problem


def _check(value: Any, hint: Any, where: str) -> Any:
    """``value`` as ``hint`` wants it (ints widened to float, lists to tuples), or raise ``_Mismatch``."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return value
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _check(value, arg, where)
            except _Mismatch:
                continue
        raise _Mismatch(where, f"must be {_type_name(hint)}, not {describe_value(value)}")
    if origin is Literal:
        if any(value == a and type(value) is type(a) for a in args):
            return value
        raise _Mismatch(where, f"must be {_type_name(hint)}, not {describe_value(value)}")
    if origin in (list, tuple) or hint in (list, tuple):
        if not isinstance(value, list | tuple):
            raise _Mismatch(where, f"must be {_type_name(hint)}, not {describe_value(value)}")
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(value) != len(args):
                raise _Mismatch(where, f"must be {_type_name(hint)}, not {describe_value(value)}")
            items = [_check(v, a, f"{where}[{i}]") for i, (v, a) in enumerate(zip(value, args, strict=True))]
        else:
            item_hint = args[0] if args else Any
            items = [_check(v, item_hint, f"{where}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if (origin is tuple or hint is tuple) else items
    if origin is dict or hint is dict:
        if not isinstance(value, Mapping):
            raise _Mismatch(where, f"must be an object, not {describe_value(value)}")
        if args and args[0] is str and any(not isinstance(k, str) for k in value):
            raise _Mismatch(where, f"must be an object with string keys, not {describe_value(value)}")
        if args and args[1] is not Any:
            return {k: _check(v, args[1], f"{where}[{k!r}]") for k, v in value.items()}
        return dict(value)
    if hint is bool:
        if isinstance(value, bool):
            return value
    elif hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif hint is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    elif hint is str:
        if isinstance(value, str):
            return value
    elif isinstance(hint, type):
        if isinstance(value, hint):
            return value
    else:  # a hint this checker does not know: leave it to the class
        return value
    raise _Mismatch(where, f"must be {_type_name(hint)}, not {describe_value(value)}")


def _check_range(value: Any, hint: Any, metadata: Mapping[str, Any], where: str) -> None:
    """Numbers (also inside lists) within the field's declared range, or the default one for ints."""
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _check_range(item, hint, metadata, f"{where}[{i}]")
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        return
    declared = metadata.get("range", _UNSET)
    if isinstance(value, float):
        if not math.isfinite(value) and metadata.get("finite", True):
            raise _Mismatch(where, f"must be a finite number, not {value}")
        if declared is _UNSET or declared is None:
            return  # floats have no default range
    elif declared is _UNSET:
        declared = metadata.get("default_int_range", DEFAULT_INT_RANGE)
    if declared is None:
        return  # ``range=None``: no range at all
    low, high = declared
    if (low is not None and value < low) or (high is not None and value > high):
        if low is not None and high is not None:
            expected = f"from {low} to {high}"
        elif low is not None:
            expected = f"at least {low}"
        else:
            expected = f"at most {high}"
        raise _Mismatch(where, f"must be {expected}, not {value}")


def _field_hints(cls: type) -> dict[str, Any]:
    """The fields' type hints, evaluated; a hint that cannot be evaluated (a name only a type checker sees) is Any."""
    try:
        return typing.get_type_hints(cls)
    except Exception:
        pass
    import sys

    hints: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        hint = f.type
        if isinstance(hint, str):
            namespace = {**vars(typing), **vars(sys.modules.get(cls.__module__, typing))}
            try:
                hint = eval(hint, namespace)  # what get_type_hints does: the class's own annotation text
            except Exception:
                hint = Any
        hints[f.name] = hint
    return hints


def check_values(
    cls: type,
    values: Any,
    owner: str = "",
    *,
    what: str = "config",
    int_range: tuple[int | None, int | None] = DEFAULT_INT_RANGE,
) -> dict[str, Any]:
    """``values`` checked against the dataclass ``cls``: known keys, types and ranges; returns them normalised.

    ``owner`` names whose config it is in the message (``"architecture 'vae'"``); ``what`` names
    the kind of values (``"config"``, ``"training config"``); ``int_range`` is the range of an
    ``int`` field that declares none.
    """
    owner = owner or cls.__name__
    if not isinstance(values, Mapping):
        raise ZooError(
            f"The {what} of {owner} must be a JSON object of key: value pairs, not {describe_value(values)}."
        )
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(k for k in values if k not in fields)
    if unknown:
        key = unknown[0]
        close = difflib.get_close_matches(str(key), list(fields), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ZooError(
            f"Unknown {what} key {key!r} for {owner}{hint}; valid keys: {', '.join(sorted(fields)) or 'none'}."
        )
    hints = _field_hints(cls)
    return {
        key: check_value(
            key,
            value,
            hints.get(key, Any),
            owner,
            what=what,
            metadata={"default_int_range": int_range, **fields[key].metadata},
        )
        for key, value in values.items()
    }


def check_value(
    key: str,
    value: Any,
    hint: Any,
    owner: str,
    *,
    what: str = "config",
    metadata: Mapping[str, Any] | None = None,
) -> Any:
    """One value checked against a type hint and a range (``metadata["range"]``, else the default for ints).

    Example:
        >>> check_value("size", -3, int, "dataset 'mnist5k'", what="option")
        Traceback (most recent call last):
        zoo_core._errors.ZooError: Option 'size' of dataset 'mnist5k' must be from 1 to 2147483647, not -3.
    """
    metadata = metadata or {}
    try:
        checked = _check(value, hint, repr(key))
        _check_range(checked, hint, metadata, repr(key))
    except _Mismatch as exc:
        raise ZooError(
            f"{what.capitalize()} {'key ' if what.endswith('config') else ''}{exc.where} of {owner} {exc.problem}."
        ) from None
    return checked


def call_parameters(factory: Any, skip: tuple[str, ...] = ("self",)) -> tuple[dict[str, Any], bool]:
    """The keyword options ``factory`` takes, with their type hints, and whether it takes others too.

    A factory that passes ``**options`` on to the class it returns (``def load(**options) -> PhotoDataset``)
    takes that class's parameters too; one whose own named parameters that class does not take (``root`` of
    ``load_mnist(root=..., **options) -> TorchvisionDataset``) passes them elsewhere and stays open-ended.
    """
    import inspect

    hints: dict[str, Any] = {}
    function, open_ended = factory, False
    for _ in range(2):
        try:
            signature = inspect.signature(function)
        except (TypeError, ValueError):
            return hints, True
        try:
            function_hints = typing.get_type_hints(function)
        except Exception:  # a hint only a type checker can evaluate: check the names alone
            function_hints = {}
        open_ended = False
        for parameter in signature.parameters.values():
            if parameter.kind is parameter.VAR_KEYWORD:
                open_ended = True
            elif parameter.name not in skip and parameter.kind is not parameter.VAR_POSITIONAL:
                hints.setdefault(parameter.name, function_hints.get(parameter.name, Any))
        returned = function_hints.get("return")
        if not open_ended or not isinstance(returned, type) or function is not factory:
            break
        try:
            takes = set(inspect.signature(returned.__init__).parameters)
        except (TypeError, ValueError):
            break
        if not set(hints) <= takes:  # the options go somewhere other than the class returned
            break
        function = returned.__init__
    return hints, open_ended


def check_call_options(
    owner: str,
    factory: Any,
    options: Mapping[str, Any],
    *,
    skip: tuple[str, ...] = ("self",),
    ranges: Any = None,
    unknown: str = "",
) -> dict[str, Any]:
    """Keyword ``options`` for ``factory`` checked against its parameters' type hints (and ``ranges(key)``).

    An unknown option is refused, named with the closest one (``unknown`` begins that sentence),
    unless the factory takes ``**options`` it does not declare.
    """
    hints, open_ended = call_parameters(factory, skip)
    checked = dict(options)
    for key, value in options.items():
        if key not in hints:
            if open_ended:
                continue
            close = difflib.get_close_matches(key, list(hints), n=1)
            did_you_mean = f" (did you mean {close[0]!r}?)" if close else ""
            valid = ", ".join(sorted(hints)) or "none"
            raise ZooError(f"{unknown or owner} has no option {key!r}{did_you_mean}; its options: {valid}.")
        metadata = {"range": ranges(key) if ranges is not None else None}
        checked[key] = check_value(key, value, hints[key], owner, what="option", metadata=metadata)
    return checked
