"""GAN, InfoGAN, CoGAN, DiscoGAN, AnoGAN and IcGAN training steps: zoo's ``TrainingStep`` against the reference loops.

Run: ``.venv/bin/python benchmarks/bench_gans.py`` (2-4 minutes on one thread; ``--only gan`` for one
case, ``--help`` for the knobs). Prints one JSON line per figure on stdout, with the keys of ``bench_core.py``:

    {"benchmark": ..., "what": ..., "value": ..., "unit": "images/s", "baseline": ...,
     "baseline_value": ..., "ratio": ..., "n": ..., "same_update": ..., "max_abs_diff": ...,
     "update_rel_diff": ...}

What is timed is an *iteration* of each recipe (below), ``--iters`` of them per run (default: each
case's own, about 1 s a run on one thread); ``value`` / ``baseline_value`` are throughputs, real training
rows (batch rows) per second, medians of ``n`` runs that take turns (order reversed every other
round), so ``ratio`` above 1 is *faster*; issue 16's "within 1.05x of the reference loop" is a
ratio of at least 1 / 1.05 = 0.952.

``same_update``: before timing, each side runs one iteration from the same initial weights under
the same seed (both sides draw their noise, codes and dropout masks in the same order), and every
parameter of the two models must then agree (``torch.allclose``, its default tolerances);
``max_abs_diff`` is the largest difference and ``update_rel_diff`` the norm of the difference of the
two updates over the norm of the reference's update (all parameters as one vector). That first
iteration is also the warm-up. In float32 an exact match needs the same arithmetic, operation for
operation: the GAN, InfoGAN, CoGAN, AnoGAN (GAN phase) and IcGAN (encoder phase) sides agree bit
for bit. DiscoGAN's and IcGAN's references take ``BCELoss`` of the sigmoid where zoo takes
``BCEWithLogits`` of the logit (DiscoGAN: and ``HingeEmbeddingLoss`` where zoo takes a plain mean;
IcGAN: three ``backward`` calls where zoo sums the three D losses), and Adam's first steps
(``g / (|g| + eps)``) turn the last-bit differences of near-zero gradients into differences of up
to a learning rate on a few weights: ``update_rel_diff`` about 1e-3 (DiscoGAN) and 1e-2 (IcGAN);
with zoo's formulation in the reference loop, both agree bit for bit. AnoGAN's encoder phase
differs for real: f-AnoGAN's ``tf.train.RMSPropOptimizer`` (decay 0.9, mean square starting at 1,
epsilon 1e-10 under the root) is not zoo's ``torch.optim.RMSprop`` (alpha 0.99, mean square from 0,
eps 1e-8 outside the root), whose first steps are about 10x lr where TF's are about lr x |g|; with
``torch.optim.RMSprop`` in the reference loop, the two sides agree bit for bit.

- ``train_gan``: ``zoo_gan.training.GANTrainingStep.train_step`` on the ``mnist.yaml`` networks
  (MLP generator 100-1200-1200-784, maxout discriminator 240x5, 240x5, batch 100) against
  ``mnist.yaml``'s pylearn2 SGD on goodfeli/adversarial's ``AdversaryCost2`` (``__init__.py``
  l. 323-359 ``get_samples_and_objectives``: noise U(-sqrt 3, sqrt 3) (``get_noise`` l. 208), D on the
  data and on ``S = G(z)`` with ``dropout_fprop`` masks (input 0.8 / x1.25, hidden 0.5 / x2),
  ``d_obj = 0.5 (cost(1, y_hat1) + cost(0, y_hat0))``, ``g_obj = cost(1, y_hat0)``; l. 382-398
  ``get_gradients``: ``T.grad(d_obj, d_params)`` and ``T.grad(g_obj, g_params)``, here two
  ``torch.autograd.grad`` calls; then one update of both networks with pylearn2's ``Momentum`` rule
  ``v <- mu v - lr g``, ``p <- p + v``, lr 0.1 divided by 1.000004 after each update
  (``ExponentialDecay``), momentum 0.5 (``MomentumAdjustor``: 0.5 -> 0.7 from the reference's epoch 1
  to 250 of 500 updates)). An iteration is one update (the yaml's k = 1: D and G together).
- ``train_infogan``: ``zoo_infogan.training.InfoGANTrainingStep.train_step`` on ``run_mnist_exp.py``'s
  networks (batch 128) against openai/InfoGAN ``infogan/algos/infogan_trainer.py``: l. 51-105
  (``init_opt``: codes from the prior, ``discriminator_loss`` / ``generator_loss`` with ``TINY``, minus
  the MI lower bounds of the categorical and the continuous codes), l. 107-121 (Adam by variable
  scope: ``d_vars`` D 2e-4 with Q, ``g_vars`` G 1e-3, beta1 0.5; ``apply_optimizer(var_list=...)``:
  gradients of each loss for its own variables only, here ``torch.autograd.grad`` of the loss for
  that list) and l. 233-238 (``train``: the D trainer, then the G trainer on a fresh draw of ``z``).
  An iteration is one D+Q update then one G update.
- ``train_cogan``: ``zoo_cogan.training.CoGANTrainingStep.train_step`` on the published CoGAN config
  (``ngf=256``, latent 100, discriminator 20-50-500, batch 64 pairs of ``mnist-edges``) against
  mingyuliutw/CoGAN ``cogan_pytorch/src/trainer_cogan_mnistedge.py`` l. 27-49 (``dis_update``:
  ``dis.zero_grad()``, real pairs against label 1, ``gen(noise)`` *not* detached against label 0,
  ``(true_loss + fake_loss).backward()``, ``dis_opt.step()``; ``gen_update``: ``gen.zero_grad()``,
  fakes against label 1, ``backward()`` through the discriminators too, ``gen_opt.step()``), Adam 2e-4
  (0.5, 0.999), weight decay 5e-4 (l. 14-15), and ``train_cogan_mnistedge.py`` l. 53-56 (fresh
  ``torch.randn`` noise for each update). An iteration is one D update then one G update; a row is a pair.
- ``train_discogan``: ``zoo_discogan.training.DiscoGANTrainingStep.train_step`` on 32x32 grey
  ``digits-mnist`` (the published config: ``input_nc = output_nc = 1``, ``image_size`` 32, widths
  64, batch 64) against SKTBrain/DiscoGAN ``discogan/image_translation.py`` l. 191-264: every step
  zeroes the four networks' gradients, runs ``AB``, ``BA``, ``ABA``, ``BAB`` and the four discriminator
  passes, builds the MSE, ``BCELoss`` (l. 85-98), ``HingeEmbeddingLoss`` feature-matching (l. 76-83)
  and total losses (l. 242-252), then ``dis_loss.backward(); optim_dis.step()`` when
  ``iters % update_interval == 0`` and ``gen_loss.backward(); optim_gen.step()`` otherwise (Adam 2e-4,
  (0.5, 0.999), weight decay 1e-5, l. 169-173). With ``update_interval`` 3, an iteration is a whole
  cycle of 3 steps (one D step, two G steps) on both sides.
- ``train_anogan`` (GAN phase) and ``train_anogan_encoder`` (encoder phase):
  ``zoo_anogan.training.AnoGANTrainingStep.train_step`` on the published digit config (DCGAN 32x32
  grey, widths 32, nz 100, batch 64 of ``mnist5k-anomaly`` without digit 0), once with ``gan_steps``
  10^9 (GAN steps) and once with ``gan_steps=0`` (encoder steps), against seokinj/anoGAN
  ``train.py`` l. 68-73 and 95-136 (D on real and on ``G(noise)`` not detached, ``D_loss.backward()``,
  ``optimizerD.step()``; fresh noise, ``G_loss.backward()`` through D too, ``optimizerG.step()``, with
  ``optimizerG`` on G's parameters where the reference's l. 73 puts D's, the plugin's documented fix)
  and against tSchlegl/f-AnoGAN ``z_encoding_izif.py`` l. 258-273 and 297-301 (``loss_type='MSE'``:
  ``MSE(x, G(E(x))) + kappa MSE(f(G(E(x))), f(x))``, G and D with ``is_training=False``, TF's RMSProp
  5e-5 on the encoder's variables, written out). An iteration is one D and one G update, or one
  encoder update.
- ``train_icgan`` (cGAN phase) and ``train_icgan_encoder`` (encoder phase):
  ``zoo_icgan.training.IcGANTrainingStep.train_step`` on the published config (32x32 grey, ngf = ndf
  = 64, encoders nf 32, batch 64 of labelled mnist5k digits), with ``gan_steps`` 10^9 and 0, against
  Guim3/IcGAN ``trainGAN.lua`` l. 146-156 and 203-290 (``fDx``: ``netD:backward`` after D on real
  digits with their Y, with a wrong Y (x 0.5) and on ``G(Z, Y)`` with a sampled Y (x 0.5); ``fGx``: D
  on the same fakes, ``updateGradInput``, ``netG:backward``; ``BCECriterion`` on the sigmoid, Adam
  2e-4, beta1 0.5) and against ``generateEncoderDataset.lua`` l. 109-128 (``stabilizeBN``, once) and
  l. 279-321 (a batch of ``G(Z, Y)``, Y cycling through the classes) with ``trainEncoder.lua`` l.
  264-303 (``MSECriterion``, Adam 1e-4, beta1 0.1) for E_z on the generated digits and E_y on the
  real ones. An iteration is one D and one G update, or one E_z and one E_y update. The reference
  generates its 60,000 encoder digits once and trains 15 epochs on 66 % of them (about one G pass
  per 10 encoder updates); both sides here generate one batch per iteration, as zoo does.

Both sides run the same networks (the zoo model's, each side with its own deep copy of the same
initial weights and its own optimisers) on the same batch of real digits. The reference loops
keep the reference's wasted work where it has some (CoGAN's and DiscoGAN's D steps backpropagate
into the generators and their G steps into the discriminators; zoo's steps do not), so a ratio
above 1 there is partly that. One thread by default (``--threads``). Times are never asserted:
compare the ratios of one run.
"""

