"""Image-to-image speed: the CycleGAN generator at 256x256 (fp32, channels_last, bf16, compile) and tiled SR.

Run: ``.venv/bin/python benchmarks/bench_translation.py`` (a few minutes on 2 cores; ``--help``).
Prints one JSON line per figure on stdout, with the keys of ``bench_core.py``.

- ``cyclegan_generator``: images / s of the CycleGAN generator (``zoo_core.layers``
  ResnetGenerator, resnet_9blocks, instance norm, 11.4 M parameters, the official checkpoints'
  network; random init) on one 256x256 RGB image per call, under ``torch.inference_mode``: fp32,
  channels_last, bf16 (``torch.autocast``) and ``torch.compile``, each against fp32 in the same
  run, the cases taking turns (medians). ``ratio`` = value / baseline_value above 1 is *faster*.
- ``cyclegan_gflops``: the achieved GFLOP/s of each variant (FLOPs of one image counted by
  ``torch.utils.flop_counter``: convolutions and transposed convolutions) as a fraction of the
  faster fp32 4096x4096 matmul of the same run (``torch.mm`` or oneDNN's, see ``bench_dcgan.py``).
- ``sr_tiled_time`` / ``sr_tiled_memory``: ``srgan.x4_photos`` (our x4 SRResNet, from ``hub/``)
  upscaling scikit-image's 512x512 astronaut to 2048x2048 in tiles (128 LR pixels and 40 of
  context by default) against the whole image at once: seconds, and the peak resident memory
  above that of the loaded model, each run in a fresh process; ``max_abs_diff`` between the two
  outputs. Skipped when zoo-srgan is not installed.

Times are never asserted: compare the ratios of one run.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import torch
from _report import emit
from bench_dcgan import matmul_gflops, matmuls
from bench_training import interleaved
from safetensors.torch import load_file, save_file

import zoo_core._catalog
from zoo_core.layers import define_generator


def cyclegan_generator() -> torch.nn.Module:
    torch.manual_seed(0)
    return define_generator("resnet_9blocks", 3, 3, 64, norm="instance").eval()


def conv_flops(net: torch.nn.Module, x: torch.Tensor) -> int:
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter, torch.inference_mode():
        net(x)
    return counter.get_total_flops()


def images_per_s(net: torch.nn.Module, x: torch.Tensor, calls: int, autocast: bool = False) -> Callable[[], float]:
    context = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if autocast else nullcontext

    def run() -> float:
        with torch.inference_mode(), context():
            start = time.perf_counter()
            for _ in range(calls):
                net(x)
            return calls / (time.perf_counter() - start)

    return run


def bench_cyclegan(repeat: int, calls: int, compile_: bool) -> None:
    net = cyclegan_generator()
    x = torch.rand(1, 3, 256, 256) * 2 - 1
    flops = conv_flops(net, x)
    net_cl = cyclegan_generator().to(memory_format=torch.channels_last)
    x_cl = x.contiguous(memory_format=torch.channels_last)
    variants: dict[str, Callable[[], float]] = {
        "channels_last": images_per_s(net_cl, x_cl, calls),
        "bf16": images_per_s(net, x, calls, autocast=True),
    }
    if compile_:
        compiled = torch.compile(cyclegan_generator())
        with torch.inference_mode():
            compiled(x)  # compilation is not timed
        variants["compile"] = images_per_s(compiled, x, calls)
    fp32 = images_per_s(net, x, calls)
    for fn in (fp32, *variants.values()):
        fn()  # warm-up
    rates: dict[str, float] = {}
    for name, fn in variants.items():
        pair = interleaved({"fp32": fp32, name: fn}, repeat)
        rates[name] = pair[name]
        emit("cyclegan_generator", f"resnet_9blocks 256x256, {name}", pair[name], "images/s", repeat,
             "fp32, same run", pair["fp32"])  # fmt: skip
        rates["fp32"] = pair["fp32"]
    peaks = matmul_gflops(matmuls(4096, torch.device("cpu")), 4096, 3, torch.device("cpu"))
    best = max(statistics.median(v) for v in peaks.values())
    for name, rate in rates.items():
        emit("cyclegan_gflops", f"resnet_9blocks 256x256, {name}", rate * flops / 1e9, "GFLOP/s", repeat,
             "fp32 matmul 4096x4096 (faster of torch.mm and oneDNN)", best, flops_per_image=flops)  # fmt: skip


def _sr_child(tile: int, out_file: str, queue: Any) -> None:
    """One SR run in a fresh process, so that its peak resident memory is its own (``tile=0``: no upscaling)."""
    import zoo_core as zoo

    torch.set_num_threads(int(os.environ.get("BENCH_THREADS", torch.get_num_threads())))
    from skimage import data

    os.environ.setdefault("ZOO_HUB_DIR", str(Path(__file__).resolve().parents[1] / "hub"))
    model = zoo.load("srgan.x4_photos").eval()  # trained weights: a random SRResNet's outputs saturate at 0 or 1
    photo = torch.from_numpy(data.astronaut()).permute(2, 0, 1)[None].float() / 255  # 512x512 RGB
    seconds = 0.0
    if tile:
        start = time.perf_counter()
        out = model.upscale(photo, tile_size=tile)
        seconds = time.perf_counter() - start
        save_file({"out": out}, out_file)
    queue.put((seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))


def _sr_run(tile: int, out_file: str) -> tuple[float, float]:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_sr_child, args=(tile, out_file, queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def bench_sr(tile: int) -> None:
    """``srgan.x4_photos`` on scikit-image's 512x512 astronaut: tiles of ``tile`` LR pixels (40 of context)
    against the whole image."""
    if "srgan" not in zoo_core._catalog.get_catalog().architectures:
        print("# sr_tiled skipped: zoo-srgan is not installed", file=sys.stderr)
        return
    with tempfile.TemporaryDirectory() as tmp:
        _, base_mb = _sr_run(0, "")  # python, torch and the model: what both runs pay before upscaling
        tiled_s, tiled_mb = _sr_run(tile, f"{tmp}/tiled.safetensors")
        whole_s, whole_mb = _sr_run(512, f"{tmp}/whole.safetensors")
        tiled, whole = (load_file(f"{tmp}/{name}.safetensors")["out"] for name in ("tiled", "whole"))
    what = f"srgan.x4_photos, astronaut 512x512 -> 2048x2048, tiles of {tile}"
    emit("sr_tiled_time", what, tiled_s, "s", 1, "whole image", whole_s,
         max_abs_diff=float((tiled - whole).abs().max()))  # fmt: skip
    emit("sr_tiled_memory", f"{what}: peak RSS above the model's", tiled_mb - base_mb, "MB", 1, "whole image",
         whole_mb - base_mb, base_mb=round(base_mb))  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="rounds of each pair (medians)")
    parser.add_argument("--calls", type=int, default=3, help="images per timing")
    parser.add_argument("--no-compile", action="store_true", help="leave out torch.compile")
    parser.add_argument("--sr-only", action="store_true", help="only the tiled SR figures")
    parser.add_argument("--tile", type=int, default=128, help="SR tile size (LR pixels)")
    args = parser.parse_args(argv)
    print(f"# python {sys.version.split()[0]}, torch {torch.__version__}, {torch.get_num_threads()} threads",
          file=sys.stderr)  # fmt: skip
    if not args.sr_only:
        bench_cyclegan(args.repeat, args.calls, not args.no_compile)
    bench_sr(args.tile)


if __name__ == "__main__":
    main()
