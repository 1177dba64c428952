"""Publish the best epoch of a `train_until_plateau.sh` run as hub/zoo/FOLDER, with its training curve in the card.

    python plugins/zoo-pixelcnn/scripts/publish_run.py RUN_DIR NAME HUB_FOLDER BODY.md

Copies RUN_DIR/best (the Hub folder of the epoch with the lowest held-out metric) to HUB_FOLDER, renders the
card with BODY.md below the generated part ({curve} and {stopped} in it are replaced by the run's per-epoch
table and its stopping reason), and registers it in the shipped registry.json through zoo_core.publish
(sha256, size and revision read off the files). Run `zoo eval NAME` afterwards to check the recorded numbers.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from zoo_core._atomic import atomic_write_text
from zoo_core.publish import register_model, render_card


def curve_table(run: Path, best_epoch: int) -> str:
    lines = ["| epoch | held-out nll-binarized (nats) | minutes |", "| --- | --- | --- |"]
    rows = (run / "curve.tsv").read_text().splitlines()[1:]
    for row in rows:
        epoch, value, seconds = row.split("\t")
        mark = " (published)" if int(epoch) == best_epoch else ""
        lines.append(f"| {epoch}{mark} | {float(value):.2f} | {int(seconds) / 60:.1f} |")
    return "\n".join(lines)


def main(run_dir: str, name: str, hub_folder: str, body_file: str) -> None:
    run, target = Path(run_dir), Path(hub_folder)
    saved = json.loads((run / "best" / "zoo-entry.json").read_text())
    entry = saved["entry"]
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(run / "best", target, ignore=shutil.ignore_patterns("zoo-entry.json"))
    best_epoch = round(float(entry["made_by"]["command"].split("--epochs ")[1].split()[0]))
    body = Path(body_file).read_text()
    body = body.replace("{curve}", curve_table(run, best_epoch))
    body = body.replace("{stopped}", (run / "stopped.txt").read_text().strip())
    body = f"## Samples\n\n![64 samples, seed 0](samples.png)\n\n{body}" if (target / "samples.png").exists() else body
    atomic_write_text(target / "README.md", render_card(name, entry, body))
    registered = register_model(name, target, entry, repo_id=saved["repo_id"])
    print(f"published {name} -> {target} (epoch {best_epoch}), weights {registered['weights']['sha256'][:12]}")


if __name__ == "__main__":
    main(*sys.argv[1:5])
