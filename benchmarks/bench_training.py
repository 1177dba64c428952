"""Training throughput: the ``zoo train`` engine against plain hand-written loops; bf16 and compile speed-ups.

Run: ``.venv/bin/python benchmarks/bench_training.py`` (a few minutes on 2 cores; ``--help`` for
the knobs). Prints one JSON line per figure on stdout, with the keys of ``bench_core.py``:

    {"benchmark": ..., "what": ..., "value": ..., "unit": "images/s", "baseline": ...,
     "baseline_value": ..., "ratio": ..., "n": ...}

Here ``value`` and ``baseline_value`` are throughputs (images / s, medians of ``n`` runs that
take turns), so ``ratio`` = value / baseline_value above 1 is *faster*; engine lines add
``overhead_pct`` = (1 - ratio) x 100.

What is measured, for each run: the steady state, steps ``warmup + 1 .. steps`` (so one-off
costs, first-touch allocations and ``torch.compile``'s compilation, are left out), on the same
data, model, batch and data order:

- ``engine``: ``zoo_core.training.train(...)``, its throughput read off ``log.jsonl`` (every
  logged interval after the warm-up; an interval's time includes writing the log line; no
  checkpoint or sample grid falls in the window; no progress bar, as when stderr is not a terminal).
- ``hand``: the loop one writes without zoo: index a float tensor of the whole split,
  ``zero_grad``, forward, loss, ``backward``, ``step``, ``loss.item()`` (as pytorch/examples).

Models: the VAE (784-400-20, batch 128, Adam 1e-3, summed BCE + KL) and, for "one GAN step",
a small DCGAN-like pair defined below (G: linear + 2 transposed convs with batch norm; D: 2 convs
+ linear; BCE, Adam 2e-4 with betas (0.5, 0.999), D on real then on fake, then G; batch 64),
trained through its own ``TrainingStep`` registered like a plugin's architecture.

Times are never asserted: compare the ratios of one run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from _report import emit
from torch import nn

import zoo_core as zoo
from zoo_core._catalog import reset_catalog
from zoo_core._plugins import get_plugin_manager
from zoo_core.data import load_dataset
from zoo_core.modeling import ModelConfig, UnconditionalGenerator, ZooModel
from zoo_core.training import TrainingStep, train
from zoo_core.training.batches import epoch_permutation

SEED = 0


# -- a DCGAN-like pair for "one GAN step" --------------------------------------------------------
@dataclass
class BenchGANConfig(ModelConfig):
    image_size: int = 28
    channels: int = 1
    latent_dim: int = 64
    width: int = 64


class BenchGAN(UnconditionalGenerator, ZooModel):
    """G: z -> linear 2w*7*7 -> BN ReLU -> ConvT(2w, w) -> BN ReLU -> ConvT(w, 1) -> sigmoid; D mirrors it."""

    architecture = "benchgan"
    config_class = BenchGANConfig

    def __init__(self, config: BenchGANConfig) -> None:
        super().__init__(config)
        w, c = config.width, config.channels
        self.generator = nn.Sequential(
            nn.Linear(config.latent_dim, 2 * w * 7 * 7, bias=False),
            nn.Unflatten(1, (2 * w, 7, 7)),
            nn.BatchNorm2d(2 * w),
            nn.ReLU(True),
            nn.ConvTranspose2d(2 * w, w, 4, 2, 1, bias=False),
            nn.BatchNorm2d(w),
            nn.ReLU(True),
            nn.ConvTranspose2d(w, c, 4, 2, 1, bias=False),
            nn.Sigmoid(),
        )
        self.discriminator = nn.Sequential(
            nn.Conv2d(c, w, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(w, 2 * w, 4, 2, 1, bias=False),
            nn.BatchNorm2d(2 * w),
            nn.LeakyReLU(0.2, True),
            nn.Flatten(),
            nn.Linear(2 * w * 7 * 7, 1),
        )

    def sample_batch(self, n: int, generator: torch.Generator) -> torch.Tensor:
        return self.generator(torch.randn(n, self.config.latent_dim, generator=generator).to(self.device))


def gan_losses(g: nn.Module, d: nn.Module, real: torch.Tensor, z: torch.Tensor, opt_g: Any, opt_d: Any,
               autocast: Any) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
    """One DCGAN step as pytorch/examples dcgan/main.py: D on real, D on fake (detached), then G."""
    ones, zeros = torch.ones(len(real), 1, device=real.device), torch.zeros(len(real), 1, device=real.device)
    opt_d.zero_grad()
    with autocast():
        out_real = d(real)
    loss_real = F.binary_cross_entropy_with_logits(out_real.float(), ones)
    loss_real.backward()
    with autocast():
        fake = g(z)
        out_fake = d(fake.detach())
    loss_fake = F.binary_cross_entropy_with_logits(out_fake.float(), zeros)
    loss_fake.backward()
    opt_d.step()
    opt_g.zero_grad()
    with autocast():
        out = d(fake)
    loss_g = F.binary_cross_entropy_with_logits(out.float(), ones)
    loss_g.backward()
    opt_g.step()
    return (loss_real + loss_fake).detach(), loss_g.detach()


class BenchGANStep(TrainingStep):
    default_batch_size = 64

    def networks(self) -> dict[str, nn.Module]:
        return {"g": self.model.generator, "d": self.model.discriminator}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {
            "g": torch.optim.Adam(self.model.generator.parameters(), lr=2e-4, betas=(0.5, 0.999)),
            "d": torch.optim.Adam(self.model.discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999)),
        }

    def train_step(self, batch: dict[str, Any], step: int) -> dict[str, torch.Tensor]:
        z = self.global_randn(self.model.config.latent_dim)
        loss_d, loss_g = gan_losses(
            self.nets["g"], self.nets["d"], batch["image"], z, self.opts["g"], self.opts["d"], self.autocast
        )
        return {"loss_d": loss_d, "loss_g": loss_g}


class BenchPlugin:
    @zoo.hookimpl
    def register_architectures(self, register):
        register(zoo.Architecture("benchgan", model=BenchGAN, tasks=("unconditional",), training_step=BenchGANStep))


# -- runs -----------------------------------------------------------------------------------------
def batch_sizes(n_items: int, batch: int, steps: int) -> list[int]:
    """The size of each step's batch (the last batch of an epoch is smaller)."""
    per_epoch = [batch] * (n_items // batch) + ([n_items % batch] if n_items % batch else [])
    return [per_epoch[i % len(per_epoch)] for i in range(steps)]


def engine_run(arch: str, steps: int, warmup: int, log_every: int, n_items: int, batch: int, **options: Any) -> float:
    """Steady-state images / s of ``zoo train``, from the intervals of its log after the warm-up."""
    with tempfile.TemporaryDirectory(prefix="zoo-bench-train-") as tmp:
        out = Path(tmp) / "run"
        train(
            arch, "mnist5k", out, steps=steps, batch_size=batch, seed=SEED, log_every=log_every,
            checkpoint_every=10**9, sample_every=10**9, evaluate=False, progress=False, verbose=False, **options,
        )  # fmt: skip
        lines = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    sizes = batch_sizes(n_items, batch, steps)
    images = seconds = 0.0
    for line in lines:
        if line["step"] - log_every >= warmup:
            interval = sum(sizes[line["step"] - log_every : line["step"]])
            images += interval
            seconds += interval / line["images_per_s"]
    return images / seconds


def hand_vae(data: torch.Tensor, steps: int, warmup: int, batch: int) -> float:
    from zoo_vae.model import VAE, VAEConfig, loss_function

    torch.manual_seed(SEED)
    model = VAE(VAEConfig())
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    done, images, total, start, epoch = 0, 0, 0.0, 0.0, 0
    while done < steps:
        for index in epoch_permutation(len(data), SEED, epoch).split(batch):
            if done == warmup:
                start = time.perf_counter()
            x = data[index]
            optimizer.zero_grad()
            recon, mu, logvar = model(x)
            loss = loss_function(recon, x, mu, logvar)
            loss.backward()
            optimizer.step()
            total += loss.item()
            done += 1
            images += len(x) if done > warmup else 0
            if done == steps:
                break
        epoch += 1
    return images / (time.perf_counter() - start)


def hand_gan(data: torch.Tensor, steps: int, warmup: int, batch: int) -> float:
    torch.manual_seed(SEED)
    model = BenchGAN(BenchGANConfig()).train()
    g, d = model.generator, model.discriminator
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    import contextlib

    done, images, start, epoch = 0, 0, 0.0, 0
    while done < steps:
        for index in epoch_permutation(len(data), SEED, epoch).split(batch):
            if done == warmup:
                start = time.perf_counter()
            real = data[index]
            z = torch.randn(len(real), model.config.latent_dim)
            loss_d, loss_g = gan_losses(g, d, real, z, opt_g, opt_d, contextlib.nullcontext)
            loss_d.item(), loss_g.item()
            done += 1
            images += len(real) if done > warmup else 0
            if done == steps:
                break
        epoch += 1
    return images / (time.perf_counter() - start)


def timed(run: Callable[[], None], iters: int, rows: int) -> Callable[[], float]:
    """A case of ``interleaved``: ``iters`` calls of ``run``, as ``rows`` training rows (images) each, per second."""

    def case() -> float:
        start = time.perf_counter()
        for _ in range(iters):
            run()
        return iters * rows / (time.perf_counter() - start)

    return case


def interleaved(cases: dict[str, Callable[[], float]], repeat: int) -> dict[str, float]:
    """Median throughput of each case, the cases taking turns (order reversed every other round)."""
    values: dict[str, list[float]] = {name: [] for name in cases}
    order = list(cases)
    for i in range(repeat):
        for name in order if i % 2 == 0 else reversed(order):
            values[name].append(cases[name]())
            print(f"# {name}: {values[name][-1]:.0f} images/s", file=sys.stderr, flush=True)
    return {name: statistics.median(v) for name, v in values.items()}


def bench(name: str, cases: dict[str, Callable[[], float]], repeat: int, model: str) -> None:
    """Engine against the hand loop, then each speed-up against the engine, each pair interleaved on its own.

    Pairs rather than one round of every case: a compiled or bf16 run just before a case
    perturbs it (caches, allocator, clocks), which is noise the 5 % question cannot afford.
    """
    pair = interleaved({"hand": cases["hand"], "engine": cases["engine"]}, repeat)
    hand, engine = pair["hand"], pair["engine"]
    emit(name, f"{model}: zoo train engine, fp32", engine, "images/s", repeat, "hand-written loop", hand,
         overhead_pct=round((1 - engine / hand) * 100, 2))  # fmt: skip
    for variant, what in (("bf16", "--precision bf16"), ("compile", "--compile")):
        if variant in cases:
            pair = interleaved({"engine": cases["engine"], variant: cases[variant]}, repeat)
            emit(name, f"{model}: zoo train {what}", pair[variant], "images/s", repeat, "zoo train fp32",
                 pair["engine"])  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5, help="runs of each case (medians)")
    parser.add_argument("--vae-steps", type=int, default=300)
    parser.add_argument("--gan-steps", type=int, default=80)
    parser.add_argument("--no-compile", action="store_true", help="skip the torch.compile cases (slow to compile)")
    parser.add_argument("--no-bf16", action="store_true", help="skip the bf16 cases")
    parser.add_argument("--only", choices=("vae", "gan"), default=None)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (1: steadiest on a shared machine; 0: torch's default)")  # fmt: skip
    args = parser.parse_args(argv)
    if args.threads > 0:
        torch.set_num_threads(args.threads)

    print(f"# python {sys.version.split()[0]}, torch {torch.__version__}, {torch.get_num_threads()} threads",
          file=sys.stderr)  # fmt: skip
    get_plugin_manager().register(BenchPlugin(), name="bench-gan")
    reset_catalog()
    data = load_dataset("mnist5k", split="train").tensors()
    n = len(data)

    if args.only in (None, "vae"):
        steps, warmup, every, batch = args.vae_steps, 50, 25, 128
        cases: dict[str, Callable[[], float]] = {
            "hand": lambda: hand_vae(data, steps, warmup, batch),
            "engine": lambda: engine_run("vae", steps, warmup, every, n, batch),
        }
        if not args.no_bf16:
            cases["bf16"] = lambda: engine_run("vae", steps, warmup, every, n, batch, precision="bf16")
        if not args.no_compile:
            cases["compile"] = lambda: engine_run("vae", steps, warmup, every, n, batch, compile=True)
        bench("train_vae", cases, args.repeat, "VAE 784-400-20, batch 128")

    if args.only in (None, "gan"):
        steps, warmup, every, batch = args.gan_steps, 20, 10, 64
        cases = {
            "hand": lambda: hand_gan(data, steps, warmup, batch),
            "engine": lambda: engine_run("benchgan", steps, warmup, every, n, batch),
        }
        if not args.no_bf16:
            cases["bf16"] = lambda: engine_run("benchgan", steps, warmup, every, n, batch, precision="bf16")
        if not args.no_compile:
            cases["compile"] = lambda: engine_run("benchgan", steps, warmup, every, n, batch, compile=True)
        bench("train_gan", cases, args.repeat, "DCGAN-like G/D step, batch 64")


if __name__ == "__main__":
    main()
