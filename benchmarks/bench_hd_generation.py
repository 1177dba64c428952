"""1024x1024 generation on the CPU: the converted ProGAN and pix2pixHD, time per image, peak memory, GFLOP/s.

Run: ``.venv/bin/python benchmarks/bench_hd_generation.py`` (10 minutes on the project's 2 cores
while two trainings ran on them and its matmul reached a third of its quiet rate; ``--only progan``
about a quarter of that, ``--threads 1`` about half; ``--help`` for the knobs). Prints one JSON line
per figure on stdout, with the keys of ``bench_core.py`` (and each timing as it comes,
``# case: N s``, on stderr):

    {"benchmark": ..., "what": ..., "value": ..., "unit": ..., "baseline": ...,
     "baseline_value": ..., "ratio": ..., "n": ...}

Two registered entries, built from their catalog configs with random weights (the published files
cannot be fetched offline; the speed and memory of a convolution do not depend on its weights):

- ``progan.celebahq-1024`` (issue 17): the official CelebA-HQ ``G_paper``, 1024x1024 RGB, 23.1 M
  parameters; zoo's verb ``model.sample(1, seed=0)`` (z from a seeded CPU generator, the [-1, 1]
  output mapped to [0, 1] and clipped), its bare network ``model.generator(z)``.
- ``pix2pixhd.label2city-1024p``: the authors' local enhancer (ngf 32, 36 input channels: 35 labels
  one-hot and the instance edges), 182.9 M parameters, on a **1024x1024** label map (the issue's
  size; the model's native Cityscapes frames are 2048x1024, about twice the work); zoo's verb
  ``model.translate(labels)`` (ids / 255 in, one-hot and edges made inside, output mapped to [0, 1]),
  its bare network ``model.netG(x)`` on the 36-channel input made beforehand. The labels: 35 ids on
  blocks of 32x32 pixels (a seeded draw).

One image per call, under ``torch.inference_mode``, on one thread and on all the CPUs the process
may use (``--threads``; 2 on the project's machine, torch's own default there when
``OMP_NUM_THREADS`` is unset), each figure as fp32 and as bf16 through ``torch.autocast("cpu",
dtype=torch.bfloat16)`` wrapped around the same call (neither verb takes a dtype; both run under
autocast as they are):

- ``hd_time``: seconds per image of zoo's verb against the bare network, same precision and threads
  (``ratio`` above 1: what zoo's input and output handling costs); then zoo bf16 against zoo fp32
  (below 1: bf16 is faster; ``speedup`` is its inverse). The four cases of one model and thread
  count take turns (order reversed every other round), after one warm-up forward per precision
  (oneDNN builds its kernels there); medians of ``n``. ``max_abs_diff``: verb against bare network
  mapped the same way, on the last timed outputs.
- ``hd_gflops``: achieved GFLOP/s (the FLOPs of one forward counted by ``torch.utils.flop_counter``
  on the warm-up: convolutions and transposed convolutions, 2 per multiply-add, times images / s)
  against the fp32 product of two 4096x4096 matrices on the same threads, before and after that
  thread count's cases (``matmul`` lines): ``ratio`` is the fraction of the faster of ``torch.mm``
  and oneDNN's matmul (as ``bench_dcgan.py``), ``fraction_of_torch_mm`` that of ``torch.mm``. The bf16
  lines are against the *fp32* peak, so they can pass 1.
- ``hd_memory``: peak resident memory of one call in a fresh process (``multiprocessing`` spawn, all
  threads), above that process's resident memory once torch and zoo are imported, the model built and
  the input made: there the high-water mark is reset (``5`` to ``/proc/self/clear_refs``), and the
  figure is ``VmHWM`` after the call minus ``VmRSS`` before it (``/proc/self/status``). Not
  ``getrusage``'s ``ru_maxrss``: after spawn's fork and exec it keeps the parent's resident set, which
  here (both models built) hides the child's own; tracemalloc does not see torch's allocations. Where
  the reset is refused the baseline is the high-water mark after the build (``hwm_reset`` false; the
  figure may then be low). Zoo's verb against the bare network (the bare network's input, for
  pix2pixHD a 151 MB one-hot map, is made before the reset; the verb makes its own inside the call),
  and bf16 against fp32. ``rss_before_mb`` / ``peak_rss_mb``: the process's whole resident set. Linux
  only (``--no-memory`` elsewhere).

Times are never asserted, and on a shared machine only the ratios of one run compare.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import torch
from _report import emit
from bench_core import interleaved  # median seconds of each case, the cases taking turns
from bench_dcgan import matmul_gflops, matmuls

import zoo_core as zoo

#: key -> (registry entry, zoo's verb)
MODELS = {
    "progan": ("progan.celebahq-1024", "sample"),
    "pix2pixhd": ("pix2pixhd.label2city-1024p", "translate"),
}
SIDE = 1024
PRECISIONS = ("fp32", "bf16")


def precision_context(precision: str) -> Callable[[], AbstractContextManager[Any]]:
    if precision == "bf16":
        return lambda: torch.autocast("cpu", dtype=torch.bfloat16)
    return nullcontext


class Subject:
    """One entry built with random weights: ``verb()`` is zoo's call, ``forward()`` the bare network's.

    ``to_image(out)`` maps the bare network's output as the verb does, for ``max_abs_diff``.
    """

    def __init__(self, key: str) -> None:
        self.key = key
        self.entry, self.verb_name = MODELS[key]
        info = zoo.info(self.entry)
        torch.manual_seed(0)
        self.model = zoo.create(info.architecture, **info.config).eval()
        self.params = sum(p.numel() for p in self.model.parameters())
        if key == "progan":
            self.net = self.model.generator
            latent = self.model.config.latent
            self.input = torch.randn(1, latent, generator=torch.Generator().manual_seed(0))  # sample's z for seed 0
            self.verb = lambda: self.model.sample(1, seed=0)
        else:
            self.net = self.model.netG
            blocks = torch.randint(0, 35, (1, 1, SIDE // 32, SIDE // 32), generator=torch.Generator().manual_seed(0))
            self.labels = blocks.repeat_interleave(32, 2).repeat_interleave(32, 3).float() / 255
            self.input = self.model.network_input(self.labels)
            self.verb = lambda: self.model.translate(self.labels)

    def forward(self) -> torch.Tensor:
        with torch.inference_mode():
            return self.net(self.input)

    def to_image(self, out: torch.Tensor) -> torch.Tensor:
        return ((out.float() + 1) / 2).clamp(0, 1)

    def label(self, threads: int) -> str:
        size = f"{SIDE}x{SIDE}"
        return f"{self.entry} ({self.params / 1e6:.1f} M parameters, random weights), {size}, {threads} thread(s)"


# -- time and GFLOP/s, in this process -------------------------------------------------------------------
def time_cases(subject: Subject, threads: int, repeat: int) -> tuple[dict[str, float], int, dict[str, float]]:
    """Median seconds per image of each case, the FLOPs of one forward, and each precision's max_abs_diff."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:  # the fp32 warm-up, counted
        subject.forward()
    flops = counter.get_total_flops()
    with precision_context("bf16")():
        subject.forward()  # the bf16 warm-up
    outputs: dict[str, torch.Tensor] = {}

    def case(name: str, fn: Callable[[], torch.Tensor], precision: str) -> Callable[[], None]:
        context = precision_context(precision)

        def run() -> None:
            start = time.perf_counter()
            with context():
                outputs[name] = fn()
            print(f"# {subject.key}, {threads} thread(s), {name}: {time.perf_counter() - start:.2f} s",
                  file=sys.stderr, flush=True)  # fmt: skip

        return run

    cases = {}
    for precision in PRECISIONS:
        cases[f"zoo {precision}"] = case(f"zoo {precision}", subject.verb, precision)
        cases[f"bare {precision}"] = case(f"bare {precision}", subject.forward, precision)
    seconds = interleaved(cases, repeat)
    diffs = {
        p: float((outputs[f"zoo {p}"].float() - subject.to_image(outputs[f"bare {p}"])).abs().max()) for p in PRECISIONS
    }
    return seconds, flops, diffs


