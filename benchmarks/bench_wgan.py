"""WGAN and WGAN-GP training steps: zoo's ``TrainingStep`` against the reference loops written out plainly.

Run: ``.venv/bin/python benchmarks/bench_wgan.py`` (about a minute on 2 cores; ``--help`` for the
knobs). Prints one JSON line per figure on stdout, with the keys of ``bench_core.py``:

    {"benchmark": ..., "what": ..., "value": ..., "unit": "images/s", "baseline": ...,
     "baseline_value": ..., "ratio": ..., "n": ...}

What is timed is a *generator iteration*: ``n_critic`` = 5 critic iterations, each on the batch,
then one generator update. ``value`` / ``baseline_value`` are throughputs (real images through
the critic per second, 5 x batch per iteration), medians of ``n`` runs of ``--iters`` iterations
that take turns (order reversed every other round), so ``ratio`` above 1 is *faster*; issue 16's
"within 1.05x of the reference loop" is a ratio of at least 1 / 1.05 = 0.952.

- ``train_wgan``: ``zoo_wgan.training.WGANTrainingStep.train_step`` on the ``wgan.mnist`` networks
  (DCGAN, 32x32 grey, nz 100, ngf = ndf = 64, batch 64, RMSProp 5e-5, clipping 0.01) against
  martinarjovsky/WassersteinGAN ``main.py``'s loop written out below (clamp, ``errD_real.backward(one)``,
  ``errD_fake.backward(mone)`` on ``netG(noise).detach()``, ``optimizerD.step()``; then, with the
  critic's ``requires_grad`` off, ``errG.backward(one)``, ``optimizerG.step()``).
- ``train_wgan_gp``: ``zoo_wgan_gp.training.WGANGPTrainingStep.train_step`` on ``gan_mnist.py``'s
  networks (dim 64, batch 50, Adam 1e-4, betas (0.5, 0.9), lambda 10) against that file's critic and
  generator costs written out in PyTorch (``disc_cost = mean D(fake) - mean D(real) + 10 * GP`` with
  the slopes of ``torch.autograd.grad``, one ``backward``; ``gen_cost = -mean D(fake)``).

Both sides run the same networks (the zoo model's, each side with its own copy of the same
initial weights and its own optimisers) on the same batch of real ``mnist5k`` digits. One
thread by default (``--threads``). Times are never asserted: compare the ratios of one run.
"""

from __future__ import annotations

import argparse
import copy
import sys
import tempfile
from collections.abc import Callable
from typing import Any

import torch
from _report import emit
from bench_training import interleaved, timed  # median throughput of each case, the cases taking turns
from torch import nn

from zoo_core.data import load_dataset
from zoo_core.training import TrainConfig

N_CRITIC = 5


def build(arch: str, config: dict[str, Any]) -> nn.Module:
    """The zoo model, built from its class (no catalog: the benchmark also runs from a bare checkout)."""
    if arch == "wgan":
        from zoo_wgan.model import WGAN, WGANConfig

        return WGAN(WGANConfig(**config))
    from zoo_wgan_gp.model import WGANGP, WGANGPConfig

    return WGANGP(WGANGPConfig(**config))


def zoo_step(arch: str, model: nn.Module, batch: torch.Tensor, out: str) -> Callable[[], None]:
    """One generator iteration of zoo's step: ``N_CRITIC`` calls of ``train_step`` (no warm-up)."""
    from zoo_wgan.training import WGANTrainingStep
    from zoo_wgan_gp.training import WGANGPTrainingStep

    step_class = WGANTrainingStep if arch == "wgan" else WGANGPTrainingStep
    extra: dict[str, Any] = {"warmup_generator_iters": 0, "warmup_every": 0} if arch == "wgan" else {}
    step = step_class(model, TrainConfig(arch, "mnist5k", out, step_config={"n_critic": N_CRITIC, **extra}))
    step.nets, step.opts, step.global_batch_size = step.networks(), step.optimizers(), len(batch)
    data = {"image": batch}

    def run() -> None:
        for i in range(N_CRITIC):
            step.train_step(data, i)

    return run


def reference_wgan(model: nn.Module, batch: torch.Tensor) -> Callable[[], None]:
    """main.py's generator iteration (l. 167-227) on the same networks, without the warm-up."""
    net_g, net_d, nz = model.generator, model.critic, model.config.nz
    opt_d = torch.optim.RMSprop(net_d.parameters(), lr=5e-5)
    opt_g = torch.optim.RMSprop(net_g.parameters(), lr=5e-5)
    real = batch * 2 - 1
    one, mone = torch.tensor(1.0, device=real.device), torch.tensor(-1.0, device=real.device)

    def run() -> None:
        for p in net_d.parameters():
            p.requires_grad = True
        for _ in range(N_CRITIC):
            for p in net_d.parameters():
                p.data.clamp_(-0.01, 0.01)
            net_d.zero_grad()
            err_d_real = net_d(real).mean()
            err_d_real.backward(one)
            with torch.no_grad():
                fake = net_g(torch.randn(len(real), nz, 1, 1, device=real.device))
            err_d_fake = net_d(fake).mean()
            err_d_fake.backward(mone)
            opt_d.step()
            (err_d_real - err_d_fake).item()
        for p in net_d.parameters():
            p.requires_grad = False
        net_g.zero_grad()
        err_g = net_d(net_g(torch.randn(len(real), nz, 1, 1, device=real.device))).mean()
        err_g.backward(one)
        opt_g.step()
        err_g.item()

    return run


