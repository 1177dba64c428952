"""The Fréchet distance of FID statistics: zoo's symmetric form against pytorch-fid's scipy sqrtm, side by side.

Run: ``.venv/bin/python benchmarks/bench_frechet.py`` (about 1-2 minutes on 2 cores; pytorch-fid
is a test dependency). Both compute the same number from the same float64 statistics (means
and covariances of 5,000 features); only the matrix square root differs:

- pytorch-fid 0.3 ``calculate_frechet_distance``: ``scipy.linalg.sqrtm(sigma1 @ sigma2)``,
  a Schur decomposition of a non-symmetric matrix (about 9 s at d = 2048 here);
- ``zoo_core.metrics.frechet.frechet_distance``: a Cholesky factor ``L`` of ``sigma1`` and the
  eigenvalues of the symmetric ``Lᵀ sigma2 L`` (``eigh`` square root of ``sigma1`` when it is
  singular, the ``rank-deficient`` lines).

Prints one JSON line per figure, with bench_core.py's keys plus ``speedup`` (baseline / value),
both distances and their relative difference:

    {"benchmark": "frechet", "what": "...", "value": 0.9, "unit": "s", "baseline": "pytorch-fid ...",
     "baseline_value": 9.4, "ratio": 0.096, "n": 3, "speedup": 10.4, "fid": 51.2, "fid_baseline": 51.2,
     "rel_diff": 3e-10, "d": 2048, "features": 5000}

``value`` / ``baseline_value`` are medians of ``n`` interleaved runs (the order alternates).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import warnings

import numpy as np
import torch

from zoo_core.metrics.frechet import feature_statistics, frechet_distance


def realistic_features(n: int, d: int, seed: int, shift: float = 0.0) -> torch.Tensor:
    """``(n, d)`` non-negative, correlated features with a power-law spectrum, like Inception's pool3.

    ReLU of Gaussian vectors mixed by a fixed matrix whose singular values decay as ``k^-0.75``;
    ``shift`` moves the second set (a different mean and scale), so the distance is far from 0.
    """
    g = torch.Generator().manual_seed(0)  # the same mixing for both sets
    q, _ = torch.linalg.qr(torch.randn(d, d, generator=g, dtype=torch.float64))
    mixing = q * torch.arange(1, d + 1, dtype=torch.float64).pow(-0.75)
    z = torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return torch.relu((z * (1 + shift)) @ mixing.T * 4 + 0.3 + shift)


def timed(fn) -> tuple[float, float]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, float(value)


def bench(d: int, n: int, repeat: int, label: str) -> None:
    from pytorch_fid.fid_score import calculate_frechet_distance

    mu1, s1 = feature_statistics(realistic_features(n, d, seed=1))
    mu2, s2 = feature_statistics(realistic_features(n, d, seed=2, shift=0.1))
    args_np = [a.numpy() for a in (mu1, s1, mu2, s2)]
    args_torch = (mu1, s1, mu2, s2)

    def baseline() -> float:
        with warnings.catch_warnings():  # sqrtm of a singular product warns; scipy 1.17 deprecates disp
            warnings.simplefilter("ignore")
            return calculate_frechet_distance(*args_np)

    cases = {"zoo": lambda: frechet_distance(*args_torch), "pytorch-fid": baseline}
    times: dict[str, list[float]] = {name: [] for name in cases}
    values: dict[str, float] = {}
    order = list(cases)
    for i in range(repeat):
        for name in order if i % 2 == 0 else reversed(order):
            seconds, values[name] = timed(cases[name])
            times[name].append(seconds)
    value, base = statistics.median(times["zoo"]), statistics.median(times["pytorch-fid"])
    line = {
        "benchmark": "frechet",
        "what": f"zoo frechet_distance, d={d}, {label}",
        "value": round(value, 4),
        "unit": "s",
        "baseline": "pytorch-fid calculate_frechet_distance (scipy sqrtm)",
        "baseline_value": round(base, 4),
        "ratio": round(value / base, 4),
        "n": repeat,
        "speedup": round(base / value, 2),
        "fid": values["zoo"],
        "fid_baseline": values["pytorch-fid"],
        "rel_diff": float(f"{abs(values['zoo'] - values['pytorch-fid']) / abs(values['pytorch-fid']):.3g}"),
        "d": d,
        "features": n,
    }
    print(json.dumps(line), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each case per figure")
    parser.add_argument("--quick", action="store_true", help="only d = 512 (seconds instead of minutes)")
    args = parser.parse_args()
    try:
        import pytorch_fid  # noqa: F401
    except ImportError:
        print(json.dumps({"benchmark": "frechet", "what": "skipped: pytorch-fid is not installed", "value": None}))
        return
    print(
        f"# python {sys.version.split()[0]}, torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"{os.cpu_count()} CPUs, numpy {np.__version__}",
        file=sys.stderr,
    )
    bench(512, 5000, args.repeat, "5000 features")
    if not args.quick:
        bench(2048, 5000, args.repeat, "5000 features")
        bench(2048, 1000, args.repeat, "1000 features (rank-deficient: eigh path)")


if __name__ == "__main__":
    main()
