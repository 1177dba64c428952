"""The README's likelihood table says what the registry records (and the baseline what it computes)."""

from __future__ import annotations

import re
from pathlib import Path

import zoo_core as zoo
from zoo_core.metrics.baselines import independent_bernoulli_nll

README = Path(__file__).resolve().parents[1] / "README.md"


def table_rows() -> dict[str, list[str]]:
    text = README.read_text(encoding="utf-8").split("### One likelihood table", 1)[1]
    rows = [line for line in text.split("\n\n", 3)[2].splitlines() if line.startswith("| ")][2:]
    return {cells[0]: cells[1:] for cells in ([c.strip() for c in row.strip("|").split("|")] for row in rows)}


def recorded(name: str, metric: str) -> dict:
    records = [m for m in zoo.info(name).metrics if m["name"] == metric]
    assert len(records) == 1, (name, metric, records)
    return records[0]


def test_every_density_model_of_ours_is_a_row_with_its_recorded_value() -> None:
    rows = table_rows()
    ours = {re.match(r"`([^`]+)`", first).group(1): cells for first, cells in rows.items() if first.startswith("`")}
    density = [n for n in zoo.list_models(task="density") if zoo.info(n).source == "zoo"]
    assert set(density) <= set(ours), "a density model of ours is missing from the README's likelihood table"
    for name, (binarized, bpd, _papers) in ours.items():
        if binarized != "—":
            record = recorded(name, "nll-binarized")
            assert record["dataset_options"] == {"binarize": "stochastic"} and record["samples"] == 500
            assert binarized == f"{record['value']:.2f}", name
        if bpd != "—":
            assert bpd == f"{recorded(name, 'bpd')['value']:.3f}", name


def test_the_baseline_row_is_computed() -> None:
    row = next(cells for first, cells in table_rows().items() if first.startswith("independent Bernoulli"))
    assert row[0] == f"{independent_bernoulli_nll():.2f}"
