"""The digit CoGAN of mingyuliutw/CoGAN (``cogan_pytorch/src/net_cogan_mnistedge.py``), with its state-dict keys.

Two generators that share every layer but the last, and two discriminators that share every
layer but the first (Liu & Tuzel 2016, Sec. 3 and the digit network of the supplementary
material). As in the author's PyTorch port, each pair is one module: a shared layer is *one*
module (one set of ``Parameter`` objects) whose output feeds both domains, which is the
weight-sharing constraint exactly (the shared layers of g1 and g2 compute the same function of
the same z, so computing them once is the same as computing them twice).

``CoGen28x28`` (``gen``), z ``(N, latent_dims)`` to two ``(N, 1, 28, 28)`` images in [0, 1]::

    dconv0  ConvTranspose2d(100, 1024, 4, 1)      -> 4x4    bn0 (BatchNorm2d, affine=False), prelu0
    dconv1  ConvTranspose2d(1024, 512, 3, 2, 1)   -> 7x7    bn1, prelu1
    dconv2  ConvTranspose2d(512, 256, 3, 2, 1)    -> 13x13  bn2, prelu2
    dconv3  ConvTranspose2d(256, 128, 3, 2, 1)    -> 25x25  bn3, prelu3      (shared up to here)
    dconv4_a / dconv4_b  ConvTranspose2d(128, 1, 6, 1, 1) -> 28x28, Sigmoid  (one per domain)

``CoDis28x28`` (``dis``), two batches ``(N, 1, 28, 28)`` to ``(2N, 2)`` logits (domain 1's rows first)::

    conv0_a / conv0_b  Conv2d(1, 20, 5)  -> 24x24, MaxPool2d(2)   (one per domain; no nonlinearity)
    conv1  Conv2d(20, 50, 5)    -> 8x8, MaxPool2d(2)               (shared from here on)
    conv2  Conv2d(50, 500, 4)   -> 1x1, prelu2 (PReLU)
    conv3  Conv2d(500, 2, 1)    -> the two logits "fake", "real" of a 2-way softmax

so the keys read ``gen.dconv0.weight``, ``gen.prelu0.weight``, ``gen.bn0.running_mean``,
``gen.dconv4_a.weight`` ... ``dis.conv0_a.weight``, ``dis.conv1.weight``, ``dis.prelu2.weight``,
``dis.conv3.bias`` (the port's ``trainer.gen`` / ``trainer.dis`` state dicts under ``gen.`` /
``dis.``). The Caffe nets (``cogan/scripts/run_mnist.edge.cogan.sh``: ``--g_neurons
1024,512,256,128,1 --g_kernels 4,3,3,3,6 --d_neurons 20,50,500 --d_kernels 5,5,0``) have the same
sizes. ``nn.PReLU()`` has one slope per layer (init 0.25), as the port.

Init (``cogan_pytorch/src/init.py`` ``xavier_weights_init``, applied to ``dis`` then ``gen`` in
``trainer_cogan_mnistedge.py``): every convolution's weight ``xavier_uniform`` with gain sqrt(2),
its bias 0.1. Noise: z ~ N(0, I) ``(N, 100)`` (the port's ``torch.randn``); ``noise="uniform"``
draws U(-1, 1) as the Caffe net's ``RandomNoise`` layer.

Deviations, as config options (defaults are the reference's): ``ngf`` scales the generator's widths
(``ngf, ngf/2, ngf/4, ngf/8``; 1024 in the reference; the published CPU models use a narrower
one, see their cards), ``d_conv0`` / ``d_conv1`` / ``d_conv2`` the discriminator's (20, 50, 500).
``pair`` (``edges`` / ``negative``) names the second domain, used by the ``pair-agreement`` metric;
it does not change the networks.

Example:
    >>> model = CoGAN(CoGANConfig(ngf=64))
    >>> [k for k in model.state_dict()][:3]
    ['dis.conv0_a.weight', 'dis.conv0_a.bias', 'dis.conv0_b.weight']
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import torch
from torch import nn

from zoo_core import ZooError
from zoo_core.modeling import (
    ModelConfig,
    UnconditionalGenerator,
    ZooModel,
    check_count,
    check_images,
    inference_verb,
    seeded_generator,
)

from .transforms import PAIRS

__all__ = ["PAIRS", "CoDis28x28", "CoGAN", "CoGANConfig", "CoGen28x28", "xavier_weights_init"]

IMAGE_SIZE = 28


def xavier_weights_init(module: nn.Module) -> None:
    """The port's ``xavier_weights_init``: a ``Conv*`` layer's weight Xavier-uniform (gain sqrt(2)), its bias 0.1.

    Example:
        >>> conv = nn.Conv2d(1, 2, 3); xavier_weights_init(conv); conv.bias.tolist()
        [0.1, 0.1]
    """
    if "Conv" in type(module).__name__:
        nn.init.xavier_uniform_(module.weight, gain=math.sqrt(2))
        if module.bias is not None:
            nn.init.constant_(module.bias, 0.1)


class CoGen28x28(nn.Module):
    """The coupled generators: shared ``dconv0..3`` (+ BatchNorm, PReLU), then ``dconv4_a`` / ``dconv4_b``.

    Example:
        >>> a, b = CoGen28x28(100, 64)(torch.randn(2, 100))
        >>> a.shape, b.shape
        (torch.Size([2, 1, 28, 28]), torch.Size([2, 1, 28, 28]))
    """

    def __init__(self, latent_dims: int = 100, ngf: int = 1024) -> None:
        super().__init__()
        w = [ngf, ngf // 2, ngf // 4, ngf // 8]
        self.dconv0 = nn.ConvTranspose2d(latent_dims, w[0], kernel_size=4, stride=1)
        self.bn0 = nn.BatchNorm2d(w[0], affine=False)
        self.prelu0 = nn.PReLU()
        self.dconv1 = nn.ConvTranspose2d(w[0], w[1], kernel_size=3, stride=2, padding=1)
        self.bn1 = nn.BatchNorm2d(w[1], affine=False)
        self.prelu1 = nn.PReLU()
        self.dconv2 = nn.ConvTranspose2d(w[1], w[2], kernel_size=3, stride=2, padding=1)
        self.bn2 = nn.BatchNorm2d(w[2], affine=False)
        self.prelu2 = nn.PReLU()
        self.dconv3 = nn.ConvTranspose2d(w[2], w[3], kernel_size=3, stride=2, padding=1)
        self.bn3 = nn.BatchNorm2d(w[3], affine=False)
        self.prelu3 = nn.PReLU()
        self.dconv4_a = nn.ConvTranspose2d(w[3], 1, kernel_size=6, stride=1, padding=1)
        self.dconv4_b = nn.ConvTranspose2d(w[3], 1, kernel_size=6, stride=1, padding=1)
        self.sig4_a = nn.Sigmoid()
        self.sig4_b = nn.Sigmoid()

    def shared(self, z: torch.Tensor) -> torch.Tensor:
        """The shared layers' output ``(N, ngf/8, 25, 25)``: what both domains' last layers decode."""
        h = z.view(z.size(0), z.size(1), 1, 1)
        h = self.prelu0(self.bn0(self.dconv0(h)))
        h = self.prelu1(self.bn1(self.dconv1(h)))
        h = self.prelu2(self.bn2(self.dconv2(h)))
        return self.prelu3(self.bn3(self.dconv3(h)))

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h3 = self.shared(z)
        return self.sig4_a(self.dconv4_a(h3)), self.sig4_b(self.dconv4_b(h3))


class CoDis28x28(nn.Module):
    """The coupled discriminators: ``conv0_a`` / ``conv0_b``, then shared ``conv1``, ``conv2``, ``conv3``.

    ``forward(x_a, x_b)`` returns the ``(N_a + N_b, 2)`` logits of both batches, domain 1's first
    (the port concatenates them along the batch before the shared layers, ``torch.cat(..., 0)``).

    Example:
        >>> CoDis28x28()(torch.rand(3, 1, 28, 28), torch.rand(3, 1, 28, 28)).shape
        torch.Size([6, 2])
    """

    def __init__(self, d_conv0: int = 20, d_conv1: int = 50, d_conv2: int = 500) -> None:
        super().__init__()
        self.conv0_a = nn.Conv2d(1, d_conv0, kernel_size=5, stride=1, padding=0)
        self.conv0_b = nn.Conv2d(1, d_conv0, kernel_size=5, stride=1, padding=0)
        self.pool0 = nn.MaxPool2d(kernel_size=2)
        self.conv1 = nn.Conv2d(d_conv0, d_conv1, kernel_size=5, stride=1, padding=0)
        self.pool1 = nn.MaxPool2d(kernel_size=2)
        self.conv2 = nn.Conv2d(d_conv1, d_conv2, kernel_size=4, stride=1, padding=0)
        self.prelu2 = nn.PReLU()
        self.conv3 = nn.Conv2d(d_conv2, 2, kernel_size=1, stride=1, padding=0)

    def forward(self, x_a: torch.Tensor, x_b: torch.Tensor) -> torch.Tensor:
        h0 = torch.cat((self.pool0(self.conv0_a(x_a)), self.pool0(self.conv0_b(x_b))), 0)
        h1 = self.pool1(self.conv1(h0))
        h2 = self.prelu2(self.conv2(h1))
        return self.conv3(h2).view(-1, 2)


@dataclass
class CoGANConfig(ModelConfig):
    """CoGAN hyper-parameters; defaults are the reference's digit networks (``net_cogan_mnistedge.py``).

    ``pair``: the second domain, ``"edges"`` (Task A) or ``"negative"`` (Task B); the metric
    ``pair-agreement`` applies that transform to the first image. ``latent_dims`` (100), ``ngf``
    (1024: the generator's widths ngf, ngf/2, ngf/4, ngf/8), ``d_conv0`` / ``d_conv1`` / ``d_conv2``
    (20, 50, 500), ``noise`` (``"normal"``, the port; ``"uniform"``: U(-1, 1), the Caffe net).

    Example:
        >>> CoGANConfig(pair="negative", ngf=256).ngf
        256
    """

    pair: Literal["edges", "negative"] = "edges"
    latent_dims: int = field(default=100, metadata={"range": (1, 4096)})
    ngf: int = field(default=1024, metadata={"range": (8, 8192)})
    d_conv0: int = field(default=20, metadata={"range": (1, 4096)})
    d_conv1: int = field(default=50, metadata={"range": (1, 4096)})
    d_conv2: int = field(default=500, metadata={"range": (1, 8192)})
    noise: Literal["normal", "uniform"] = "normal"

    def validate(self) -> None:
        super().validate()
        if self.ngf % 8:
            raise ZooError(f"CoGAN's ngf must be a multiple of 8 (its widths are ngf ... ngf/8), not {self.ngf}.")


class CoGAN(UnconditionalGenerator, ZooModel):
    """Liu & Tuzel's coupled GAN on 28x28 digits: ``gen`` draws a pair per z, ``dis`` scores both domains.

    ``sample(n, seed=...)`` returns each pair side by side, ``(n, 1, 28, 56)``: domain 1 (the digit)
    on the left, domain 2 (its edges or negative) on the right, so that ``zoo sample`` shows pairs;
    ``sample_pairs(n, seed=...)`` the same pairs as a tuple of two ``(n, 1, 28, 28)`` batches
    (``sample_pairs(n, seed=s)[0]`` is ``sample(n, seed=s)[..., :28]``).

    Example:
        >>> model = zoo.create("cogan", pair="edges", ngf=64).eval()
        >>> first, second = model.sample_pairs(8, seed=0)
        >>> torch.equal(torch.cat((first, second), 3), model.sample(8, seed=0))
        True
    """

    architecture = "cogan"
    config_class = CoGANConfig

    def __init__(self, config: CoGANConfig) -> None:
        super().__init__(config)
        c = config
        self.dis = CoDis28x28(c.d_conv0, c.d_conv1, c.d_conv2)
        self.gen = CoGen28x28(c.latent_dims, c.ngf)
        self.dis.apply(xavier_weights_init)
        self.gen.apply(xavier_weights_init)

    def noise(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Latent codes ``(n, latent_dims)`` on the CPU from ``generator``: N(0, I), or U(-1, 1) with noise=uniform."""
        shape = (n, self.config.latent_dims)
        if self.config.noise == "uniform":
            return torch.rand(shape, generator=generator) * 2 - 1
        return torch.randn(shape, generator=generator)

    def generate(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The pair of images in [0, 1] for latent codes ``(N, latent_dims)``: ``(domain 1, domain 2)``."""
        if z.dim() == 4 and z.shape[2:] == (1, 1):
            z = z.flatten(1)
        if z.dim() != 2 or z.shape[1] != self.config.latent_dims:
            raise ZooError(
                f"The CoGAN generator takes codes shaped (N, {self.config.latent_dims}), not {tuple(z.shape)}."
            )
        return self.gen(z.to(self.device, self.dtype))

    def discriminate(self, first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
        """The ``(N1 + N2, 2)`` logits (fake, real) of domain-1 images ``first`` and domain-2 images ``second``."""
        size = (IMAGE_SIZE, IMAGE_SIZE)
        check_images(first, channels=1, size=size, what="CoGAN discriminator (domain 1)")
        check_images(second, channels=1, size=size, what="CoGAN discriminator (domain 2)")
        return self.dis(first, second)

    def sample_pair_batch(self, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` pairs drawn with noise from ``generator`` (CPU): two ``(n, 1, 28, 28)`` batches in [0, 1]."""
        return self.generate(self.noise(n, generator))

    def sample_batch(self, n: int, generator: torch.Generator) -> torch.Tensor:
        first, second = self.sample_pair_batch(n, generator)
        return torch.cat((first, second), 3)

    @inference_verb
    def sample_pairs(self, n: int, *, seed: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` pairs ``(first, second)``, each ``(n, 1, 28, 28)`` floats in [0, 1]; the pairs of ``sample``.

        Example:
            >>> first, second = zoo.load("cogan.mnist-negative").sample_pairs(16, seed=0)
        """
        check_count(n)
        generator = seeded_generator(seed)
        sizes = [min(self.sample_batch_size, n - i) for i in range(0, n, self.sample_batch_size)]
        pairs = [self.sample_pair_batch(size, generator) for size in sizes]
        return (
            torch.cat([p[0] for p in pairs]).float().clamp(0, 1),
            torch.cat([p[1] for p in pairs]).float().clamp(0, 1),
        )
