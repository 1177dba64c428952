"""The README's GAN tables say what the registry records (and the floors what they compute)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import zoo_core as zoo
from zoo_core.metrics.baselines import real_digits_fid_mnist

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.fixture(autouse=True)
def published_hub(monkeypatch: pytest.MonkeyPatch) -> None:
    """The floors need mnistnet.mnist5k's weights: the published files, sha256-checked."""
    monkeypatch.setenv("ZOO_HUB_DIR", str(README.parent / "hub"))


def table(heading: str) -> dict[str, list[str]]:
    """The first table after ``heading``: first cell -> the other cells."""
    text = README.read_text(encoding="utf-8").split(heading, 1)[1]
    lines = text[text.index("\n| ") + 1 :].split("\n\n", 1)[0].splitlines()[2:]
    return {cells[0]: cells[1:] for cells in ([c.strip() for c in line.strip("|").split("|")] for line in lines)}


def ours(rows: dict[str, list[str]]) -> dict[str, list[str]]:
    return {re.match(r"`([^`]+)`", first).group(1): cells for first, cells in rows.items() if first.startswith("`")}


def recorded(name: str, metric: str, **match: object) -> float:
    records = [
        m for m in zoo.info(name).metrics if m["name"] == metric and all(m.get(k) == v for k, v in match.items())
    ]
    assert len(records) == 1, (name, metric, records)
    return float(records[0]["value"])


def sample_fid(name: str) -> float | None:
    """The model's FID-MNIST of 500 samples against the 28x28 test digits, if it has one."""
    records = [
        m
        for m in zoo.info(name).metrics
        if m["name"] == "fid-mnist" and m.get("evaluation") == "samples" and m.get("dataset") == "mnist5k"
    ]
    if not records:
        return None
    (record,) = records
    assert record["samples"] == 500 and record.get("seed") == 0 and not record.get("dataset_options"), name
    return float(record["value"])


def test_every_gan_of_ours_with_a_sample_fid_is_a_row_with_its_recorded_value() -> None:
    rows = ours(table("### One FID-MNIST table for the GANs"))
    gans = [n for n in zoo.list_models() if zoo.info(n).source == "zoo" and "gan" in zoo.info(n).tags]
    with_fid = {n: fid for n in gans if (fid := sample_fid(n)) is not None}
    assert set(with_fid) <= set(rows), "a GAN of ours is missing from the README's FID-MNIST table"
    for name, cells in rows.items():
        fid = sample_fid(name)
        assert fid is not None, f"{name} has no FID-MNIST of samples recorded"
        assert cells[1] == f"{fid:.1f}", name


@pytest.mark.parametrize("size", [28, 32])
def test_the_real_digit_floors_are_computed(size: int) -> None:
    rows = table("### One FID-MNIST table for the GANs")
    row = next(cells for first, cells in rows.items() if first.startswith(f"500 real training digits at {size}x{size}"))
    assert row[1] == f"{real_digits_fid_mnist(size):.1f}"


def test_discogan_and_cyclegan_side_by_side_are_their_records() -> None:
    rows = ours(table("### Unpaired translation, scikit-learn digits to MNIST"))
    assert {"cyclegan.digits2mnist", "discogan.digits2mnist"} <= set(rows)
    for name, (ab, ba, fid, preserved, *_rest) in rows.items():
        assert ab == f"{recorded(name, 'cycle-l1', metric_options={'direction': 'AtoB'}):.4f}", name
        assert ba == f"{recorded(name, 'cycle-l1', metric_options={'direction': 'BtoA'}):.4f}", name
        assert fid == f"{recorded(name, 'fid-mnist'):.1f}", name
        assert preserved == f"{recorded(name, 'digit-preserved'):.3f}", name


def test_every_anogan_of_ours_is_a_row_and_the_mean_is_theirs() -> None:
    rows = ours(table("### Anomaly detection, one held-out digit"))
    anogans = sorted(n for n in zoo.list_models() if n.startswith("anogan.") and zoo.info(n).source == "zoo")
    assert anogans and set(anogans) == set(rows)
    values = []
    for name, (digit, auroc, *_rest) in rows.items():
        assert int(digit) == zoo.info(name).config["anomaly_class"], name
        values.append(recorded(name, "auroc"))
        assert auroc == f"{values[-1]:.3f}", name
    mean = next(cells for first, cells in table("### Anomaly detection, one held-out digit").items() if first == "mean")
    assert mean[1] == f"{sum(values) / len(values):.3f}"
