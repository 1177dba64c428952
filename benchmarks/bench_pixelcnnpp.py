"""PixelCNN++ sampling: the cached generator (Ramachandran et al. 2017) against the naive loop, in one run.

Run: ``.venv/bin/python benchmarks/bench_pixelcnnpp.py`` (about 10 minutes on 2 cores: the naive
loop is slow, which is the point; ``--quick`` times the naive loop on its first 112 pixels only
and extrapolates). Prints one JSON line per figure on stdout, with the keys of ``bench_core.py``:

    {"benchmark": "pixelcnnpp_sampling", "what": "cached, 28x28x1, batch 16", "value": 0.9, "unit": "s",
     "baseline": "naive loop", "baseline_value": 240.0, "ratio": 0.0037, "n": 3, "speedup": 267.0,
     "same_images": true, ...}

``value`` is the median wall time of ``n`` cached runs, ``baseline_value`` the naive loop's
(one run: it takes minutes), both drawing the same batch from the same seed; ``ratio`` =
value / baseline_value (below 1 is faster) and ``speedup`` its inverse. ``same_images`` says
whether the two runs drew identical images (float32; the tests check it in float64 too).

Models: the configuration of ``pixelcnnpp.mnist`` (nr_resnet 2, 32 filters, 5 logistics) on
28x28 grey and the same network on 32x32 RGB, randomly initialised (speed does not depend on
the weights). ``--paper`` adds the paper's CIFAR-10 model (nr_resnet 5, 160 filters, 53.7 M
parameters), whose naive loop would take hours here: it is timed on its first 3 pixels and
extrapolated (``naive_extrapolated: true``); its cached run is timed once.

Times are never asserted: compare the ratios of one run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import torch
from _report import emit
from zoo_pixelcnnpp.likelihood import draw_noise, sample_pixel
from zoo_pixelcnnpp.model import PixelCNNPP
from zoo_pixelcnnpp.sampling import sample_cached, sample_naive

MNIST = {"nr_resnet": 2, "nr_filters": 32, "nr_logistic_mix": 5}
PAPER = {"nr_resnet": 5, "nr_filters": 160, "nr_logistic_mix": 10}


def naive_pixels(model: PixelCNNPP, batch: int, pixels: int) -> float:
    """Seconds of the naive loop over its first ``pixels`` pixels (its cost per pixel is the same everywhere)."""
    c = model.config
    size = c.image_size
    mix, noise = draw_noise(batch, c.channels, c.nr_logistic_mix, size, size, torch.Generator().manual_seed(0))
    x = torch.zeros(batch, c.channels, size, size)
    start = time.perf_counter()
    for p in range(pixels):
        i, j = divmod(p, size)
        x[:, :, i, j] = sample_pixel(model(x)[:, :, i, j], mix[:, i, j], noise[:, i, j])
    return time.perf_counter() - start


def timed(fn, *args) -> tuple[float, torch.Tensor]:
    start = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - start, out


def bench(name: str, config: dict, batch: int, repeat: int, naive_pixels_only: int | None) -> None:
    torch.manual_seed(0)
    model = PixelCNNPP.from_config(config).eval()
    size, channels = model.config.image_size, model.config.channels
    with torch.inference_mode():
        sample_cached(model, batch, torch.Generator().manual_seed(1))  # warm-up: allocations, kernels
        fast_times = []
        for _ in range(repeat):
            seconds, fast = timed(sample_cached, model, batch, torch.Generator().manual_seed(0))
            fast_times.append(seconds)
        extra: dict = {"config": name, "params": model.num_parameters(), "batch": batch}
        if naive_pixels_only:
            seconds = naive_pixels(model, batch, naive_pixels_only) * size * size / naive_pixels_only
            extra.update(naive_extrapolated=True, naive_pixels_timed=naive_pixels_only)
        else:
            seconds, naive = timed(sample_naive, model, batch, torch.Generator().manual_seed(0))
            extra.update(naive_extrapolated=False, same_images=bool(torch.equal(fast, naive)))
            if not extra["same_images"]:
                extra["pixels_differing"] = float((fast != naive).float().mean())
    fast_s = statistics.median(fast_times)
    emit(
        "pixelcnnpp_sampling",
        f"cached, {size}x{size}x{channels}, batch {batch}",
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
    parser.add_argument("--paper", action="store_true", help="add the paper's CIFAR-10 model (naive extrapolated)")
    args = parser.parse_args(argv)
    print(
        f"# python {sys.version.split()[0]}, torch {torch.__version__}, {torch.get_num_threads()} threads",
        file=sys.stderr,
    )
    pixels = 4 * 28 if args.quick else None
    for name, config in [
        ("pixelcnnpp.mnist", {"image_size": 28, "channels": 1, **MNIST}),
        ("pixelcnnpp.mnist network, RGB", {"image_size": 32, "channels": 3, **MNIST}),
    ]:
        for batch in (1, 16):
            bench(name, config, batch, args.repeat, pixels)
    if args.paper:
        for batch in (1, 16):
            bench("paper CIFAR-10", {"image_size": 32, "channels": 3, **PAPER}, batch, 1, 3)


if __name__ == "__main__":
    main()