from __future__ import annotations

import argparse
import copy
import math
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from _report import emit
from bench_training import interleaved, timed  # median throughput of each case, the cases taking turns
from torch import nn

from zoo_core.data import load_dataset
from zoo_core.training import TrainConfig

#: the seed of the one iteration that checks the two updates agree
CHECK_SEED = 1234
#: AnoGAN's and IcGAN's GAN phase in steps: longer than any benchmark, so that every step is a GAN step
PHASE_STEPS = 10**9


@dataclass
class Case:
    """One benchmark: the two sides' iterations on their own copies of the same model."""

    name: str
    what: str
    baseline: str
    rows: int  # real training rows per iteration
    iters: int  # default iterations per timed run
    ours: nn.Module
    theirs: nn.Module
    zoo: Callable[[], None]
    reference: Callable[[], None]


def zoo_step(step_class: type, model: nn.Module, arch: str, dataset: str, out: str, rows: int, **options: Any) -> Any:
    """The zoo step as the engine sets it up (networks, optimisers, global batch), without the engine."""
    step = step_class(model, TrainConfig(arch, dataset, out, **options))
    step.nets, step.opts, step.global_batch_size = step.networks(), step.optimizers(), rows
    return step


def counted(
    train_step: Callable[[dict[str, Any], int], Any], data: dict[str, Any], per_iter: int = 1
) -> Callable[[], None]:
    """``per_iter`` calls of ``train_step`` per iteration, the step number counting on across iterations."""
    state = {"step": 0}

    def run() -> None:
        for _ in range(per_iter):
            train_step(data, state["step"])
            state["step"] += 1

    return run


