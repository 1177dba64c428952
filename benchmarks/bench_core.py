"""Benchmarks of zoo_core: CLI start-up and model loading, each against a baseline run side by side.

Run: ``.venv/bin/python benchmarks/bench_core.py`` (about a minute on 2 cores). Prints one JSON
line per figure on stdout, with the same keys every time:

    {"benchmark": ..., "what": ..., "value": ..., "unit": ..., "baseline": ...,
     "baseline_value": ..., "ratio": ..., "n": ...}

``value`` and ``baseline_value`` are medians of ``n`` interleaved runs; ``ratio`` is
value / baseline_value (below 1: faster than the baseline). A line with no baseline is a plain
median. Times are never asserted: machines are noisy, compare the ratios of one run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from _report import emit

REPO_ROOT = Path(__file__).resolve().parents[1]
_ENV_PREFIXES = ("HF_", "HUGGINGFACE_", "ZOO_")


def interleaved(cases: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """Median seconds of each case, the cases taking turns (order reversed every other round)."""
    times: dict[str, list[float]] = {name: [] for name in cases}
    order = list(cases)
    for i in range(repeat):
        for name in order if i % 2 == 0 else reversed(order):
            start = time.perf_counter()
            cases[name]()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_ENV_PREFIXES)}
    env["HF_HUB_DISABLE_TELEMETRY"] = "1"
    env.update(extra)
    return env


# -- a) CLI start-up -----------------------------------------------------------------------------
def bench_cli(repeat: int) -> None:
    with tempfile.TemporaryDirectory(prefix="zoo-bench-cache-") as cache:
        _bench_cli(repeat, Path(cache))


def _bench_cli(repeat: int, cache: Path) -> None:
    """`zoo list` with warm caches (the entry-point scan and the validated catalog in $ZOO_CACHE), and cold."""
    env = clean_env(ZOO_CACHE=str(cache / "warm"))

    def command(args: list[str], env: dict[str, str] = env) -> Callable[[], object]:
        return lambda: subprocess.run(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)

    runs = iter(range(10**9))

    def cold() -> object:  # a fresh, empty $ZOO_CACHE each time: the scan and the schema validation both run
        return command([py, "-m", "zoo_core", "list"], clean_env(ZOO_CACHE=str(cache / f"cold-{next(runs)}")))()

    py = sys.executable
    cases = {
        "zoo list (python -m zoo_core list)": command([py, "-m", "zoo_core", "list"]),
        "zoo list, cold $ZOO_CACHE (python -m zoo_core list)": cold,
        "python -c pass": command([py, "-c", "pass"]),
        "python -c 'import torch'": command([py, "-c", "import torch"]),
    }
    script = Path(py).parent / "zoo"
    if script.exists():
        cases["zoo list (console script)"] = command([str(script), "list"])
    for case in cases.values():  # warm the page cache, .pyc files and zoo's caches
        case()
    medians = interleaved(cases, repeat)
    for name, median in medians.items():
        emit("cli_startup", name, median, "s", repeat)
    for name in [c for c in cases if c.startswith("zoo list")]:
        for base in ("python -c 'import torch'", "python -c pass"):
            emit("cli_startup", name, medians[name], "s", repeat, base, medians[base])


# -- b) loading vae.mnist with a warm cache ------------------------------------------------------
def bench_vae_load(repeat: int) -> None:
    """Serve hub/ with olah, then time the loads in a child whose environment points at it."""
    from zoo_core import ZooError
    from zoo_core.hub_server import HubServer

    try:
        with tempfile.TemporaryDirectory(prefix="zoo-bench-") as home, HubServer(REPO_ROOT / "hub") as hub:
            env = clean_env(HF_ENDPOINT=hub.endpoint, HF_HOME=home)
            args = [sys.executable, __file__, "--vae-child", "--repeat", str(repeat)]
            subprocess.run(args, env=env, check=True)
    except (ZooError, subprocess.CalledProcessError) as exc:
        emit("vae_load", f"skipped: {exc}", None, "s", 0)


def vae_child(repeat: int) -> None:
    """In a process with HF_ENDPOINT / HF_HOME set before huggingface_hub is imported."""
    from safetensors.torch import load_file

    import zoo_core as zoo
    from zoo_core._catalog import get_catalog
    from zoo_core._factory import model_class
    from zoo_core.hub.weights import fetch_weights

    name = "vae.mnist"
    info = get_catalog().resolve_model(name)
    cls = model_class(info.architecture)
    path = zoo.load(name).weights_path  # the download (warm-up): every later load hits the cache

    def baseline() -> object:
        model = cls(cls.config_class(**info.config))
        model.load_state_dict(load_file(path))
        return model.eval()

    cases = {
        "zoo.load": lambda: zoo.load(name),
        "from_weights": lambda: cls.from_weights(info.config, path).eval(),
        "fetch_weights": lambda: fetch_weights(info),
        "baseline": baseline,
    }
    for case in cases.values():
        case()
    m = interleaved(cases, repeat)
    base = "default init + load_state_dict(load_file)"
    same = _same_weights(zoo.load(name), baseline())
    emit(
        "vae_load",
        f"zoo.load({name!r}), warm cache",
        m["zoo.load"],
        "s",
        repeat,
        base,
        m["baseline"],
        same_weights=same,
    )
    what = f"{cls.__name__}.from_weights(config, path): meta device + assign"
    emit("vae_load", what, m["from_weights"], "s", repeat, base, m["baseline"])
    what = "fetch_weights: cache lookup + the record of verified files (the file was hashed once)"
    emit("vae_load", what, m["fetch_weights"], "s", repeat, "zoo.load (its share of it)", m["zoo.load"])


def _same_weights(a: object, b: object) -> bool:
    import torch

    sa, sb = a.state_dict(), b.state_dict()  # type: ignore[attr-defined]
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


# -- b') a 50M-parameter conv model: where building on the meta device pays ---------------------
def bench_big_load(repeat: int) -> None:
    import dataclasses

    import torch
    from safetensors.torch import load_file
    from torch import nn

    from zoo_core.hub.verify import sha256_file
    from zoo_core.modeling import ModelConfig, ZooModel

    @dataclasses.dataclass
    class ConvStackConfig(ModelConfig):
        channels: int = 512
        layers: int = 21

    class ConvStack(ZooModel):
        architecture = "bench-convstack"
        config_class = ConvStackConfig

        def __init__(self, config: ConvStackConfig) -> None:
            super().__init__(config)
            c = config.channels
            self.convs = nn.Sequential(*(nn.Conv2d(c, c, 3, padding=1) for _ in range(config.layers)))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.convs(x)

    def touch(model: nn.Module) -> nn.Module:
        with torch.no_grad():  # read every weight (safetensors maps the file lazily)
            for p in model.parameters():
                p.sum()
        return model

    config = ConvStackConfig()
    with tempfile.TemporaryDirectory(prefix="zoo-bench-big-") as tmp:
        folder = ConvStack(config).save_pretrained(tmp)
        path = folder / "model.safetensors"

        def baseline() -> nn.Module:
            model = ConvStack(config)
            model.load_state_dict(load_file(path))
            return model.eval()

        cases = {
            "from_pretrained": lambda: ConvStack.from_pretrained(folder),
            "baseline": baseline,
            "from_pretrained+touch": lambda: touch(ConvStack.from_pretrained(folder)),
            "baseline+touch": lambda: touch(baseline()),
            "sha256": lambda: sha256_file(path),
        }
        for case in cases.values():
            case()
        m = interleaved(cases, repeat)
        loaded = ConvStack.from_pretrained(folder)
        same = _same_weights(loaded, baseline())
        size = f"{loaded.num_parameters() / 1e6:.1f}M params, {path.stat().st_size / 1e6:.0f} MB"
        base = "default init + load_state_dict(load_file)"
        emit(
            "big_load",
            f"ConvStack.from_pretrained(folder), {size}",
            m["from_pretrained"],
            "s",
            repeat,
            base,
            m["baseline"],
            same_weights=same,
        )
        what, touched = "the same, then reading every weight once", ", then reading every weight once"
        emit("big_load", what, m["from_pretrained+touch"], "s", repeat, base + touched, m["baseline+touch"])
        what = "sha256 of the weights file (zoo.load pays it once per file: the record of verified files)"
        emit("big_load", what, m["sha256"], "s", repeat, base, m["baseline"])


# -- c) a cold process, warm cache: zoo.load of a 57M-parameter registry model (StackGAN stage II) ---------------------
COLD_NAME = "stackgan.bench-coco"


def bench_cold_load(repeat: int) -> None:
    """Each load in a fresh process whose imports are done before the clock starts; the weights file is in the
    page cache and verified once already (the record in ``$ZOO_CACHE/verified.json``): what a user's second and
    later ``zoo.load`` of a big model costs, against the naive torch load in the same run."""
    import json

    import zoo_core as zoo
    from zoo_core.hub.verify import sha256_file

    with tempfile.TemporaryDirectory(prefix="zoo-bench-cold-") as tmp:
        root = Path(tmp)
        folder = root / "hub" / "bench" / "stackgan-coco"
        registry = json.loads((REPO_ROOT / "registry.json").read_text())
        config = registry["models"]["stackgan.coco"]["config"]  # the authors' COCO stage-II generator
        model = zoo.create("stackgan", **config)
        model.save_pretrained(folder)
        written = time.time()
        weights = folder / "model.safetensors"
        entry = dict(registry["models"]["stackgan.mnist"])
        entry.update(config=model.config.to_dict(), num_params=model.num_parameters())
        entry["weights"] = {
            "repo_id": "bench/stackgan-coco",
            "filename": "model.safetensors",
            "revision": "0" * 40,
            "sha256": sha256_file(weights),
            "size": weights.stat().st_size,
        }
        (root / "registry.json").write_text(json.dumps({"version": 1, "models": {COLD_NAME: entry}}))
        size = f"{model.num_parameters() / 1e6:.1f}M params, {weights.stat().st_size / 1e6:.0f} MB"
        del model
        env = clean_env(
            ZOO_REGISTRY=str(root / "registry.json"), ZOO_HUB_DIR=str(root / "hub"), ZOO_CACHE=str(root / "cache")
        )

        def child(case: str) -> float:
            args = [sys.executable, __file__, "--cold-child", case, "--cold-weights", str(weights)]
            done = subprocess.run(args, env=env, capture_output=True, text=True)
            if done.returncode:
                raise RuntimeError(f"the {case} child failed: {done.stderr.strip()[-2000:]}")
            return float(done.stdout.strip().splitlines()[-1])

        time.sleep(max(0.0, written + 2.2 - time.time()))  # a file younger than 2 s is hashed but not recorded
        first = child("zoo")  # first use: hashed in full, then recorded
        times: dict[str, list[float]] = {"zoo": [], "baseline": [], "zoo-unrecorded": []}
        for i in range(repeat):
            cases = ["zoo", "baseline"]
            for case in cases if i % 2 == 0 else reversed(cases):
                times[case].append(child(case))
        for _ in range(repeat):  # no record: every process re-hashes the file (what zoo did before it kept one)
            (root / "cache" / "verified.json").unlink()
            times["zoo-unrecorded"].append(child("zoo-unrecorded"))
        m = {case: statistics.median(values) for case, values in times.items()}
        base = "fresh process: StackGAN(config) (default init) + load_state_dict(load_file(path))"
        what = f"fresh process: zoo.load({COLD_NAME!r}), {size}, weights verified by an earlier process"
        emit("cold_load", what, m["zoo"], "s", repeat, base, m["baseline"], first_use_s=round(first, 4))
        what = f"fresh process: zoo.load({COLD_NAME!r}) without the record (sha256 of the file on every load)"
        emit("cold_load", what, m["zoo-unrecorded"], "s", repeat, base, m["baseline"])


def cold_child(case: str, weights: str) -> None:
    """Import everything first, then time one load; print the seconds."""
    from safetensors.torch import load_file

    import zoo_core as zoo
    from zoo_core._catalog import get_catalog
    from zoo_core._factory import model_class

    info = get_catalog().resolve_model(COLD_NAME)  # registry read and plugins discovered before the clock
    cls = model_class(info.architecture)  # the plugin's model module imported before the clock
    start = time.perf_counter()  # nothing else warmed up: the build on meta must not pay torch's lazy imports
    if case == "baseline":
        model = cls(cls.config_class(**info.config))
        model.load_state_dict(load_file(weights))
        model.eval()
    else:
        zoo.load(COLD_NAME)
    print(time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=50, help="Loads of vae.mnist per case.")
    parser.add_argument("--cli-repeat", type=int, default=7, help="CLI runs per case.")
    parser.add_argument("--big-repeat", type=int, default=15, help="Loads of the 50M model per case.")
    parser.add_argument("--cold-repeat", type=int, default=3, help="Fresh processes per case of the cold load.")
    parser.add_argument("--only", choices=["cli", "vae", "big", "cold"], help="Run one benchmark only.")
    parser.add_argument("--vae-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--cold-child", help=argparse.SUPPRESS)
    parser.add_argument("--cold-weights", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.vae_child:
        vae_child(args.repeat)
        return
    if args.cold_child:
        cold_child(args.cold_child, args.cold_weights)
        return
    import torch

    print(
        f"# python {sys.version.split()[0]}, torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"{os.cpu_count()} CPUs",
        file=sys.stderr,
    )
    runs = {
        "cli": lambda: bench_cli(args.cli_repeat),
        "vae": lambda: bench_vae_load(args.repeat),
        "big": lambda: bench_big_load(args.big_repeat),
        "cold": lambda: bench_cold_load(args.cold_repeat),
    }
    for name, run in runs.items():
        if args.only in (None, name):
            run()


if __name__ == "__main__":
    main()
