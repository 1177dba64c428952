"""Train ``gan.mnist`` in chunks of epochs with ``zoo train --resume``, scoring FID-MNIST and the Parzen LL after each.

    OMP_NUM_THREADS=1 ZOO_HUB_DIR=hub python plugins/zoo-gan/scripts/train_until_plateau.py runs/gan-mnist
    python plugins/zoo-gan/scripts/train_until_plateau.py runs/gan-mnist --publish hub/zoo/gan-mnist BODY.md

Stops when FID-MNIST (lower is better) has not improved for ``--patience`` evaluations, at
``--max-epochs`` or after ``--budget-s`` seconds, whichever comes first; RUN/curve.tsv holds every
evaluation and RUN/best/ the Hub folder (and zoo-entry.json) of the evaluation with the best FID-MNIST.
``--publish HUB_FOLDER BODY.md`` copies RUN/best there, writes the card (``{curve}`` and
``{stopped}`` in BODY.md become the curve table and the stopping reason) and registers it in
the shipped registry.json through ``zoo_core.publish``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import time
from pathlib import Path

NAME, REPO = "gan.mnist", "zoo/gan-mnist"
COLUMNS = ("epoch", "fid-mnist", "parzen-ll", "parzen-ll-se", "seconds")


def _metrics(run: Path) -> dict[str, float]:
    entry = json.loads((run / "zoo-entry.json").read_text())["entry"]
    return {m["name"]: float(m["value"]) for m in entry["metrics"]}


def _rows(run: Path) -> list[dict[str, float]]:
    path = run / "curve.tsv"
    if not path.exists():
        return []
    return [dict(zip(COLUMNS, map(float, line.split("\t")), strict=True)) for line in path.read_text().splitlines()[1:]]


def train(run: Path, every: int, patience: int, max_epochs: int, budget_s: float, seed: int) -> None:
    run.mkdir(parents=True, exist_ok=True)
    rows = _rows(run)
    if not rows:
        (run / "curve.tsv").write_text("\t".join(COLUMNS) + "\n")
    start = time.time() - (rows[-1]["seconds"] if rows else 0.0)
    stop = f"the epoch cap ({max_epochs})"
    while True:
        epoch = int(rows[-1]["epoch"]) + every if rows else every
        if epoch > max_epochs:
            break
        command = ["zoo", "train", "gan", "--dataset", "mnist5k", "--out", str(run), "--epochs", str(epoch),
                   "--seed", str(seed), "--name", NAME, "--repo-id", REPO]  # fmt: skip
        if rows:
            command.append("--resume")
        with open(run / f"epoch-{epoch}.log", "w") as log:
            subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, check=True)
        values = _metrics(run)
        row = {"epoch": epoch, **{k: values[k] for k in COLUMNS[1:4]}, "seconds": round(time.time() - start)}
        rows.append(row)
        with open(run / "curve.tsv", "a") as out:
            out.write("\t".join(f"{row[k]:g}" for k in COLUMNS) + "\n")
        print("\t".join(f"{row[k]:g}" for k in COLUMNS), flush=True)
        best = min(rows, key=lambda r: r["fid-mnist"])
        if best is row:
            shutil.rmtree(run / "best", ignore_errors=True)
            shutil.copytree(run / "model", run / "best")
            shutil.copy(run / "zoo-entry.json", run / "best" / "zoo-entry.json")
        if len(rows) - 1 - rows.index(best) >= patience:
            stop = f"FID-MNIST did not improve for {patience} evaluations ({patience * every} epochs)"
            break
        if row["seconds"] >= budget_s:
            stop = f"the time budget ({budget_s:g} s)"
            break
    best = min(rows, key=lambda r: r["fid-mnist"])
    text = (
        f"stopped after epoch {int(rows[-1]['epoch'])}: {stop}; best FID-MNIST {best['fid-mnist']:.2f} "
        f"at epoch {int(best['epoch'])}"
    )
    (run / "stopped.txt").write_text(text + "\n")
    print(text)


def curve_table(run: Path, published: int) -> str:
    lines = [
        "| epoch | updates | FID-MNIST (500 samples) | Parzen LL (nats, 10,000 samples) | minutes |",
        "| --- | --- | --- | --- | --- |",
    ]
    for row in _rows(run):
        epoch = int(row["epoch"])
        mark = " (published)" if epoch == published else ""
        lines.append(
            f"| {epoch}{mark} | {epoch * 45:,} | {row['fid-mnist']:.1f} | {row['parzen-ll']:.1f} ± "
            f"{row['parzen-ll-se']:.1f} | {row['seconds'] / 60:.1f} |"
        )
    return "\n".join(lines)


def publish(run: Path, hub_folder: Path, body_file: Path) -> None:
    from zoo_core._atomic import atomic_write_text
    from zoo_core.publish import register_model, render_card

    saved = json.loads((run / "best" / "zoo-entry.json").read_text())
    entry = saved["entry"]
    published = int(entry["made_by"]["command"].split("--epochs ")[1].split()[0])
    if hub_folder.exists():
        shutil.rmtree(hub_folder)
    shutil.copytree(run / "best", hub_folder, ignore=shutil.ignore_patterns("zoo-entry.json"))
    values = {m["name"]: m for m in entry["metrics"]}
    parzen = values["parzen-ll"]
    fields = {
        "{curve}": curve_table(run, published),
        "{stopped}": (run / "stopped.txt").read_text().strip(),
        "{fid}": f"{values['fid-mnist']['value']:.1f}",
        "{parzen}": f"{parzen['value']:.1f} ± {values['parzen-ll-se']['value']:.1f}",
        "{sigma}": parzen["protocol"].rsplit("chosen sigma ", 1)[1],
        "{command}": entry["made_by"]["command"],
    }
    body = body_file.read_text()
    for key, value in fields.items():
        body = body.replace(key, value)
    atomic_write_text(hub_folder / "README.md", render_card(NAME, entry, body))
    registered = register_model(NAME, hub_folder, entry, repo_id=saved["repo_id"])
    print(f"published {NAME} (epoch {published}) -> {hub_folder}, sha256 {registered['weights']['sha256'][:12]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--every", type=int, default=40, help="epochs between evaluations")
    parser.add_argument("--patience", type=int, default=5, help="evaluations without a better FID-MNIST")
    parser.add_argument("--max-epochs", type=int, default=2000)
    parser.add_argument("--budget-s", type=float, default=2880)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--publish", nargs=2, type=Path, metavar=("HUB_FOLDER", "BODY_MD"))
    args = parser.parse_args()
    if args.publish:
        publish(args.run, *args.publish)
    else:
        train(args.run, args.every, args.patience, args.max_epochs, args.budget_s, args.seed)


if __name__ == "__main__":
    main()
