"""One JSON line per benchmark figure, shared by the benchmark scripts."""

from __future__ import annotations

import json


def emit(
    benchmark: str,
    what: str,
    value: float | None,
    unit: str,
    n: int,
    baseline: str | None = None,
    baseline_value: float | None = None,
    **extra: object,
) -> None:
    ratio = value / baseline_value if value is not None and baseline_value else None
    line = {
        "benchmark": benchmark,
        "what": what,
        "value": _round(value),
        "unit": unit,
        "baseline": baseline,
        "baseline_value": _round(baseline_value),
        "ratio": None if ratio is None else round(ratio, 3),
        "n": n,
        **extra,
    }
    print(json.dumps(line), flush=True)


def _round(x: float | None) -> float | None:
    return None if x is None else float(f"{x:.4g}")
