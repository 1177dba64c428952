"""The demo: serve our Hub on loopback, then download and sample every model zoo trained.

Runs the real ``zoo`` command throughout: ``zoo hub serve hub`` in the background, then, with
``HF_ENDPOINT`` pointing at it and a private ``HF_HOME`` (``<out>/hf-home``), for each model of
``zoo list --json`` whose source is ``zoo``: ``zoo load NAME`` and, for models that draw
images, ``zoo sample NAME -n 64 --seed 0 -o <out>/NAME.png`` (text-to-image models with the
sentence of ``TEXTS``); anomaly detectors score ten held-out digits, one of each class
(``zoo score NAME <out>/inputs/digits-SIZE --json``, into ``<out>/NAME-scores.json``), and image
editors edit them to every class (``zoo edit NAME <out>/inputs/digits-SIZE --grid -o
<out>/NAME-edits.png``). Models from upstream authors need the internet and are only listed. Exit
status 1 if any model failed.

Usage: ``bash scripts/demo.sh [--out out/demo]`` (or ``python scripts/demo.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import shlex
import signal
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ZOO = [sys.executable, "-m", "zoo_core"]
#: what the demo asks our text-to-image models to draw
TEXTS = {"stackgan.mnist": "a thick seven slanting to the right"}
# Inherited Hub settings would send the demo elsewhere (ZOO_HUB_DIR bypasses the Hub altogether).
DROPPED = ("HF_", "HUGGINGFACE_", "ZOO_HUB_DIR")


def zoo(*args: str, env: dict[str, str]) -> int:
    """Run ``zoo ARGS``, its output going to ours; return its exit status."""
    print(f"\n$ zoo {shlex.join(args)}", flush=True)
    return subprocess.run([*ZOO, *args], env=env, check=False).returncode


def start_hub(folder: Path, env: dict[str, str], timeout: float = 120.0) -> tuple[subprocess.Popen[str], str]:
    """Start ``zoo hub serve FOLDER`` and return it with its endpoint, once it has printed it."""
    print(f"$ zoo hub serve {folder} --port 0", flush=True)
    server = subprocess.Popen(
        [*ZOO, "hub", "serve", str(folder), "--port", "0"],
        env=env,
        stdout=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:  # keep reading, so the server never blocks on a full pipe
        for line in server.stdout:  # type: ignore[union-attr]
            lines.put(line)
        lines.put("")

    threading.Thread(target=pump, daemon=True).start()
    try:
        while line := lines.get(timeout=timeout):
            print(line, end="", flush=True)
            if line.startswith("export HF_ENDPOINT="):
                return server, line.strip().split("=", 1)[1]
    except queue.Empty:
        stop(server)
        raise SystemExit(f"zoo hub serve printed no HF_ENDPOINT within {timeout:.0f} s.") from None
    except BaseException:
        stop(server)
        raise
    raise SystemExit(f"zoo hub serve exited with status {server.wait()} before serving.")


def stop(server: subprocess.Popen[str]) -> None:
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def test_digits(out: Path, size: int) -> Path:
    """The first mnist5k test digit of each class at ``size`` x ``size``, as PNGs in ``out/inputs/digits-SIZE``."""
    from zoo_core._atomic import write_output
    from zoo_core.data import load_dataset
    from zoo_core.translate import encode_image

    folder = out / "inputs" / f"digits-{size}"
    folder.mkdir(parents=True, exist_ok=True)
    test = load_dataset("mnist5k", split="test", size=size)
    images, labels = test.tensors(), test.labels.tolist()
    for digit in range(10):
        target = folder / f"digit-{digit}.png"
        write_output(target, encode_image(images[labels.index(digit)], target))
    return folder


def verbs(model: dict, out: Path, env: dict[str, str]) -> tuple[int, list[str]]:
    """Run the verbs of the model's other tasks on held-out digits: exit status and the files written."""
    written, size = [], int((model.get("config") or {}).get("image_size", 28))
    if "anomaly-detection" in model["tasks"]:
        target = out / f"{model['name']}-scores.json"
        with open(target, "w") as stdout:
            status = subprocess.call(
                [*ZOO, "score", model["name"], str(test_digits(out, size)), "--json"], env=env, stdout=stdout
            )
        if status:
            return status, written
        written.append(str(target))
    if "image-editing" in model["tasks"]:
        target = out / f"{model['name']}-edits.png"
        status = zoo("edit", model["name"], str(test_digits(out, size)), "--grid", "-o", str(target), env=env)
        if status:
            return status, written
        written.append(str(target))
    return 0, written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "demo", help="output folder (default out/demo)")
    parser.add_argument("--hub", type=Path, default=ROOT / "hub", help="Hub folder to serve (default hub)")
    args = parser.parse_args(argv)
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(DROPPED)}
    env.update(HF_HOME=str(out / "hf-home"), HF_HUB_DISABLE_TELEMETRY="1", PYTHONUNBUFFERED="1")

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that `finally` stops the hub
    server = None
    try:
        server, endpoint = start_hub(args.hub, env)
        env["HF_ENDPOINT"] = endpoint
        listing = subprocess.run([*ZOO, "list", "--json"], env=env, capture_output=True, text=True)
        if listing.returncode:
            raise SystemExit(f"zoo list --json failed: {listing.stderr.strip()}")
        models = json.loads(listing.stdout)
        upstream = [m["name"] for m in models if m["source"] == "upstream"]
        if upstream:
            print(f"\nNot fetched (weights from the authors, need the internet): {', '.join(upstream)}")
        rows = []
        for model in [m for m in models if m["source"] == "zoo"]:
            name = model["name"]
            text = ["--text", TEXTS[name]] if "text-to-image" in model["tasks"] and name in TEXTS else []
            samples = "unconditional" in model["tasks"] or bool(text)
            grid = out / f"{name}.png"
            grid.unlink(missing_ok=True)
            status = zoo("load", name, env=env)
            if status == 0 and samples:
                status = zoo("sample", name, *text, "-n", "64", "--seed", "0", "-o", str(grid), env=env)
            written: list[str] = []
            if status == 0:
                status, written = verbs(model, out, env)
            if status:
                rows.append([name, f"FAILED (exit {status})", "-"])
            else:
                shown = ([str(grid)] if samples else []) + written
                rows.append([name, "ok", ", ".join(shown) or f"nothing drawn: a {', '.join(model['tasks'])} model"])
    finally:
        if server is not None:
            stop(server)

    rows += [[name, "skipped", "needs the internet, not fetched"] for name in upstream]
    print(f"\nSummary (64 samples each, seed 0; HF_HOME={env['HF_HOME']}):")
    widths = [max(len(row[i]) for row in [["MODEL", "STATUS", "OUTPUT"], *rows]) for i in range(3)]
    for row in [["MODEL", "STATUS", "OUTPUT"], *rows]:
        print("  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    failed = [row[0] for row in rows if row[1].startswith("FAILED")]
    if failed:
        print(f"\n{len(failed)} model(s) failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