# -- GAN: goodfeli/adversarial mnist.yaml -----------------------------------------------------------
def setup_gan(device: torch.device, out: str) -> Case:
    from zoo_gan.model import GAN, GANConfig
    from zoo_gan.training import GANTrainingStep

    batch = load_dataset("mnist5k", split="train").tensors()[:100].to(device)
    torch.manual_seed(0)
    ours = GAN(GANConfig()).to(device).train()
    theirs = copy.deepcopy(ours)
    step = zoo_step(GANTrainingStep, ours, "gan", "mnist5k", out, len(batch))
    return Case(
        "train_gan",
        "one update of D and G together (AdversaryCost2, k = 1): zoo GANTrainingStep.train_step, mnist.yaml "
        f"networks (G 100-1200-1200-784, D maxout 240x5 x2, dropout), batch 100, {device.type}",
        "mnist.yaml's pylearn2 SGD on AdversaryCost2, written out",
        len(batch), 10, ours, theirs, counted(step.train_step, {"image": batch}), reference_gan(theirs, batch),
    )  # fmt: skip


def reference_gan(model: nn.Module, batch: torch.Tensor) -> Callable[[], None]:
    """AdversaryCost2.get_samples_and_objectives / get_gradients (l. 323-398) and pylearn2's Momentum update."""
    g, d, nz = model.generator, model.discriminator, model.config.nz
    g_params, d_params = list(g.parameters()), list(d.parameters())
    velocities = [torch.zeros_like(p) for p in g_params + d_params]
    x = batch.flatten(1)
    m = len(x)
    state = {"updates": 0}

    def dropout_masks() -> list[torch.Tensor]:  # dropout_fprop: each layer's input kept w.p. 0.8 / 0.5, scaled
        sizes = d.input_sizes()
        return [
            torch.empty(m, sizes[0], device=x.device).bernoulli_(0.8) * 1.25,
            torch.empty(m, sizes[1], device=x.device).bernoulli_(0.5) * 2.0,
            torch.empty(m, sizes[2], device=x.device).bernoulli_(0.5) * 2.0,
        ]

    def run() -> None:
        k = state["updates"]
        lr = max(0.1 / 1.000004**k, 1e-6)  # ExponentialDecay(1.000004, min_lr 1e-6), one call per update
        epoch = k // 500  # MomentumAdjustor(start 1, saturate 250, final .7) over the reference's 500-update epochs
        alpha = min(max((epoch + 1 - 1) / (250 - 1), 0.0), 1.0)
        mu = 0.5 * (1 - alpha) + 0.7 * alpha
        z = ((torch.rand(m, nz) * 2 - 1) * math.sqrt(3)).to(x.device)  # get_noise: uniform(-sqrt 3, sqrt 3)
        s = g(z)
        y_hat1 = d(x, dropout_masks())
        y_hat0 = d(s, dropout_masks())
        d_obj = 0.5 * (
            F.binary_cross_entropy_with_logits(y_hat1, torch.ones_like(y_hat1))
            + F.binary_cross_entropy_with_logits(y_hat0, torch.zeros_like(y_hat0))
        )
        g_obj = F.binary_cross_entropy_with_logits(y_hat0, torch.ones_like(y_hat0))
        d_grads = torch.autograd.grad(d_obj, d_params, retain_graph=True)
        g_grads = torch.autograd.grad(g_obj, g_params)
        with torch.no_grad():
            for p, v, grad in zip(g_params + d_params, velocities, g_grads + d_grads, strict=True):
                v.mul_(mu).add_(grad, alpha=-lr)  # Momentum: v <- mu v - lr g
                p.add_(v)  # p <- p + v
        state["updates"] = k + 1

    return run


# -- InfoGAN: openai/InfoGAN infogan_trainer.py -----------------------------------------------------
def setup_infogan(device: torch.device, out: str) -> Case:
    from zoo_infogan.model import InfoGAN, InfoGANConfig
    from zoo_infogan.training import InfoGANTrainingStep

    batch = load_dataset("mnist5k", split="train").tensors()[:128].to(device)
    torch.manual_seed(0)
    ours = InfoGAN(InfoGANConfig()).to(device).train()
    theirs = copy.deepcopy(ours)
    step = zoo_step(InfoGANTrainingStep, ours, "infogan", "mnist5k", out, len(batch))
    return Case(
        "train_infogan",
        "one D+Q update then one G update: zoo InfoGANTrainingStep.train_step, run_mnist_exp.py networks "
        f"(62 noise + 10-way + 2 continuous codes), batch 128, {device.type}",
        "infogan_trainer.py's D and G trainers in PyTorch",
        len(batch), 2, ours, theirs, counted(step.train_step, {"image": batch}), reference_infogan(theirs, batch),
    )  # fmt: skip


