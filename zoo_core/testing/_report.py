"""What a conformance run returns: one ``CheckResult`` per check, gathered in a ``Report`` (no torch here)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["CHECKS", "CheckResult", "Report"]

#: the checks, in the order they run (``task:<task>`` stands for one check per task of the architecture)
CHECKS: tuple[str, ...] = (
    "config",
    "meta",
    "task:<task>",
    "eval-mode",
    "determinism",
    "save-load",
    "training-step",
    "registry",
)


@dataclass
class CheckResult:
    """One check: ``status`` is ``"ok"``, ``"failed"`` or ``"skipped"``; ``message`` is one sentence.

    Example:
        >>> CheckResult("meta", "failed", "Building on the meta device failed: ...").line()
        'FAILED   meta: Building on the meta device failed: ...'
    """

    name: str
    status: str
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.status != "failed"

    def line(self) -> str:
        label = {"ok": "ok", "failed": "FAILED", "skipped": "skipped"}[self.status]
        return f"{label:<8} {self.name}" + (f": {self.message}" if self.message else "")


@dataclass
class Report:
    """The checks of one architecture.

    Example:
        >>> report = check_architecture("vae")
        >>> report.ok
        True
        >>> print(report.text())
        architecture vae (plugin zoo-vae), test config {"latent_dim": 2, "hidden_dim": 16}
          ok       config
          ...
    """

    architecture: str
    plugin: str = ""
    config: dict[str, Any] = field(default_factory=dict)
    results: list[CheckResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(result.ok for result in self.results)

    @property
    def failed(self) -> list[CheckResult]:
        return [result for result in self.results if not result.ok]

    def result(self, name: str) -> CheckResult:
        """The result of the check ``name`` (``KeyError`` when it did not run)."""
        for result in self.results:
            if result.name == name:
                return result
        raise KeyError(name)

    def text(self) -> str:
        import json

        head = f"architecture {self.architecture}" + (f" (plugin {self.plugin})" if self.plugin else "")
        head += f", test config {json.dumps(self.config)}"
        lines = [head, *(f"  note: {note}" for note in self.notes), *(f"  {r.line()}" for r in self.results)]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}
