"""PixelCNN, Gated PixelCNN and PixelRNN sampling: the cached generators (Ramachandran et al. 2017) against the naive
loop.

Run: ``.venv/bin/python benchmarks/bench_pixelcnn.py`` (a few minutes on one thread: the naive loop
is slow, which is the point; ``--quick`` times the naive loop on its first 112 pixels only and
extrapolates). Prints one JSON line per figure on stdout, with the keys of ``bench_core.py``:

    {"benchmark": "pixelcnn_sampling", "what": "pixelcnn cached, 28x28x1, batch 16", "value": 0.4, "unit": "s",
     "baseline": "naive loop", "baseline_value": 30.0, "ratio": 0.013, "n": 3, "speedup": 75.0,
     "same_images": true, ...}

``value`` is the median wall time of ``n`` cached runs, ``baseline_value`` the naive loop's (one
run), both drawing the same batch from the same seed in this process; ``ratio`` = value /
baseline_value (below 1 is faster) and ``speedup`` its inverse. ``same_images`` says whether the
two drew identical images (float32; the tests check it in float64 too).

Models: the configurations of ``pixelcnn.mnist`` (15 residual blocks, h = 16),
``gated-pixelcnn.mnist`` (1 + 5 gated layers, 16 features), ``pixelrnn.mnist`` (7 Diagonal BiLSTM
layers, h = 16) and ``pixelrnn.mnist-row-lstm`` (7 Row LSTM layers, h = 16), randomly initialised
(speed does not depend on the weights), 28x28 grey; ``--only ARCH`` keeps one architecture.
``--reference`` adds the Gated PixelCNN of the readable reference's MNIST recipe (1 + 10 layers,
128 features), naive loop extrapolated from 28 pixels.

Times are never asserted: compare the ratios of one run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import torch
from _report import emit

import zoo_core as zoo

MODELS = [
    ("pixelcnn", "pixelcnn.mnist", {}),
    ("gated-pixelcnn", "gated-pixelcnn.mnist", {"n_gated": 5, "gated_channels": 16}),
    ("pixelrnn", "pixelrnn.mnist", {}),
    ("pixelrnn", "pixelrnn.mnist-row-lstm", {"layer": "row-lstm"}),
]
REFERENCE = ("gated-pixelcnn", "reference MNIST Gated PixelCNN", {})


def samplers(arch: str):
    if arch == "pixelcnn":
        from zoo_pixelcnn.sampling import draw_noise, sample_cached, sample_naive
    elif arch == "pixelrnn":
        from zoo_pixelrnn.sampling import draw_noise, sample_cached, sample_naive
    else:
        from zoo_gated_pixelcnn.sampling import draw_noise, sample_cached, sample_naive
    return draw_noise, sample_cached, sample_naive


def naive_pixels(model, draw_noise, batch: int, pixels: int) -> float:
    """Seconds of the naive loop over its first ``pixels`` pixels (its cost per pixel is the same everywhere)."""
    size = model.config.image_size
    noise = draw_noise(model, batch, torch.Generator().manual_seed(0))
    x = torch.zeros_like(noise)
    start = time.perf_counter()
    for p in range(pixels):
        i, j = divmod(p, size)
        x[:, 0, i, j] = (noise[:, 0, i, j] < torch.sigmoid(model(x)[:, 0, i, j])).float()
    return time.perf_counter() - start


def bench(arch: str, name: str, config: dict, batch: int, repeat: int, naive_only: int | None) -> None:
    torch.manual_seed(0)
    model = zoo.create(arch, **config).eval()
    draw_noise, sample_cached, sample_naive = samplers(arch)
    size = model.config.image_size
    with torch.inference_mode():
        sample_cached(model, batch, torch.Generator().manual_seed(1))  # warm-up
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            fast = sample_cached(model, batch, torch.Generator().manual_seed(0))
            times.append(time.perf_counter() - start)
        extra: dict = {"config": name, "params": model.num_parameters(), "batch": batch}
        if naive_only:
            seconds = naive_pixels(model, draw_noise, batch, naive_only) * size * size / naive_only
            extra.update(naive_extrapolated=True, naive_pixels_timed=naive_only)
        else:
            start = time.perf_counter()
            naive = sample_naive(model, batch, torch.Generator().manual_seed(0))
            seconds = time.perf_counter() - start
            extra.update(naive_extrapolated=False, same_images=bool(torch.equal(fast, naive)))
    fast_s = statistics.median(times)
    emit(
        "pixelcnn_sampling",
        f"{name} cached, {size}x{size}x1, batch {batch}",
        fast_s,
        "s",
        repeat,
        baseline="naive loop (whole network per pixel)",
        baseline_value=seconds,
        speedup=round(seconds / fast_s, 1),
        **extra,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="cached runs per figure (median)")
    parser.add_argument("--quick", action="store_true", help="time the naive loop on 112 pixels and extrapolate")
    parser.add_argument("--reference", action="store_true", help="add the reference's 128-feature Gated PixelCNN")
    parser.add_argument("--batches", default="1,16", help="comma-separated batch sizes")
    parser.add_argument("--only", choices=sorted({arch for arch, _, _ in MODELS}), help="one architecture")
    args = parser.parse_args(argv)
    print(
        f"# python {sys.version.split()[0]}, torch {torch.__version__}, {torch.get_num_threads()} threads",
        file=sys.stderr,
    )
    pixels = 4 * 28 if args.quick else None
    batches = [int(b) for b in args.batches.split(",")]
    for arch, name, config in MODELS:
        if args.only and arch != args.only:
            continue
        for batch in batches:
            bench(arch, name, config, batch, args.repeat, pixels)
    if args.reference:
        arch, name, config = REFERENCE
        for batch in batches:
            bench(arch, name, config, batch, 1, 28)


if __name__ == "__main__":
    main()
