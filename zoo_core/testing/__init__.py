"""The conformance kit for plugin authors: checks any architecture against what zoo expects of a model.

As functions::

    >>> from zoo_core.testing import check_architecture
    >>> report = check_architecture("vae")
    >>> report.ok, [c.name for c in report.failed]
    (True, [])
    >>> print(report.text())          # one line per check: ok / FAILED / skipped, with one sentence

In a plugin's tests (one pytest test per check, named ``test_conformance[vae-config]`` ...)::

    from zoo_core.testing import conformance_tests

    test_conformance = conformance_tests("vae")

As a pytest plugin, with no test file at all::

    pytest -p zoo_core.testing --zoo-check vae --zoo-check dcgan

From the shell: ``zoo plugin check NAME_OR_PATH`` (an architecture, a plugin's distribution name, or a
plugin folder holding its ``pyproject.toml``).

The checks (``CHECKS``), each run on the architecture's tiny ``Architecture.test_config``:

- ``config``: the config dataclass survives ``to_dict`` -> JSON -> ``from_dict``;
- ``meta``: the model builds on the meta device, with the same parameters as a real build;
- ``save-load``: ``save_pretrained`` -> ``from_pretrained`` loads strictly and gives identical outputs;
- ``determinism``: the same seed gives the same outputs; seeded sampling ignores torch's global generator;
- ``task:<task>``: each verb of each task: shapes, dtypes, finite values, images in [0, 1];
- ``eval-mode``: a verb called in train mode leaves the training flags and every buffer (BatchNorm
  statistics) as they were;
- ``training-step``: one step of the architecture's ``TrainingStep`` on a tiny batch (real data when the
  architecture names ``test_data``, else random data of the right shape) returns a finite loss, and a
  gradient reaches every parameter that requires one;
- ``registry``: every registered entry of the architecture is valid against the registry schema, its name is
  ``arch.tag``, its config builds, and its model card renders.

Nothing here is imported by ``zoo list``; torch is imported when a check runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._report import CHECKS, CheckResult, Report

if TYPE_CHECKING:
    import pytest

__all__ = [
    "CHECKS",
    "CheckResult",
    "Report",
    "architectures_of",
    "check_architecture",
    "check_plugin",
    "conformance_tests",
]


def check_architecture(architecture: Any, **options: Any) -> Report:
    """Run every conformance check on one architecture; see ``zoo_core.testing._checks.check_architecture``."""
    from ._checks import check_architecture as run

    return run(architecture, **options)


def architectures_of(target: str) -> tuple[str, list[Any]]:
    """The architectures ``zoo plugin check`` checks for ``target``; see ``zoo_core.testing._checks``."""
    from ._checks import architectures_of as find

    return find(target)


def check_plugin(target: str, **options: Any) -> list[Report]:
    """A report for each architecture of ``target`` (an architecture, a plugin name or a plugin folder)."""
    from ._checks import check_plugin as run

    return run(target, **options)


def conformance_tests(architecture: str, **options: Any) -> Any:
    """A pytest test function, parametrized over the checks, that runs the kit on ``architecture``.

    Example (in ``plugins/zoo-vae/tests/test_conformance.py``):
        >>> from zoo_core.testing import conformance_tests
        >>> test_conformance = conformance_tests("vae")
    """
    from ._pytest import conformance_tests as make

    return make(architecture, **options)


# -- the pytest plugin (`pytest -p zoo_core.testing --zoo-check NAME`) ---------------------------------
def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("zoo", "zoo conformance kit")
    group.addoption(
        "--zoo-check",
        action="append",
        default=[],
        metavar="NAME",
        help="Run zoo's conformance checks on NAME (an architecture or a plugin); repeat for several.",
    )


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[Any]) -> None:
    from ._pytest import conformance_items

    for target in config.getoption("--zoo-check") or []:
        items.extend(conformance_items(session, target))