def reference_wgan_gp(model: nn.Module, batch: torch.Tensor) -> Callable[[], None]:
    """gan_mnist.py's iteration (l. 134-159, 217-231) in PyTorch on the same networks."""
    net_g, net_d, nz = model.generator, model.critic, model.config.nz
    opt_d = torch.optim.Adam(net_d.parameters(), lr=1e-4, betas=(0.5, 0.9))
    opt_g = torch.optim.Adam(net_g.parameters(), lr=1e-4, betas=(0.5, 0.9))
    real = batch

    def run() -> None:
        for _ in range(N_CRITIC):
            opt_d.zero_grad()
            with torch.no_grad():
                fake = net_g(torch.randn(len(real), nz, device=real.device))
            alpha = torch.rand(len(real), 1, 1, 1, device=real.device)
            interpolates = (real + alpha * (fake - real)).requires_grad_(True)
            (gradients,) = torch.autograd.grad(net_d(interpolates).sum(), interpolates, create_graph=True)
            slopes = gradients.flatten(1).square().sum(1).sqrt()
            disc_cost = net_d(fake).mean() - net_d(real).mean() + 10 * ((slopes - 1) ** 2).mean()
            disc_cost.backward()
            opt_d.step()
            disc_cost.item()
        for p in net_d.parameters():
            p.requires_grad = False
        opt_g.zero_grad()
        gen_cost = -net_d(net_g(torch.randn(len(real), nz, device=real.device))).mean()
        gen_cost.backward()
        opt_g.step()
        for p in net_d.parameters():
            p.requires_grad = True
        gen_cost.item()

    return run


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=7, help="runs of each case (medians)")
    parser.add_argument("--iters", type=int, default=3, help="generator iterations per run")
    parser.add_argument("--only", choices=("wgan", "wgan-gp"), default=None)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--data", choices=("mnist5k", "random"), default="mnist5k",
                        help="real digits, or uniform noise of their shape (no data set)")  # fmt: skip
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (1: steadiest on a shared machine; 0: torch's default)")  # fmt: skip
    args = parser.parse_args(argv)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    print(f"# python {sys.version.split()[0]}, torch {torch.__version__}, {torch.get_num_threads()} threads",
          file=sys.stderr)  # fmt: skip
    device = torch.device(args.device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)

    setups = {
        "wgan": ("train_wgan", {"image_size": 32, "channels": 1}, {"size": 32}, 64, reference_wgan,
                 "wgan.mnist networks (DCGAN 32x32 grey, ngf = ndf = 64), batch 64", "main.py's loop"),
        "wgan-gp": ("train_wgan_gp", {}, {}, 50, reference_wgan_gp,
                    "gan_mnist.py networks (dim 64), batch 50", "gan_mnist.py's costs in PyTorch"),
    }  # fmt: skip
    with tempfile.TemporaryDirectory() as out:
        for arch, (name, config, options, size, reference, model_what, baseline) in setups.items():
            if args.only not in (None, arch):
                continue
            if args.data == "random":
                side = options.get("size", 28)
                batch = torch.rand(size, 1, side, side, generator=torch.Generator().manual_seed(0)).to(device)
            else:
                batch = load_dataset("mnist5k", split="train", **options).tensors()[:size].to(device)
            torch.manual_seed(0)
            ours = build(arch, config).to(device).train()
            theirs = copy.deepcopy(ours)
            run_ours, run_theirs = zoo_step(arch, ours, batch, out), reference(theirs, batch)

            def case(run: Callable[[], None]) -> Callable[[], None]:
                def synced() -> None:
                    run()
                    sync()

                return synced

            for run in (run_ours, run_theirs):  # warm-up: first-touch allocations, optimiser state
                case(run)()
            images = N_CRITIC * len(batch)
            cases = {
                "reference": timed(case(run_theirs), args.iters, images),
                "zoo": timed(case(run_ours), args.iters, images),
            }
            result = interleaved(cases, args.repeat)
            emit(name, f"one generator iteration ({N_CRITIC} critic iterations + 1 generator update): zoo "
                 f"TrainingStep.train_step x {N_CRITIC}, {model_what}, {device.type}", result["zoo"], "images/s",
                 args.repeat, baseline, result["reference"])  # fmt: skip


if __name__ == "__main__":
    main()