# -- peak memory, in a fresh process per case ------------------------------------------------------------
def _reset_high_water_mark() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return True


def _resident_mb() -> tuple[float, float]:
    """(resident set, its high-water mark) of this process in MB: ``VmRSS`` and ``VmHWM`` of /proc/self/status.

    Not ``getrusage``'s ``ru_maxrss``: in a process started by fork and exec (multiprocessing's spawn) it
    keeps the resident set of the parent's copy at the exec, so a big parent hides the child's own peak.
    """
    with open("/proc/self/status") as f:
        fields = dict(line.split(":", 1) for line in f if ":" in line)
    return (int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024)


def _memory_child(key: str, path: str, precision: str, threads: int, queue: Any) -> None:
    torch.set_num_threads(threads)
    subject = Subject(key)
    call = subject.verb if path == "zoo" else subject.forward
    reset = _reset_high_water_mark()
    rss, high_water = _resident_mb()
    before = rss if reset else high_water  # without the reset, the build's own peak is the floor
    with precision_context(precision)():
        call()
    queue.put({"before_mb": before, "peak_mb": _resident_mb()[1], "hwm_reset": reset})


def memory_case(key: str, path: str, precision: str, threads: int) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_memory_child, args=(key, path, precision, threads, queue))
    process.start()
    result = queue.get()
    process.join()
    print(f"# {key}, memory, {path} {precision}: {result['peak_mb'] - result['before_mb']:.0f} MB above "
          f"{result['before_mb']:.0f} MB", file=sys.stderr, flush=True)  # fmt: skip
    return result


