"""The kit in pytest: a parametrized test factory, and the items of ``pytest -p zoo_core.testing --zoo-check NAME``."""

from __future__ import annotations

import functools
from typing import Any

import pytest

from ._report import CheckResult, Report

__all__ = ["conformance_items", "conformance_tests"]


@functools.lru_cache(maxsize=16)
def _report(architecture: str, options_key: str) -> Report:
    """The checks of ``architecture``, run once per test session however many test ids ask for them."""
    import json

    from ._checks import check_architecture

    return check_architecture(architecture, **json.loads(options_key))


def _check_names(architecture: str) -> list[str]:
    from ._checks import _resolve

    spec = _resolve(architecture)
    names = ["config", "meta", *(f"task:{task}" for task in spec.tasks)]
    return [*names, "eval-mode", "determinism", "save-load", "training-step", "registry"]


def _outcome(result: CheckResult) -> None:
    if result.status == "failed":
        pytest.fail(f"{result.name}: {result.message}", pytrace=False)
    if result.status == "skipped":
        pytest.skip(f"{result.name}: {result.message}")


def conformance_tests(architecture: str, **options: Any) -> Any:
    """A test function parametrized over the kit's checks of ``architecture`` (ids ``vae-config`` ...).

    The checks run once (at the first test) and each test reports its own check: ok, FAILED with the
    sentence, or skipped. ``options`` go to ``check_architecture`` (``config=``, ``test_data=`` ...).

    Example:
        >>> test_conformance = conformance_tests("vae")  # in a plugin's tests/test_conformance.py
    """
    import json

    key = json.dumps(options, sort_keys=True, default=str)

    @pytest.mark.parametrize("check", _check_names(architecture), ids=lambda c: f"{architecture}-{c}")
    def test_conformance(check: str) -> None:
        _outcome(_report(architecture, key).result(check))

    test_conformance.__doc__ = f"zoo's conformance checks of the architecture {architecture!r} (zoo_core.testing)."
    return test_conformance


class ConformanceItem(pytest.Item):
    """One check of one architecture, collected by ``--zoo-check``."""

    def __init__(self, *, architecture: str, check: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.architecture, self.check = architecture, check

    def runtest(self) -> None:
        _outcome(_report(self.architecture, "{}").result(self.check))

    def reportinfo(self) -> tuple[str, int, str]:
        return "zoo-check", 0, f"zoo-check[{self.architecture}-{self.check}]"


def conformance_items(session: pytest.Session, target: str) -> list[pytest.Item]:
    """The items ``--zoo-check TARGET`` adds: every check of every architecture of TARGET."""
    from ._checks import architectures_of

    _, specs = architectures_of(target)
    return [
        ConformanceItem.from_parent(
            session, name=f"zoo-check[{spec.name}-{check}]", architecture=spec.name, check=check
        )
        for spec in specs
        for check in _check_names(spec.name)
    ]