def reference_infogan(model: nn.Module, batch: torch.Tensor) -> Callable[[], None]:
    """infogan_trainer.py l. 51-121 (losses, Adam per variable scope) and l. 233-238 (D trainer, then G trainer)."""
    g, d, c = model.generator, model.discriminator, model.config
    tiny = 1e-8
    d_vars, g_vars = list(d.parameters()), list(g.parameters())
    opt_d = torch.optim.Adam(d_vars, lr=2e-4, betas=(0.5, 0.999), eps=1e-8)
    opt_g = torch.optim.Adam(g_vars, lr=1e-3, betas=(0.5, 0.999), eps=1e-8)
    x = batch
    n = len(x)

    def sample_prior() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        # latent_dist.sample_prior: Uniform(62), Categorical(10), 2 x Uniform(1, fix_std=True); z = their concatenation
        noise = torch.rand(n, c.noise_dim) * 2 - 1
        category = torch.randint(0, c.categories, (n,))
        cont = torch.rand(n, c.continuous) * 2 - 1
        onehot = F.one_hot(category, c.categories).float()
        return torch.cat([noise, onehot, cont], 1).to(x.device), onehot.to(x.device), cont.to(x.device)

    def mi_est(q_flat: torch.Tensor, onehot: torch.Tensor, cont: torch.Tensor) -> torch.Tensor:
        k = c.categories  # l. 69-97: disc_mi_est + cont_mi_est, the entropies of the priors minus the cross-entropies
        disc_cross_ent = (-(torch.log(torch.softmax(q_flat[:, :k], 1) + tiny) * onehot).sum(1)).mean()
        disc_ent = -math.log(1.0 / k + tiny)
        mean = q_flat[:, k : k + 2 * c.continuous].reshape(n, c.continuous, 2)[..., 0]
        std = torch.ones_like(mean)  # Uniform(1, fix_std=True)
        log_q = -0.5 * math.log(2 * math.pi) - torch.log(std + tiny) - 0.5 * ((cont - mean) / (std + tiny)) ** 2
        cont_cross_ent = (-log_q.sum(1)).mean()
        prior = cont / (1.0 + tiny)
        cont_ent = (0.5 * math.log(2 * math.pi) + math.log(1.0 + tiny) + 0.5 * prior**2).sum(1).mean()
        return (disc_ent - disc_cross_ent) + (cont_ent - cont_cross_ent)

    def apply_optimizer(opt: torch.optim.Optimizer, loss: torch.Tensor, var_list: list[nn.Parameter]) -> None:
        grads = torch.autograd.grad(loss, var_list)  # compute_gradients(loss, var_list), then apply_gradients
        for p, grad in zip(var_list, grads, strict=True):
            p.grad = grad
        opt.step()

    def run() -> None:
        z, onehot, cont = sample_prior()  # sess.run([discriminator_trainer] + log_vars)
        fake_x = torch.sigmoid(g(z))
        real_logit, _ = d(x)
        fake_logit, q_flat = d(fake_x)
        real_d, fake_d = torch.sigmoid(real_logit), torch.sigmoid(fake_logit)
        discriminator_loss = -(torch.log(real_d + tiny) + torch.log(1.0 - fake_d + tiny)).mean()
        discriminator_loss = discriminator_loss - mi_est(q_flat, onehot, cont)
        apply_optimizer(opt_d, discriminator_loss, d_vars)
        z, onehot, cont = sample_prior()  # sess.run(generator_trainer): a fresh z
        fake_logit, q_flat = d(torch.sigmoid(g(z)))
        generator_loss = -torch.log(torch.sigmoid(fake_logit) + tiny).mean() - mi_est(q_flat, onehot, cont)
        apply_optimizer(opt_g, generator_loss, g_vars)

    return run


# -- CoGAN: mingyuliutw/CoGAN cogan_pytorch -----------------------------------------------------------
def setup_cogan(device: torch.device, out: str) -> Case:
    from zoo_cogan.model import CoGAN, CoGANConfig
    from zoo_cogan.training import CoGANTrainingStep

    data = load_dataset("mnist-edges", split="train")
    items = [data[i] for i in range(64)]
    images_a = torch.stack([item["image"] for item in items]).to(device)
    images_b = torch.stack([item["target"] for item in items]).to(device)
    torch.manual_seed(0)
    ours = CoGAN(CoGANConfig(pair="edges", ngf=256)).to(device).train()
    theirs = copy.deepcopy(ours)
    step = zoo_step(CoGANTrainingStep, ours, "cogan", "mnist-edges", out, len(images_a))
    data_ours = {"image": images_a, "target": images_b}
    return Case(
        "train_cogan",
        "one D update then one G update of both coupled GANs: zoo CoGANTrainingStep.train_step, the published "
        f"config (ngf 256, latent 100), batch 64 pairs of mnist-edges, {device.type}",
        "trainer_cogan_mnistedge.py's dis_update + gen_update",
        len(images_a), 2, ours, theirs, counted(step.train_step, data_ours),
        reference_cogan(theirs, images_a, images_b),
    )  # fmt: skip


def reference_cogan(model: nn.Module, images_a: torch.Tensor, images_b: torch.Tensor) -> Callable[[], None]:
    """trainer_cogan_mnistedge.py l. 14-17 and 27-49, driven as train_cogan_mnistedge.py l. 53-56."""
    dis, gen, latent = model.dis, model.gen, model.config.latent_dims
    dis_opt = torch.optim.Adam(dis.parameters(), lr=0.0002, betas=(0.5, 0.999), weight_decay=0.0005)
    gen_opt = torch.optim.Adam(gen.parameters(), lr=0.0002, betas=(0.5, 0.999), weight_decay=0.0005)
    batch_size = len(images_a)
    true_labels = torch.ones(batch_size * 2, dtype=torch.long, device=images_a.device)
    fake_labels = torch.zeros(batch_size * 2, dtype=torch.long, device=images_a.device)

    def dis_update(noise: torch.Tensor) -> torch.Tensor:
        dis.zero_grad()
        true_outputs = dis(images_a, images_b)
        true_loss = F.cross_entropy(true_outputs, true_labels)
        _, true_predicts = torch.max(true_outputs.data, 1)
        true_acc = (true_predicts == 1).sum() / (1.0 * true_predicts.size(0))
        fake_images_a, fake_images_b = gen(noise)
        fake_outputs = dis(fake_images_a, fake_images_b)
        fake_loss = F.cross_entropy(fake_outputs, fake_labels)
        _, fake_predicts = torch.max(fake_outputs.data, 1)
        fake_acc = (fake_predicts == 0).sum() / (1.0 * fake_predicts.size(0))
        d_loss = true_loss + fake_loss
        d_loss.backward()
        dis_opt.step()
        return 0.5 * (true_acc + fake_acc)

    def gen_update(noise: torch.Tensor) -> None:
        gen.zero_grad()
        fake_images_a, fake_images_b = gen(noise)
        fake_outputs = dis(fake_images_a, fake_images_b)
        fake_loss = F.cross_entropy(fake_outputs, true_labels)
        fake_loss.backward()
        gen_opt.step()

    def run() -> None:
        noise = torch.randn(batch_size, latent).to(images_a.device)
        dis_update(noise)
        noise = torch.randn(batch_size, latent).to(images_a.device)
        gen_update(noise)

    return run


