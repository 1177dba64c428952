"""NADE sampling: the running pre-activation (O(HD), the paper's section 3) against two naive loops, in one run.

Run: ``.venv/bin/python benchmarks/bench_nade.py`` (about 20 s on one thread). Prints one JSON
line per figure on stdout, with the keys of ``bench_core.py``:

    {"benchmark": "nade_sampling", "what": "fast, 28x28 binary, H 500, batch 16", "value": 0.05, "unit": "s",
     "baseline": "naive loop (hidden layer from scratch per pixel)", "baseline_value": 0.3, "ratio": 0.17,
     "speedup": 6.0, "same_images": true, ...}

Three samplers of ``zoo_nade.model.NADE`` draw the same batch from the same seed (one uniform per
pixel, drawn up front; float64):

- ``fast``: ``a`` starts at ``c`` and gains ``W[:, d] x_d`` after each pixel, O(HD) per image;
- ``naive``: ``a_d = c + W[:, <d] x_<d`` recomputed from scratch for each pixel, O(HD^2);
- ``forward``: the whole likelihood network (all D conditionals) re-run for each pixel, the
  generic autoregressive loop (what PixelCNN++'s naive sampler does), O(HD^2) with D x the work.

``value`` is the fast sampler's median wall time over ``n`` runs, ``baseline_value`` the baseline's
(one run), ``ratio`` = value / baseline_value and ``speedup`` its inverse; ``same_images`` says
whether the two drew identical images. The model is the paper's size (28x28, H 500) with random
weights (speed does not depend on them). The ``forward`` loop is timed on its first 56 pixels and
extrapolated (``extrapolated: true``; its cost per pixel is the same everywhere), unless ``--full``.

Times are never asserted: compare the ratios of one run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import torch
from _report import emit
from zoo_nade.model import NADE


def timed(fn, *args) -> tuple[float, torch.Tensor]:
    start = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - start, out


def forward_pixels(model: NADE, uniforms: torch.Tensor, pixels: int) -> float:
    """Seconds of the ``forward`` loop over its first ``pixels`` pixels."""
    W, c, V, b = model._double()
    x = torch.zeros_like(uniforms)
    thresholds = torch.logit(uniforms)
    start = time.perf_counter()
    for d in range(pixels):
        logit = model._logits64(x, W, c, V, b)[:, d]
        x[:, d] = (logit > thresholds[:, d]).to(torch.float64)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="fast runs per figure (median)")
    parser.add_argument("--full", action="store_true", help="run the forward loop over every pixel")
    args = parser.parse_args(argv)
    print(
        f"# python {sys.version.split()[0]}, torch {torch.__version__}, {torch.get_num_threads()} threads",
        file=sys.stderr,
    )
    torch.manual_seed(0)
    model = NADE.from_config(init_std=0.1).eval()
    dims = model.config.input_dim
    with torch.inference_mode():
        for batch in (1, 16):
            uniforms = torch.rand(batch, dims, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
            model._sample_fast(uniforms)  # warm-up
            runs = [timed(model._sample_fast, uniforms) for _ in range(args.repeat)]
            fast_s, fast = statistics.median(t for t, _ in runs), runs[0][1]
            naive_s, naive = timed(model._sample_naive, uniforms)
            what = f"fast, 28x28 binary, H 500, batch {batch}"
            common = {"batch": batch, "params": model.num_parameters()}
            emit(
                "nade_sampling", what, fast_s, "s", args.repeat,
                baseline="naive loop (hidden layer from scratch per pixel)", baseline_value=naive_s,
                speedup=round(naive_s / fast_s, 1), same_images=bool(torch.equal(fast, naive)), **common,
            )  # fmt: skip
            if args.full:
                forward_s, forward = timed(model._sample_forward, uniforms)
                extra = {"extrapolated": False, "same_images": bool(torch.equal(fast, forward))}
            else:
                pixels = 56
                forward_s = forward_pixels(model, uniforms, pixels) * dims / pixels
                extra = {"extrapolated": True, "pixels_timed": pixels}
            emit(
                "nade_sampling", what, fast_s, "s", args.repeat,
                baseline="forward loop (whole network per pixel)", baseline_value=forward_s,
                speedup=round(forward_s / fast_s, 1), **extra, **common,
            )  # fmt: skip


if __name__ == "__main__":
    main()
