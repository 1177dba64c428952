"""Train any architecture in chunks with ``zoo train --resume``, scoring its held-out metric after each chunk.

    OMP_NUM_THREADS=1 ZOO_HUB_DIR=hub python scripts/train_until_plateau.py runs/wgan-mnist \\
        --metric fid-mnist --unit steps --every 3000 --patience 3 --max 60000 --budget-s 3600 \\
        --log-column wasserstein -- \\
        zoo train wgan --dataset mnist5k --dataset-option size=32 --config image_size=32 --config channels=1 \\
        --seed 1 --name wgan.mnist --repo-id zoo/wgan-mnist
    python scripts/train_until_plateau.py runs/wgan-mnist --publish hub/zoo/wgan-mnist BODY.md

The command after ``--`` is ``zoo train`` without ``--out`` and without ``--steps`` / ``--epochs``: this script
adds ``--out RUN``, the chunk's end (``--steps N`` or ``--epochs N``, by ``--unit``) and, after the first chunk,
``--resume``. ``zoo train`` scores its final metrics on held-out data at the end of every chunk (zoo-entry.json);
the run stops when ``--metric`` has not improved for ``--patience`` evaluations, at ``--max`` or after
``--budget-s`` seconds, whichever comes first. ``--log-column`` adds the mean of a logged training quantity
over each chunk's last tenth (e.g. WGAN's ``wasserstein`` estimate) to the curve.

RUN/curve.jsonl holds every evaluation (all final metrics), RUN/best/ the Hub folder of the best one, and
RUN/stopped.txt why the run stopped. Starting again on a RUN with a curve goes on from where it stopped (best,
patience and the budget's clock carry over). The whole run holds /tmp/zoo-train.lock unless ``--no-lock``
(the machine is shared: two trainings never compete for its cores by accident).

``--publish HUB_FOLDER BODY.md`` copies RUN/best (RUN/model for a run of one plain ``zoo train``) to HUB_FOLDER,
draws the curve as curve.png there, writes the card (in BODY.md, ``{curve}`` becomes the curve table,
``{stopped}`` the stopping reason, ``{command}`` the published command, ``{metric:NAME}`` a final metric's
value, ``{trend:COLUMN}`` how a ``--log-column`` moved with the metric) and registers the model in the shipped
registry.json through ``zoo_core.publish``. Run ``zoo eval NAME``
afterwards to check the recorded numbers.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path


def _entry(folder: Path) -> dict:
    return json.loads((folder / "zoo-entry.json").read_text())


def _metrics(entry: dict) -> dict[str, float]:
    """Final metric name -> value; a name recorded twice (cycle-l1 both ways) gets its options: ``cycle-l1 (AtoB)``."""
    names = [m["name"] for m in entry["metrics"]]
    out = {}
    for m in entry["metrics"]:
        key = m["name"]
        if names.count(key) > 1:
            key += f" ({', '.join(map(str, (m.get('metric_options') or {}).values())) or m.get('dataset')})"
        out[key] = float(m["value"])
    return out


def _rows(run: Path) -> list[dict]:
    path = run / "curve.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _log_mean(run: Path, column: str, since_step: int) -> float | None:
    """The mean of ``column`` over the last tenth of the log lines after ``since_step``."""
    values = []
    with open(run / "log.jsonl") as log:
        for line in log:
            record = json.loads(line)
            if record.get("step", 0) > since_step and column in record:
                values.append(float(record[column]))
    tail = values[-max(1, len(values) // 10) :]
    return sum(tail) / len(tail) if tail else None


def _best(rows: list[dict], metric: str, higher: bool) -> dict:
    return (max if higher else min)(rows, key=lambda r: r["metrics"][metric])


def train(args: argparse.Namespace, command: list[str]) -> None:
    run: Path = args.run
    run.mkdir(parents=True, exist_ok=True)
    rows = _rows(run)
    start = time.time() - (rows[-1]["seconds"] if rows else 0.0)
    stop = f"the cap ({args.max} {args.unit})"
    while True:
        at = rows[-1][args.unit] + args.every if rows else args.every
        if at > args.max:
            break
        chunk = [*command, "--out", str(run), f"--{args.unit}", str(at), *(["--resume"] if rows else [])]
        last_step = rows[-1].get("step", 0) if rows else 0
        with open(run / f"chunk-{at}.log", "w") as log:
            done = subprocess.run(chunk, stdout=log, stderr=subprocess.STDOUT)
        if done.returncode:
            sys.exit(f"`{' '.join(chunk)}` failed (exit {done.returncode}); see {run / f'chunk-{at}.log'}.")
        entry = _entry(run)
        summary = json.loads((run / "summary.json").read_text()) if (run / "summary.json").exists() else {}
        row = {args.unit: at, "metrics": _metrics(entry["entry"]), "seconds": round(time.time() - start)}
        if "steps" in summary:
            row["step"] = summary["steps"]
        for column in args.log_column:
            row.setdefault("logged", {})[column] = _log_mean(run, column, last_step)
        rows.append(row)
        with open(run / "curve.jsonl", "a") as out:
            out.write(json.dumps(row) + "\n")
        print(json.dumps(row), flush=True)
        best = _best(rows, args.metric, args.higher_is_better)
        if best is row:
            shutil.rmtree(run / "best", ignore_errors=True)
            shutil.copytree(run / "model", run / "best")
            shutil.copy(run / "zoo-entry.json", run / "best" / "zoo-entry.json")
        if len(rows) - 1 - rows.index(best) >= args.patience:
            span = f"{args.patience * args.every} {args.unit}"
            stop = f"{args.metric} did not improve for {args.patience} evaluations ({span})"
            break
        if row["seconds"] >= args.budget_s:
            stop = f"the time budget ({args.budget_s:g} s)"
            break
    best = _best(rows, args.metric, args.higher_is_better)
    text = (
        f"stopped after {rows[-1][args.unit]} {args.unit}: {stop}; best {args.metric} "
        f"{best['metrics'][args.metric]:.4g} at {best[args.unit]} {args.unit}"
    )
    (run / "stopped.txt").write_text(text + "\n")
    (run / "curve-meta.json").write_text(json.dumps({"unit": args.unit, "metric": args.metric}))
    print(text)


def curve_table(run: Path, published: int) -> str:
    meta = json.loads((run / "curve-meta.json").read_text())
    unit, rows = meta["unit"], _rows(run)
    metrics = list(rows[0]["metrics"])
    logged = list(rows[0].get("logged", {}))
    header = [unit, *metrics, *(f"{c} (training log)" for c in logged), "minutes"]
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for row in rows:
        mark = " (published)" if row[unit] == published else ""
        cells = [f"{row[unit]:,}{mark}", *(f"{row['metrics'].get(m, float('nan')):.4g}" for m in metrics)]
        cells += [f"{row['logged'][c]:.4g}" if row["logged"].get(c) is not None else "-" for c in logged]
        lines.append("| " + " | ".join([*cells, f"{row['seconds'] / 60:.1f}"]) + " |")
    return "\n".join(lines)


def trend(run: Path, column: str) -> str:
    """How a logged column moved with the held-out metric over the curve: a sentence for the card."""
    meta = json.loads((run / "curve-meta.json").read_text())
    rows = [r for r in _rows(run) if r.get("logged", {}).get(column) is not None]
    metric = [r["metrics"][meta["metric"]] for r in rows]
    logged = [r["logged"][column] for r in rows]
    same = sum(
        (m2 - m1) * (l2 - l1) > 0 for m1, m2, l1, l2 in zip(metric, metric[1:], logged, logged[1:], strict=False)
    )

    def ranks(values: list[float]) -> list[int]:
        order = sorted(range(len(values)), key=values.__getitem__)
        return [order.index(i) for i in range(len(values))]

    n = len(rows)
    d2 = sum((a - b) ** 2 for a, b in zip(ranks(metric), ranks(logged), strict=True))
    rho = 1 - 6 * d2 / (n * (n * n - 1)) if n > 1 else float("nan")
    return (
        f"Over the {n} evaluations, `{column}` moved in the same direction as {meta['metric']} between {same} of "
        f"the {n - 1} consecutive pairs; Spearman's rank correlation of the two columns is {rho:.2f}."
    )


def curve_png(run: Path, target: Path, published: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    meta = json.loads((run / "curve-meta.json").read_text())
    unit, metric, rows = meta["unit"], meta["metric"], _rows(run)
    figure, axis = plt.subplots(figsize=(5, 3.2), dpi=100)
    axis.plot([r[unit] for r in rows], [r["metrics"][metric] for r in rows], "o-", label=metric)
    axis.axvline(published, color="grey", linestyle=":", label="published")
    axis.set_xlabel(unit)
    axis.set_ylabel(f"held-out {metric}")
    logged = list(rows[0].get("logged", {}))
    if logged:
        twin = axis.twinx()
        for column in logged:
            twin.plot([r[unit] for r in rows], [r["logged"][column] for r in rows], "s--", color="tab:red")
            twin.set_ylabel(f"{column} (training log)", color="tab:red")
    axis.legend(loc="upper right", fontsize=8)
    figure.tight_layout()
    figure.savefig(target / "curve.png")
    plt.close(figure)


def publish(run: Path, hub_folder: Path, body_file: Path) -> None:
    from zoo_core._atomic import atomic_write_text
    from zoo_core.publish import register_model, render_card

    chunked = (run / "curve-meta.json").exists()  # else one plain `zoo train` run: its model/ is published
    source = run / "best" if chunked else run / "model"
    saved = _entry(source if chunked else run)
    entry, name = saved["entry"], saved["name"]
    unit = json.loads((run / "curve-meta.json").read_text())["unit"] if chunked else "steps"
    published = int(float(entry["made_by"]["command"].split(f"--{unit} ")[1].split()[0])) if chunked else 0
    if hub_folder.exists():
        shutil.rmtree(hub_folder)
    shutil.copytree(source, hub_folder, ignore=shutil.ignore_patterns("zoo-entry.json"))
    if chunked:
        curve_png(run, hub_folder, published)
    body = body_file.read_text()
    fields = {
        "{curve}": curve_table(run, published) + "\n\n![training curve](curve.png)" if chunked else "",
        "{stopped}": (run / "stopped.txt").read_text().strip() if chunked else "",
        "{command}": entry["made_by"]["command"],
        **{f"{{metric:{k}}}": f"{v:.4g}" for k, v in _metrics(entry).items()},
    }
    if chunked:
        for column in _rows(run)[0].get("logged", {}):
            fields[f"{{trend:{column}}}"] = trend(run, column)
    for key, value in fields.items():
        body = body.replace(key, value)
    if (hub_folder / "samples.png").exists() and "samples.png" not in body:
        body = f"## Samples\n\n![64 samples, seed 0](samples.png)\n\n{body}"
    atomic_write_text(hub_folder / "README.md", render_card(name, entry, body))
    registered = register_model(name, hub_folder, entry, repo_id=saved["repo_id"])
    print(f"published {name} ({published} {unit}) -> {hub_folder}, sha256 {registered['weights']['sha256'][:12]}")


def main() -> None:
    argv = sys.argv[1:]
    command = argv[argv.index("--") + 1 :] if "--" in argv else []
    argv = argv[: argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--metric", default="fid-mnist", help="the held-out final metric that decides")
    parser.add_argument("--higher-is-better", action="store_true")
    parser.add_argument("--unit", choices=("steps", "epochs"), default="epochs")
    parser.add_argument("--every", type=int, default=1, help="steps or epochs between evaluations")
    parser.add_argument("--patience", type=int, default=3, help="evaluations without a better metric")
    parser.add_argument("--max", type=int, default=10**9, help="the last step or epoch")
    parser.add_argument("--budget-s", type=float, default=3600)
    parser.add_argument("--log-column", action="append", default=[], help="a logged quantity for the curve")
    parser.add_argument("--no-lock", action="store_true", help="do not wait for /tmp/zoo-train.lock")
    parser.add_argument("--publish", nargs=2, type=Path, metavar=("HUB_FOLDER", "BODY_MD"))
    args = parser.parse_args(argv)
    if args.publish:
        publish(args.run, *args.publish)
        return
    if not command or command[:2] != ["zoo", "train"]:
        parser.error("give the `zoo train ...` command after --")
    if args.no_lock:
        train(args, command)
        return
    with open("/tmp/zoo-train.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        train(args, command)


if __name__ == "__main__":
    main()