# -- DiscoGAN: SKTBrain/DiscoGAN image_translation.py -------------------------------------------------
UPDATE_INTERVAL = 3


def setup_discogan(device: torch.device, out: str) -> Case:
    from zoo_discogan.model import DiscoGAN, DiscoGANConfig, pad_to
    from zoo_discogan.training import DiscoGANTrainingStep

    data = load_dataset("digits-mnist", split="train")
    items = [data[i] for i in range(64)]
    a = pad_to(torch.stack([item["image"] for item in items]), 32, 32).to(device)
    b = pad_to(torch.stack([item["target"] for item in items]), 32, 32).to(device)
    torch.manual_seed(0)
    ours = DiscoGAN(DiscoGANConfig(input_nc=1, output_nc=1, image_size=32)).to(device).train()
    theirs = copy.deepcopy(ours)
    step = zoo_step(DiscoGANTrainingStep, ours, "discogan", "digits-mnist", out, len(a))
    return Case(
        "train_discogan",
        f"one cycle of {UPDATE_INTERVAL} steps (update_interval {UPDATE_INTERVAL}: a D step, then G steps): zoo "
        "DiscoGANTrainingStep.train_step x 3, 32x32 grey (input_nc = output_nc = 1, widths 64), batch 64 of "
        f"digits-mnist, {device.type}",
        "image_translation.py's loop (l. 191-264), 3 iterations",
        UPDATE_INTERVAL * len(a), 1, ours, theirs,
        counted(step.train_step, {"image": a, "target": b}, UPDATE_INTERVAL), reference_discogan(theirs, a, b),
    )  # fmt: skip


