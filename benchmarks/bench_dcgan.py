"""DCGAN sampling throughput: zoo's generator against the reference script's network; GFLOP/s against a matmul.

Run: ``.venv/bin/python benchmarks/bench_dcgan.py`` (under a minute on 2 cores; ``--help`` for the
knobs). Prints one JSON line per figure on stdout, with the keys of ``bench_core.py`` (and each
timing as it comes, ``# case: N images/s``, on stderr):

    {"benchmark": ..., "what": ..., "value": ..., "unit": ..., "baseline": ...,
     "baseline_value": ..., "ratio": ..., "n": ...}

Two generator configs: the reference's default (64x64 RGB, nz 100, ngf 64) and ``dcgan.mnist``'s
(32x32 grey, nz 100, ngf 64; its published weights are used when ``hub/zoo/dcgan-mnist`` is
there). For each, in fp32, channels_last and bf16 (``torch.autocast``), in one process and the
same run, with the cases taking turns (order reversed every other round; medians of ``n``):

- ``dcgan_sample``: ``model.sample(batch, seed=...)`` of a zoo ``dcgan`` (noise from a seeded CPU
  generator, Tanh mapped to [0, 1], as users call it) against the reference: ``Generator`` of
  pytorch/examples ``dcgan/main.py`` written out below as an ``nn.Sequential``, the same weights
  copied in with ``load_state_dict(strict=True)``, called on ``torch.randn(batch, nz, 1, 1)``.
  ``value`` / ``baseline_value`` are images / s, so ``ratio`` above 1 is *faster* than the
  reference. ``max_abs_diff`` is the largest difference between the two outputs on one batch
  (both mapped to [0, 1]); ``same_output`` says it is 0. Then each variant against zoo fp32 (the
  speed-up of channels_last and of bf16).
- ``dcgan_gflops``: the achieved GFLOP/s of each zoo variant (the generator's FLOPs per image,
  counted analytically: ``2 Cin Cout k^2 H_in W_in`` per ConvTranspose2d and 2 per BatchNorm
  output element, times images / s) against the fp32 product of two 4096x4096 matrices
  (``2 n^3`` FLOPs) measured in the same run, before and after the DCGAN cases (``matmul``
  lines): ``ratio`` is the fraction of the faster of ``torch.mm`` and, on the CPU, oneDNN's matmul
  (the library behind the convolutions; on AMD CPUs MKL's ``torch.mm`` runs an AVX2 kernel at
  about half of it), ``fraction_of_torch_mm`` the fraction of ``torch.mm``'s.
  ``flops_counter`` is ``torch.utils.flop_counter``'s count of the convolutions, a check of
  the analytic one.

One thread by default (``--threads``): the steadiest on the project's shared 2-core machines;
the matmul runs on the same threads. Times are never asserted: compare the ratios of one run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

import torch
from _report import emit
from bench_training import interleaved  # median images / s of each case, the cases taking turns
from torch import nn

import zoo_core as zoo
from zoo_core.modeling import ZooModel

REPO_ROOT = Path(__file__).resolve().parents[1]
PUBLISHED = REPO_ROOT / "hub" / "zoo" / "dcgan-mnist"


# -- the reference's Generator (pytorch/examples dcgan/main.py), as that script builds it ------------
def reference_generator(nz: int, ngf: int, nc: int, image_size: int) -> nn.Sequential:
    """``netG.main`` of the reference at 64x64; at 32x32 the same without its 8ngf block (the script is 64 only)."""
    if image_size == 64:
        head = [
            nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False),
            nn.BatchNorm2d(ngf * 8),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 4),
            nn.ReLU(True),
        ]
    elif image_size == 32:
        head = [nn.ConvTranspose2d(nz, ngf * 4, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 4), nn.ReLU(True)]
    else:
        raise SystemExit(f"the reference network is written for 32 or 64, not {image_size}")
    return nn.Sequential(
        *head,
        nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False),
        nn.BatchNorm2d(ngf * 2),
        nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False),
        nn.BatchNorm2d(ngf),
        nn.ReLU(True),
        nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False),
        nn.Tanh(),
    )


# -- FLOPs -------------------------------------------------------------------------------------------
def generator_flops(main: nn.Sequential) -> int:
    """FLOPs of one image through the generator: 2 Cin Cout k^2 H_in W_in per ConvTranspose2d, 2 per BN output."""
    flops, side = 0, 1  # the code is 1x1
    for layer in main:
        if isinstance(layer, nn.ConvTranspose2d):
            (k, _), (s, _), (p, _) = layer.kernel_size, layer.stride, layer.padding
            flops += 2 * layer.in_channels * layer.out_channels * k * k * side * side
            side = (side - 1) * s - 2 * p + k
            channels = layer.out_channels
        elif isinstance(layer, nn.BatchNorm2d):
            flops += 2 * channels * side * side  # x * scale + shift, the running statistics folded in
    return flops


def counted_conv_flops(main: nn.Module, nz: int) -> int:
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter, torch.inference_mode():
        main(torch.zeros(1, nz, 1, 1, device=next(main.parameters()).device))
    return counter.get_total_flops()


# -- timing ------------------------------------------------------------------------------------------
def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def throughput(fn: Callable[[], object], images: int, calls: int, device: torch.device) -> float:
    synchronize(device)
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    synchronize(device)
    return images * calls / (time.perf_counter() - start)


def matmuls(size: int, device: torch.device) -> dict[str, Callable[[], object]]:
    """fp32 products of two size x size matrices: ``torch.mm`` and, on the CPU, oneDNN's (what convolutions use).

    torch.mm goes to MKL, which on some CPUs (AMD) runs an AVX2 kernel; oneDNN's matmul reaches the
    AVX-512 peak there. The peak a convolution is measured against is the faster of the two.
    """
    a, b = (torch.randn(size, size, device=device) for _ in range(2))
    cases: dict[str, Callable[[], object]] = {"torch.mm": lambda: a @ b}
    mkldnn_linear = getattr(torch._C._nn, "mkldnn_linear", None)
    if device.type == "cpu" and mkldnn_linear is not None and torch.backends.mkldnn.is_available():
        a_dnn, b_dnn = a.to_mkldnn(), b.t().contiguous().to_mkldnn()
        cases["oneDNN matmul (torch._C._nn.mkldnn_linear)"] = lambda: mkldnn_linear(a_dnn, b_dnn)
    return cases


def matmul_gflops(cases: dict[str, Callable[[], object]], size: int, repeat: int, device: torch.device) -> dict:
    for fn in cases.values():
        fn()  # warm-up
    return {name: [throughput(fn, 2 * size**3, 1, device) / 1e9 for _ in range(repeat)] for name, fn in cases.items()}


# -- one config --------------------------------------------------------------------------------------
def build(config: dict[str, int], device: torch.device) -> tuple[ZooModel, nn.Sequential, str]:
    if config["image_size"] == 32 and config["channels"] == 1 and (PUBLISHED / "model.safetensors").is_file():
        ours, weights = ZooModel.from_pretrained(PUBLISHED), "dcgan.mnist's published weights"
    else:
        torch.manual_seed(0)
        ours, weights = zoo.create("dcgan", **config, with_discriminator=False), "random init"
    ours = ours.to(device).eval()
    reference = reference_generator(config["nz"], config["ngf"], config["channels"], config["image_size"])
    reference.load_state_dict(ours.generator.main.state_dict(), strict=True)
    return ours, reference.to(device).eval(), weights


def bench_config(label: str, config: dict[str, int], args: argparse.Namespace) -> list[tuple[str, float, int, int]]:
    """Emits the ``dcgan_sample`` lines; returns (what, GFLOP/s, FLOPs per image, counted) for ``dcgan_gflops``."""
    device = torch.device(args.device)
    ours, reference, weights = build(config, device)
    label = f"{label}, {weights}, batch {args.batch}"
    nz, batch = config["nz"], args.batch
    autocast = (lambda: torch.autocast(device.type, dtype=torch.bfloat16)) if args.bf16 else None
    variants: dict[str, tuple[ZooModel, nn.Module, Callable]] = {"fp32": (ours, reference, nullcontext)}
    if args.channels_last:
        cl = torch.channels_last
        ours_cl, reference_cl = build(config, device)[:2]
        variants["channels_last"] = (ours_cl.to(memory_format=cl), reference_cl.to(memory_format=cl), nullcontext)
    if autocast:
        variants["bf16"] = (ours, reference, autocast)

    def zoo_call(model: ZooModel, context: Callable) -> Callable[[], object]:
        def call() -> torch.Tensor:
            with context():
                return model.sample(batch, seed=0)

        return call

    def reference_call(net: nn.Module, context: Callable) -> Callable[[], object]:
        generator = torch.Generator().manual_seed(0)

        @torch.inference_mode()
        def call() -> torch.Tensor:
            with context():
                return net(torch.randn(batch, nz, 1, 1, generator=generator).to(device))

        return call

    calls: dict[str, Callable[[], object]] = {}
    for variant, (model, net, context) in variants.items():
        calls[f"zoo {variant}"] = zoo_call(model, context)
        calls[f"reference {variant}"] = reference_call(net, context)
    # warm-up, and as many calls per timing as fill about --seconds
    per_timing = {}
    for name, fn in calls.items():
        fn()
        start = time.perf_counter()
        fn()
        synchronize(device)
        per_timing[name] = max(1, round(args.seconds / (time.perf_counter() - start)))
    cases = {name: (lambda fn=fn, k=per_timing[name]: throughput(fn, batch, k, device)) for name, fn in calls.items()}
    rates = interleaved(cases, args.repeat)

    flops = generator_flops(ours.generator.main)
    counted = counted_conv_flops(ours.generator.main, nz)
    for variant, (model, net, context) in variants.items():
        with torch.inference_mode(), context():
            mine = model.sample(batch, seed=1).float()
            z = torch.randn(batch, nz, 1, 1, generator=torch.Generator().manual_seed(1)).to(device)
            theirs = ((net(z) + 1) / 2).float().clamp(0, 1)
        diff = (mine - theirs).abs().max().item()
        emit("dcgan_sample", f"{label}: zoo DCGAN.sample, {variant}", rates[f"zoo {variant}"], "images/s",
             args.repeat, f"reference nn.Sequential (pytorch/examples Generator), {variant}",
             rates[f"reference {variant}"], max_abs_diff=diff, same_output=diff == 0.0)  # fmt: skip
    for variant in variants:
        if variant != "fp32":
            emit("dcgan_sample", f"{label}: zoo DCGAN.sample, {variant} against fp32", rates[f"zoo {variant}"],
                 "images/s", args.repeat, "zoo DCGAN.sample, fp32", rates["zoo fp32"])  # fmt: skip
    what = f"{label}: zoo DCGAN.sample, {{}}, achieved"
    return [(what.format(v), flops * rates[f"zoo {v}"] / 1e9, flops, counted) for v in variants]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5, help="timings of each case (medians)")
    parser.add_argument("--batch", type=int, default=64, help="images per call (the reference's batch)")
    parser.add_argument("--seconds", type=float, default=0.25, help="about how long one timing runs")
    parser.add_argument("--matmul-size", type=int, default=4096)
    parser.add_argument("--matmul-repeat", type=int, default=3)
    parser.add_argument("--only", choices=("64", "mnist"), default=None)
    parser.add_argument("--no-bf16", dest="bf16", action="store_false", help="skip the bf16 cases")
    parser.add_argument("--no-channels-last", dest="channels_last", action="store_false")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (1: steadiest on a shared machine; 0: torch's default)")  # fmt: skip
    args = parser.parse_args(argv)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    where = torch.cuda.get_device_name() if device.type == "cuda" else f"{os.cpu_count()} CPUs"
    print(f"# python {sys.version.split()[0]}, torch {torch.__version__}, {torch.get_num_threads()} threads, {where}",
          file=sys.stderr)  # fmt: skip

    configs = {
        "64": ("64x64 RGB, nz 100, ngf 64 (the reference's default)", {"image_size": 64, "channels": 3}),
        "mnist": ("32x32 grey, nz 100, ngf 64 (dcgan.mnist)", {"image_size": 32, "channels": 1}),
    }
    size = args.matmul_size
    products = matmuls(size, device)
    rates = matmul_gflops(products, size, args.matmul_repeat, device)  # before the DCGAN cases ...
    rows = []
    for key, (label, config) in configs.items():
        if args.only in (None, key):
            rows += bench_config(label, {**config, "nz": 100, "ngf": 64, "ndf": 64}, args)
    after = matmul_gflops(products, size, args.matmul_repeat, device)  # ... and after them
    medians = {}
    for name, values in rates.items():
        values += after[name]
        medians[name] = statistics.median(values)
        emit("matmul", f"fp32 {name} {size}x{size}, before and after the DCGAN cases", medians[name], "GFLOP/s",
             len(values), spread=[round(min(values), 1), round(max(values), 1)])  # fmt: skip
    best = max(medians, key=medians.__getitem__)
    for what, gflops, flops, counted in rows:
        emit("dcgan_gflops", what, gflops, "GFLOP/s", args.repeat, f"fp32 {best} {size}x{size} (the faster)",
             medians[best], fraction_of_torch_mm=round(gflops / medians["torch.mm"], 3), flops_per_image=flops,
             flops_counter=counted)  # fmt: skip


if __name__ == "__main__":
    main()