def bench_memory(subject: Subject, threads: int) -> None:
    runs = {(path, p): memory_case(subject.key, path, p, threads) for p in PRECISIONS for path in ("zoo", "bare")}
    above = {case: r["peak_mb"] - r["before_mb"] for case, r in runs.items()}
    label = f"{subject.label(threads)}: peak RSS of one call above the built model's"
    verb = f"zoo {subject.verb_name}"

    def extra(case: tuple[str, str]) -> dict[str, Any]:
        r = runs[case]
        return {"rss_before_mb": round(r["before_mb"]), "peak_rss_mb": round(r["peak_mb"]), "hwm_reset": r["hwm_reset"]}

    for p in PRECISIONS:
        emit("hd_memory", f"{label}, {verb}, {p}", above[("zoo", p)], "MB", 1, f"bare network forward, {p}",
             above[("bare", p)], **extra(("zoo", p)))  # fmt: skip
    emit("hd_memory", f"{label}, {verb}, bf16 autocast against fp32", above[("zoo", "bf16")], "MB", 1,
         f"{verb}, fp32", above[("zoo", "fp32")], **extra(("zoo", "bf16")))  # fmt: skip


def report(
    subject: Subject,
    threads: int,
    seconds: dict[str, float],
    flops: int,
    diffs: dict[str, float],
    repeat: int,
    matmul: dict[str, float],
    size: int,
) -> None:
    """The ``hd_time`` and ``hd_gflops`` lines of one model at one thread count."""
    label, verb = subject.label(threads), f"zoo {subject.verb_name}"
    for p in PRECISIONS:
        zoo_s, bare_s = seconds[f"zoo {p}"], seconds[f"bare {p}"]
        emit("hd_time", f"{label}: {verb}, {p}", zoo_s, "s/image", repeat, f"bare network forward, {p}", bare_s,
             max_abs_diff=round(diffs[p], 6))  # fmt: skip
    fp32, bf16 = seconds["zoo fp32"], seconds["zoo bf16"]
    emit("hd_time", f"{label}: {verb}, bf16 autocast against fp32", bf16, "s/image", repeat, f"{verb}, fp32", fp32,
         speedup=round(fp32 / bf16, 3))  # fmt: skip
    best = max(matmul, key=matmul.__getitem__)
    peak = f"fp32 {best} {size}x{size} (the faster), {threads} thread(s)"
    for p in PRECISIONS:
        for path, what in (("zoo", verb), ("bare", "bare network forward")):
            gflops = flops / seconds[f"{path} {p}"] / 1e9
            emit("hd_gflops", f"{label}: {what}, {p}, achieved", gflops, "GFLOP/s", repeat, peak, matmul[best],
                 fraction_of_torch_mm=round(gflops / matmul["torch.mm"], 3), flops_per_image=flops)  # fmt: skip


# -- main ------------------------------------------------------------------------------------------------
def all_threads() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=tuple(MODELS), default=None, help="one model only")
    parser.add_argument("--repeat", type=int, default=3, help="timings of each ProGAN case (medians)")
    parser.add_argument(
        "--pix2pixhd-repeat", type=int, default=2, help="timings of each pix2pixHD case (about 20 s each on one thread)"
    )
    parser.add_argument(
        "--threads", default="1,all", help="comma-separated thread counts; 'all': every CPU this process may use"
    )
    parser.add_argument("--matmul-size", type=int, default=4096)
    parser.add_argument("--matmul-repeat", type=int, default=2, help="matmul timings before and after (each)")
    parser.add_argument("--no-memory", dest="memory", action="store_false", help="skip the fresh-process memory runs")
    args = parser.parse_args(argv)
    thread_counts = list(dict.fromkeys(all_threads() if t == "all" else int(t) for t in args.threads.split(",")))
    keys = [args.only] if args.only else list(MODELS)
    print(f"# python {sys.version.split()[0]}, torch {torch.__version__}, {os.cpu_count()} CPUs, "
          f"threads {thread_counts}, cpu capability {torch.backends.cpu.get_cpu_capability()}",
          file=sys.stderr)  # fmt: skip
    cpu = torch.device("cpu")
    size = args.matmul_size
    subjects = {key: Subject(key) for key in keys}
    for threads in thread_counts:
        torch.set_num_threads(threads)
        products = matmuls(size, cpu)
        peaks = matmul_gflops(products, size, args.matmul_repeat, cpu)  # before the cases ...
        results = {}
        for key, subject in subjects.items():
            repeat = args.pix2pixhd_repeat if key == "pix2pixhd" else args.repeat
            results[key] = (*time_cases(subject, threads, repeat), repeat)
        after = matmul_gflops(products, size, args.matmul_repeat, cpu)  # ... and after them
        del products
        medians = {}
        for name, values in peaks.items():
            values += after[name]
            medians[name] = statistics.median(values)
            spread = [round(min(values), 1), round(max(values), 1)]
            what = f"fp32 {name} {size}x{size}, {threads} thread(s), before and after the cases"
            emit("matmul", what, medians[name], "GFLOP/s", len(values), spread=spread)
        for key, (seconds, flops, diffs, repeat) in results.items():
            report(subjects[key], threads, seconds, flops, diffs, repeat, medians, size)
    if args.memory:
        for subject in subjects.values():
            bench_memory(subject, max(thread_counts))


if __name__ == "__main__":
    main()