def reference_discogan(model: nn.Module, a: torch.Tensor, b: torch.Tensor) -> Callable[[], None]:
    """image_translation.py l. 165-173 (criteria, Adam) and l. 191-264 (one iteration), 3 iterations per call."""
    generator_a, generator_b = model.generator_A, model.generator_B
    discriminator_a, discriminator_b = model.discriminator_A, model.discriminator_B
    recon_criterion, gan_criterion, feat_criterion = nn.MSELoss(), nn.BCELoss(), nn.HingeEmbeddingLoss()
    gen_params = [*generator_a.parameters(), *generator_b.parameters()]
    dis_params = [*discriminator_a.parameters(), *discriminator_b.parameters()]
    optim_gen = torch.optim.Adam(gen_params, lr=0.0002, betas=(0.5, 0.999), weight_decay=0.00001)
    optim_dis = torch.optim.Adam(dis_params, lr=0.0002, betas=(0.5, 0.999), weight_decay=0.00001)
    gan_curriculum, starting_rate, default_rate = 10000, 0.01, 0.5
    state = {"iters": 0}

    def get_fm_loss(real_feats: list[torch.Tensor], fake_feats: list[torch.Tensor]) -> torch.Tensor:
        losses = 0
        for real_feat, fake_feat in zip(real_feats, fake_feats, strict=True):
            l2 = (real_feat.mean(0) - fake_feat.mean(0)) * (real_feat.mean(0) - fake_feat.mean(0))
            losses += feat_criterion(l2, torch.ones(l2.size(), device=l2.device))
        return losses

    def get_gan_loss(dis_real: torch.Tensor, dis_fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # the labels take the outputs' (N, 1, 1, 1) shape: today's BCELoss refuses the reference's (N, 1)
        labels_dis_real, labels_dis_fake = torch.ones_like(dis_real), torch.zeros_like(dis_fake)
        labels_gen = torch.ones_like(dis_fake)
        dis_loss = gan_criterion(dis_real, labels_dis_real) * 0.5 + gan_criterion(dis_fake, labels_dis_fake) * 0.5
        gen_loss = gan_criterion(dis_fake, labels_gen)
        return dis_loss, gen_loss

    def iteration() -> None:
        iters = state["iters"]
        generator_a.zero_grad()
        generator_b.zero_grad()
        discriminator_a.zero_grad()
        discriminator_b.zero_grad()
        ab = generator_b(a)
        ba = generator_a(b)
        aba = generator_a(ab)
        bab = generator_b(ba)
        recon_loss_a = recon_criterion(aba, a)
        recon_loss_b = recon_criterion(bab, b)
        a_dis_real, a_feats_real = discriminator_a(a)
        a_dis_fake, a_feats_fake = discriminator_a(ba)
        dis_loss_a, gen_loss_a = get_gan_loss(a_dis_real, a_dis_fake)
        fm_loss_a = get_fm_loss(a_feats_real, a_feats_fake)
        b_dis_real, b_feats_real = discriminator_b(b)
        b_dis_fake, b_feats_fake = discriminator_b(ab)
        dis_loss_b, gen_loss_b = get_gan_loss(b_dis_real, b_dis_fake)
        fm_loss_b = get_fm_loss(b_feats_real, b_feats_fake)
        rate = starting_rate if iters < gan_curriculum else default_rate
        gen_loss_a_total = (gen_loss_b * 0.1 + fm_loss_b * 0.9) * (1.0 - rate) + recon_loss_a * rate
        gen_loss_b_total = (gen_loss_a * 0.1 + fm_loss_a * 0.9) * (1.0 - rate) + recon_loss_b * rate
        gen_loss = gen_loss_a_total + gen_loss_b_total
        dis_loss = dis_loss_a + dis_loss_b
        if iters % UPDATE_INTERVAL == 0:
            dis_loss.backward()
            optim_dis.step()
        else:
            gen_loss.backward()
            optim_gen.step()
        state["iters"] = iters + 1

    def run() -> None:
        for _ in range(UPDATE_INTERVAL):
            iteration()

    return run


# -- AnoGAN: seokinj/anoGAN train.py (GAN phase), tSchlegl/f-AnoGAN z_encoding_izif.py (encoder phase) --------
def anogan_parts(device: torch.device) -> tuple[nn.Module, torch.Tensor]:
    """The published digit config (32x32, widths 32) and 64 normal digits of ``mnist5k-anomaly`` (digit 0 held out)."""
    from zoo_anogan.model import AnoGAN, AnoGANConfig

    batch = load_dataset("mnist5k-anomaly", split="train", digit=0, size=32).tensors()[:64].to(device)
    torch.manual_seed(0)
    model = AnoGAN(AnoGANConfig(image_size=32, ngf=32, ndf=32, nef=32, anomaly_class=0)).to(device).train()
    return model, batch


def setup_anogan(device: torch.device, out: str) -> Case:
    from zoo_anogan.training import AnoGANTrainingStep

    ours, batch = anogan_parts(device)
    theirs = copy.deepcopy(ours)
    step = zoo_step(AnoGANTrainingStep, ours, "anogan", "mnist5k-anomaly", out, len(batch),
                    step_config={"gan_steps": PHASE_STEPS})  # fmt: skip
    return Case(
        "train_anogan",
        "GAN phase, one D update then one G update: zoo AnoGANTrainingStep.train_step, the published digit "
        f"config (DCGAN 32x32 grey, ngf = ndf = 32, nz 100), batch 64 of mnist5k-anomaly (digit 0 out), {device.type}",
        "seokinj/anoGAN train.py's loop (G updated by its own Adam)",
        len(batch), 8, ours, theirs, counted(step.train_step, {"image": batch}), reference_anogan(theirs, batch),
    )  # fmt: skip


def reference_anogan(model: nn.Module, batch: torch.Tensor) -> Callable[[], None]:
    """train.py l. 68-73 (BCELoss, Adam) and l. 95-136 (D update, then G update on fresh noise).

    The reference builds ``optimizerG`` on ``D.parameters()`` (l. 73: its G never learns); here it is
    built on G's, as zoo's (the plugin's documented fix), so that the two sides' updates can agree.
    """
    g, d, z_dim = model.generator, model.discriminator, model.config.nz
    criterion = nn.BCELoss()
    optimizer_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    optimizer_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    inputs = batch * 2 - 1  # Normalize(mean 0.5, std 0.5)
    batch_size = len(inputs)
    label_real = torch.ones(batch_size, device=inputs.device)
    label_fake = torch.zeros(batch_size, device=inputs.device)

    def run() -> None:
        _, d_real = d(inputs)
        d_real = criterion(d_real, label_real)
        noise = torch.randn((batch_size, z_dim)).view(-1, z_dim, 1, 1).to(inputs.device)
        g_sample = g(noise)
        _, d_fake = d(g_sample)
        d_fake = criterion(d_fake, label_fake)
        d_loss = d_real + d_fake
        d.zero_grad()
        d_loss.backward()
        optimizer_d.step()
        noise = torch.randn((batch_size, z_dim)).view(-1, z_dim, 1, 1).to(inputs.device)
        g_sample = g(noise)
        _, d_fake = d(g_sample)
        g_loss = criterion(d_fake, label_real)
        d.zero_grad()
        g.zero_grad()
        g_loss.backward()
        optimizer_g.step()

    return run


def setup_anogan_encoder(device: torch.device, out: str) -> Case:
    from zoo_anogan.training import AnoGANTrainingStep

    ours, batch = anogan_parts(device)
    theirs = copy.deepcopy(ours)
    step = zoo_step(AnoGANTrainingStep, ours, "anogan", "mnist5k-anomaly", out, len(batch),
                    step_config={"gan_steps": 0})  # fmt: skip
    return Case(
        "train_anogan_encoder",
        "encoder phase (izif), one encoder update with G and D frozen: zoo AnoGANTrainingStep.train_step "
        f"(gan_steps 0), the published digit config (nef 32, kappa 1), batch 64 of mnist5k-anomaly, {device.type}",
        "f-AnoGAN z_encoding_izif.py's train_op (TF RMSProp) in PyTorch",
        len(batch), 12, ours, theirs, counted(step.train_step, {"image": batch}),
        reference_anogan_encoder(theirs, batch),
    )  # fmt: skip


def reference_anogan_encoder(model: nn.Module, batch: torch.Tensor) -> Callable[[], None]:
    """z_encoding_izif.py l. 258-273 (``loss_type='MSE'``: ``MSE(x, G(E(x))) + kappa MSE(f(G(E(x))), f(x))``, G and
    D with ``is_training=False``, E with ``is_training=True``) and l. 297-301 (``RMSPropOptimizer(lr=5e-5)
    .minimize(mapping_loss, var_list=encoder_vars)``: TF's RMSProp, decay 0.9, epsilon 1e-10 under the square
    root, mean square initialised to 1, written out)."""
    g, d, e, kappa = model.generator, model.discriminator, model.encoder, model.config.kappa
    encoder_vars = list(e.parameters())
    ms = [torch.ones_like(p) for p in encoder_vars]
    lr, decay, epsilon = 5e-5, 0.9, 1e-10
    g.eval()  # is_training=False: BatchNorm with its moving averages
    d.eval()
    real_data = batch * 2 - 1

    def run() -> None:
        z = e(real_data)
        recon_img = g(z)
        recon_features = d(recon_img)[0]
        image_features = d(real_data)[0]
        loss_img = torch.mean((real_data - recon_img) ** 2)
        loss_fts = torch.mean((recon_features - image_features) ** 2)
        mapping_loss = loss_img + kappa * loss_fts
        grads = torch.autograd.grad(mapping_loss, encoder_vars)
        with torch.no_grad():
            for p, m, grad in zip(encoder_vars, ms, grads, strict=True):
                m.mul_(decay).addcmul_(grad, grad, value=1 - decay)  # ms <- decay ms + (1 - decay) g^2
                p.sub_(lr * grad / torch.sqrt(m + epsilon))  # p <- p - lr g / sqrt(ms + epsilon)

    return run


# -- IcGAN: Guim3/IcGAN trainGAN.lua (cGAN phase), generateEncoderDataset.lua + trainEncoder.lua (encoders) -------
def icgan_parts(device: torch.device) -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    """The published config (32x32 grey, ngf = ndf = 64, encoders nf 32) and 64 labelled mnist5k digits."""
    from zoo_icgan.model import IcGAN, IcGANConfig

    data = load_dataset("mnist5k", split="train", size=32)
    images, labels = data.tensors()[:64].to(device), torch.as_tensor(data.labels[:64]).long().to(device)
    torch.manual_seed(0)
    model = IcGAN(IcGANConfig(image_size=32)).to(device).train()
    return model, images, labels


def icgan_step(model: nn.Module, out: str, rows: int, gan_steps: int) -> Any:
    from zoo_icgan.training import IcGANTrainingStep

    return zoo_step(IcGANTrainingStep, model, "icgan", "mnist5k", out, rows, dataset_options={"size": 32},
                    steps=PHASE_STEPS, step_config={"gan_steps": gan_steps})  # fmt: skip


def setup_icgan(device: torch.device, out: str) -> Case:
    ours, images, labels = icgan_parts(device)
    theirs = copy.deepcopy(ours)
    step = icgan_step(ours, out, len(images), PHASE_STEPS)
    return Case(
        "train_icgan",
        "cGAN phase, one D update (real, wrong y, fake) then one G update: zoo IcGANTrainingStep.train_step, the "
        f"published config (32x32 grey, ngf = ndf = 64, nz 100), batch 64 of mnist5k with labels, {device.type}",
        "trainGAN.lua's fDx + fGx in PyTorch",
        len(images), 4, ours, theirs, counted(step.train_step, {"image": images, "label": labels}),
        reference_icgan(theirs, images, labels),
    )  # fmt: skip


def pm1(labels: torch.Tensor, ny: int) -> torch.Tensor:
    """The reference's class vectors: 1 at the class, -1 elsewhere."""
    return F.one_hot(labels, ny).float() * 2 - 1


def reference_icgan(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> Callable[[], None]:
    """trainGAN.lua l. 146-156 (Adam 2e-4, beta1 0.5), l. 203-262 (``fDx``: real with its Y, real with a wrong Y at
    half weight, fake with sampled Y at half weight, a ``netD:backward`` after each) and l. 265-290 (``fGx``: D
    again on the same fakes, ``updateGradInput`` only, then ``netG:backward``), with ``BCECriterion`` on the
    sigmoid. The draws follow zoo's order (wrong Y, then the sampled Y as the batch's classes permuted, then Z)
    so that the two updates can be compared; ``donkey_mnist.lua`` / ``sampleY`` draw the same distributions."""
    net_g, net_d, nz, ny = model.generator, model.discriminator, model.config.nz, model.num_classes
    criterion = nn.BCELoss()
    optim_g = torch.optim.Adam(net_g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    optim_d = torch.optim.Adam(net_d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    parameters_g = list(net_g.parameters())
    x_real = images * 2 - 1
    n = len(x_real)
    label_real, label_fake = torch.ones(n, device=x_real.device), torch.zeros(n, device=x_real.device)

    def run() -> None:
        y_real = pm1(labels, ny)
        y_wrong = pm1((labels + torch.randint(1, ny, (n,)).to(labels.device)) % ny, ny)
        y_fake = y_real[torch.randperm(n).to(labels.device)]
        z = torch.randn(n, nz, 1, 1).to(x_real.device)
        optim_d.zero_grad()  # fDx: gradParametersD:zero()
        err_d_real = criterion(torch.sigmoid(net_d(x_real, y_real)), label_real)
        err_d_real.backward()
        err_d_wrong = 0.5 * criterion(torch.sigmoid(net_d(x_real, y_wrong)), label_fake)
        err_d_wrong.backward()
        x_fake = net_g(z, y_fake)
        err_d_fake = 0.5 * criterion(torch.sigmoid(net_d(x_fake.detach(), y_fake)), label_fake)
        err_d_fake.backward()
        optim_d.step()
        optim_g.zero_grad()  # fGx: gradParametersG:zero()
        err_g = criterion(torch.sigmoid(net_d(x_fake, y_fake)), label_real)
        for p, grad in zip(parameters_g, torch.autograd.grad(err_g, parameters_g), strict=True):
            p.grad = grad  # updateGradInput through D, then netG:backward: G's gradients only
        optim_g.step()

    return run


def setup_icgan_encoder(device: torch.device, out: str) -> Case:
    ours, images, labels = icgan_parts(device)
    theirs = copy.deepcopy(ours)
    step = icgan_step(ours, out, len(images), 0)
    return Case(
        "train_icgan_encoder",
        "encoder phase, one E_z update on a batch of generated digits then one E_y update on the real batch, G "
        f"frozen: zoo IcGANTrainingStep.train_step (gan_steps 0), the published config, batch 64, {device.type}",
        "generateEncoderDataset.lua's batch + trainEncoder.lua's step for E_z and E_y in PyTorch",
        len(images), 8, ours, theirs, counted(step.train_step, {"image": images, "label": labels}),
        reference_icgan_encoder(theirs, images, labels),
    )  # fmt: skip


def reference_icgan_encoder(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> Callable[[], None]:
    """generateEncoderDataset.lua l. 109-128 (``stabilizeBN``, once: 100 forward passes of G in training mode, then
    evaluate mode) and l. 279-321 (Z ~ N(0, I), Y cycling through the classes, ``net:forward{Z, Y}``: here one batch
    per iteration, where the reference generates its 60,000 digits once and trains 15 epochs on 66 % of them), and
    trainEncoder.lua l. 264-303 (``gradParams:zero()``, ``encoder:forward``, ``MSECriterion``, ``encoder:backward``,
    ``optim.adam`` with lr 1e-4, beta1 0.1) for E_z on the generated digits and E_y on the real ones."""
    net_g, encoder_z, encoder_y = model.generator, model.encoder_z, model.encoder_y
    nz, ny = model.config.nz, model.num_classes
    criterion = nn.MSELoss()
    optim_z = torch.optim.Adam(encoder_z.parameters(), lr=1e-4, betas=(0.1, 0.999))
    optim_y = torch.optim.Adam(encoder_y.parameters(), lr=1e-4, betas=(0.1, 0.999))
    n = len(images)
    y_cycle = pm1(torch.arange(n, device=images.device) % ny, ny)
    x_real, y_real = images * 2 - 1, pm1(labels, ny)
    state = {"stable": False}

    def run() -> None:
        if not state["stable"]:  # stabilizeBN
            with torch.no_grad():
                for _ in range(100):
                    net_g(torch.randn(n, nz, 1, 1).to(images.device), y_cycle)
            net_g.eval()
            model.discriminator.eval()
            state["stable"] = True
        z = torch.randn(n, nz, 1, 1).to(images.device)
        with torch.no_grad():
            x_generated = net_g(z, y_cycle)
        optim_z.zero_grad()
        error_z = criterion(encoder_z(x_generated), z.view(n, nz))
        error_z.backward()
        optim_z.step()
        optim_y.zero_grad()
        error_y = criterion(encoder_y(x_real), y_real)
        error_y.backward()
        optim_y.step()

    return run


#: the cases of each ``--only`` name, in the order they run
SETUPS: dict[str, tuple[Callable[[torch.device, str], Case], ...]] = {
    "gan": (setup_gan,),
    "infogan": (setup_infogan,),
    "cogan": (setup_cogan,),
    "discogan": (setup_discogan,),
    "anogan": (setup_anogan, setup_anogan_encoder),
    "icgan": (setup_icgan, setup_icgan_encoder),
}


def same_update(case: Case) -> dict[str, Any]:
    """One iteration of each side under the same seed: do all parameters agree (``torch.allclose``)?

    Also ``max_abs_diff``, the largest difference of a parameter, and ``update_rel_diff``, the norm of
    the difference of the two updates over the norm of the reference's update (all parameters as one vector).
    """
    before = {k: p.detach().clone() for k, p in case.theirs.named_parameters()}
    torch.manual_seed(CHECK_SEED)
    case.zoo()
    torch.manual_seed(CHECK_SEED)
    case.reference()
    with torch.no_grad():
        ours, theirs = dict(case.ours.named_parameters()), dict(case.theirs.named_parameters())
        close = all(torch.allclose(p, theirs[k]) for k, p in ours.items())
        diff = max(float((p - theirs[k]).abs().max()) for k, p in ours.items())
        apart = sum(float((p.double() - theirs[k].double()).square().sum()) for k, p in ours.items())
        update = sum(float((p.double() - before[k].double()).square().sum()) for k, p in theirs.items())
    return {
        "same_update": close,
        "max_abs_diff": float(f"{diff:.3g}"),
        "update_rel_diff": float(f"{math.sqrt(apart / update):.3g}") if update > 0 else None,
    }


def run_case(case: Case, args: argparse.Namespace, sync: Callable[[], None]) -> None:
    """Check that the two sides' first iterations agree, then time them in turns and print the line."""
    check = same_update(case)  # also the warm-up: first-touch allocations, optimiser state

    def synced(run: Callable[[], None]) -> Callable[[], None]:
        def call() -> None:
            run()
            sync()

        return call

    iters = args.iters or case.iters
    cases = {
        "reference": timed(synced(case.reference), iters, case.rows),
        "zoo": timed(synced(case.zoo), iters, case.rows),
    }
    result = interleaved(cases, args.repeat)
    emit(case.name, case.what, result["zoo"], "images/s", args.repeat, case.baseline, result["reference"],
         **check)  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=7, help="runs of each case (medians)")
    parser.add_argument("--iters", type=int, default=None,
                        help="iterations per run (default: each case's, about 1 s a run on one thread)")  # fmt: skip
    parser.add_argument("--only", choices=tuple(SETUPS), default=None)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (1: steadiest on a shared machine; 0: torch's default)")  # fmt: skip
    args = parser.parse_args(argv)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    print(f"# python {sys.version.split()[0]}, torch {torch.__version__}, {torch.get_num_threads()} threads",
          file=sys.stderr)  # fmt: skip
    device = torch.device(args.device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)

    with tempfile.TemporaryDirectory() as out:
        for arch, setups in SETUPS.items():
            if args.only not in (None, arch):
                continue
            for setup in setups:
                run_case(setup(device, out), args, sync)


if __name__ == "__main__":
    main()
