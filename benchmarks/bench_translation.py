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
- ``sr_tiled``: ``zoo-srgan``'s x4 SRResNet upscaling a 512x512 photo to 2048x2048 in tiles against
  the whole image at once (seconds, and the peak of resident memory each adds); ``max_abs_diff``
  between the two. Skipped when zoo-srgan is not installed.

Times are never asserted: compare the ratios of one run.
"""

from __future__ import annotations

import argparse
import inspect
import resource
import statistics
import sys
import time
from collections.abc import Callable
from contextlib import nullcontext

import torch
from _report import emit
from bench_dcgan import matmul_gflops, matmuls
from bench_training import interleaved

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


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_sr(tile: int) -> None:
    import zoo_core as zoo

    try:
        model = zoo.create("srgan", upscale_factor=4).eval()
    except zoo.ZooError as exc:  # zoo-srgan is not installed
        print(f"# sr_tiled skipped: {exc}", file=sys.stderr)
        return
    torch.manual_seed(0)
    photo = torch.rand(1, 3, 512, 512)
    if "tile" not in inspect.signature(model.upscale).parameters:
        print("# sr_tiled skipped: this zoo-srgan's upscale() takes no tile= argument", file=sys.stderr)
        return
    with torch.inference_mode():
        start = time.perf_counter()
        tiled = model.upscale(photo, tile=tile)
        tiled_s = time.perf_counter() - start
        rss_tiled = peak_rss_mb()
        start = time.perf_counter()
        whole = model.upscale(photo, tile=None)
        whole_s = time.perf_counter() - start
        rss_whole = peak_rss_mb()
    emit("sr_tiled", f"x4 SRResNet, 512x512 -> 2048x2048, tiles of {tile}", tiled_s, "s", 1, "whole image",
         whole_s, peak_rss_mb_after_tiled=round(rss_tiled), peak_rss_mb_after_whole=round(rss_whole),
         max_abs_diff=float((tiled - whole).abs().max()))  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="rounds of each pair (medians)")
    parser.add_argument("--calls", type=int, default=3, help="images per timing")
    parser.add_argument("--no-compile", action="store_true", help="leave out torch.compile")
    parser.add_argument("--tile", type=int, default=128, help="SR tile size (LR pixels)")
    args = parser.parse_args(argv)
    print(f"# python {sys.version.split()[0]}, torch {torch.__version__}, {torch.get_num_threads()} threads",
          file=sys.stderr)  # fmt: skip
    bench_cyclegan(args.repeat, args.calls, not args.no_compile)
    bench_sr(args.tile)


if __name__ == "__main__":
    main()
