"""The DCGAN of pytorch/examples ``dcgan/main.py``, with identical state-dict keys.

Generator ``main`` (64x64, the reference)::

    0 ConvTranspose2d(nz, 8ngf, 4, 1, 0)  1 BN  2 ReLU        -> 4x4
    3 ConvTranspose2d(8ngf, 4ngf, 4, 2, 1) 4 BN  5 ReLU        -> 8x8
    6 ConvTranspose2d(4ngf, 2ngf, 4, 2, 1) 7 BN  8 ReLU        -> 16x16
    9 ConvTranspose2d(2ngf, ngf, 4, 2, 1)  10 BN 11 ReLU       -> 32x32
    12 ConvTranspose2d(ngf, nc, 4, 2, 1)   13 Tanh             -> 64x64

Discriminator ``main`` mirrors it: ``0`` Conv(nc, ndf, 4, 2, 1) ``1`` LeakyReLU(0.2), then
Conv(4, 2, 1) + BN + LeakyReLU(0.2) blocks ``2-4``, ``5-7``, ``8-10`` (ndf -> 2ndf -> 4ndf ->
8ndf), ``11`` Conv(8ndf, 1, 4, 1, 0), ``12`` Sigmoid. Every convolution has ``bias=False``.

Other image sizes (the rule): ``image_size`` must be a power of two, at least 8. The generator
has ``log2(image_size) - 2`` stride-2 layers after its 4x4 projection, and the discriminator
as many stride-2 convolutions before its 4x4 head; channels double at each block away from the
image, so the widest layer has ``ngf * image_size / 8`` (``ndf * image_size / 8``) channels. At
64 this is exactly the reference; 32 drops its widest block (the projection makes 4ngf), 128
adds one (16ngf). Modules stay in one ``nn.Sequential`` numbered in order, so the keys of a
block are those of the reference at 64 (G: ConvT at ``3k``, BN at ``3k + 1``; D: first conv
``0``, then conv / BN at ``3k - 1`` / ``3k``).

Init: the reference's ``weights_init``: convolution weights N(0, 0.02), BatchNorm weights
N(1, 0.02) and biases 0, applied to the generator right after it is built, then the
discriminator is built and initialised (the reference's order of random draws).

Example:
    >>> model = DCGAN(DCGANConfig(image_size=32, channels=1, ngf=32, ndf=32))
    >>> model.eval().sample(8, seed=0).shape
    torch.Size([8, 1, 32, 32])
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from zoo_core import ZooError
from zoo_core.layers.init import dcgan_weights_init
from zoo_core.modeling import ModelConfig, UnconditionalGenerator, ZooModel, check_images

__all__ = ["DCGAN", "DCGANConfig", "Discriminator", "Generator", "check_image_size", "weights_init"]


def check_image_size(image_size: int) -> int:
    """The number of stride-2 blocks for ``image_size`` (4 at 64), or fail in one sentence.

    Example:
        >>> check_image_size(64), check_image_size(32), check_image_size(128)
        (4, 3, 5)
    """
    if isinstance(image_size, bool) or not isinstance(image_size, int) or image_size < 8:
        raise ZooError(f"DCGAN image_size must be a power of two of at least 8 (32, 64, 128 ...), not {image_size!r}.")
    blocks = int(math.log2(image_size)) - 2
    if 2 ** (blocks + 2) != image_size:
        near = 2 ** round(math.log2(image_size))
        raise ZooError(
            f"DCGAN image_size must be a power of two (32, 64, 128 ...), not {image_size}; "
            f"use image_size={near} and resize the data to it (for mnist5k: --dataset-option size={near})."
        )
    return blocks


#: the reference's ``weights_init``, shared with the other DCGAN-style plugins
weights_init = dcgan_weights_init


class Generator(nn.Module):
    """The reference's ``Generator``: ``(N, nz, 1, 1)`` noise to ``(N, nc, S, S)`` images in [-1, 1] (Tanh).

    Example:
        >>> Generator(nz=100, ngf=64, nc=3)(torch.randn(2, 100, 1, 1)).shape
        torch.Size([2, 3, 64, 64])
    """

    def __init__(self, nz: int = 100, ngf: int = 64, nc: int = 3, image_size: int = 64) -> None:
        super().__init__()
        blocks = check_image_size(image_size)
        width = ngf * 2 ** (blocks - 1)  # 8ngf at 64x64
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(nz, width, 4, 1, 0, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(True),
        ]
        for _ in range(blocks - 1):
            layers += [
                nn.ConvTranspose2d(width, width // 2, 4, 2, 1, bias=False),
                nn.BatchNorm2d(width // 2),
                nn.ReLU(True),
            ]
            width //= 2
        layers += [nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh()]
        self.main = nn.Sequential(*layers)
        self.apply(weights_init)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return self.main(input)


class Discriminator(nn.Module):
    """The reference's ``Discriminator``: ``(N, nc, S, S)`` images in [-1, 1] to ``(N,)`` probabilities.

    Example:
        >>> Discriminator(nc=3, ndf=64)(torch.randn(2, 3, 64, 64)).shape
        torch.Size([2])
    """

    def __init__(self, nc: int = 3, ndf: int = 64, image_size: int = 64) -> None:
        super().__init__()
        blocks = check_image_size(image_size)
        layers: list[nn.Module] = [nn.Conv2d(nc, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True)]
        width = ndf
        for _ in range(blocks - 1):
            layers += [
                nn.Conv2d(width, width * 2, 4, 2, 1, bias=False),
                nn.BatchNorm2d(width * 2),
                nn.LeakyReLU(0.2, inplace=True),
            ]
            width *= 2
        layers += [nn.Conv2d(width, 1, 4, 1, 0, bias=False), nn.Sigmoid()]
        self.main = nn.Sequential(*layers)
        self.apply(weights_init)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return self.main(input).view(-1, 1).squeeze(1)


@dataclass
class DCGANConfig(ModelConfig):
    """DCGAN hyper-parameters; defaults are the reference's (64x64 RGB, nz 100, ngf = ndf = 64).

    ``channels`` is the reference's ``nc`` (named so that the training engine's dataset check
    reads it). ``with_discriminator=False`` holds the generator alone: what a converted
    checkpoint (``huggan/dcgan-mnist``, a ``netG_epoch_N.pth``) has; such a model samples
    but cannot be trained.

    Example:
        >>> DCGANConfig(image_size=32, channels=1)
    """

    image_size: int = 64
    channels: int = 3
    nz: int = 100
    ngf: int = 64
    ndf: int = 64
    with_discriminator: bool = True


class DCGAN(UnconditionalGenerator, ZooModel):
    """Radford et al.'s DCGAN: ``generator`` and ``discriminator`` (keys ``generator.main.N...``).

    ``sample(n, seed=...)`` draws z ~ N(0, I) shaped ``(n, nz, 1, 1)`` on the CPU and maps the
    generator's Tanh output from [-1, 1] to [0, 1].

    Example:
        >>> gan = zoo.create("dcgan", image_size=32, channels=1)
        >>> gan.eval().sample(16, seed=0).shape
        torch.Size([16, 1, 32, 32])
    """

    architecture = "dcgan"
    config_class = DCGANConfig

    def __init__(self, config: DCGANConfig) -> None:
        super().__init__(config)
        for key in ("channels", "nz", "ngf", "ndf"):
            value = getattr(config, key)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ZooError(f"DCGAN {key} must be a positive integer, not {value!r}.")
        check_image_size(config.image_size)
        self.generator = Generator(config.nz, config.ngf, config.channels, config.image_size)
        self.discriminator = (
            Discriminator(config.channels, config.ndf, config.image_size) if config.with_discriminator else None
        )

    def generate(self, z: torch.Tensor) -> torch.Tensor:
        """Images in [0, 1] for latent codes ``(N, nz)`` or ``(N, nz, 1, 1)``."""
        nz = self.config.nz
        if z.dim() == 2:
            z = z[:, :, None, None]
        if z.dim() != 4 or tuple(z.shape[1:]) != (nz, 1, 1):
            raise ZooError(f"The DCGAN generator takes codes shaped (N, {nz}, 1, 1), not {tuple(z.shape)}.")
        return (self.generator(z) + 1) / 2

    def discriminate(self, x: torch.Tensor) -> torch.Tensor:
        """D's probability that each image (in [0, 1], ``(N, C, S, S)``) is real: ``(N,)``."""
        if self.discriminator is None:
            raise ZooError("This DCGAN holds a generator only (with_discriminator=false); it has no discriminator.")
        c = self.config
        check_images(x, channels=c.channels, size=(c.image_size, c.image_size), what="DCGAN discriminator")
        return self.discriminator(x * 2 - 1)

    def sample_batch(self, n: int, generator: torch.Generator) -> torch.Tensor:
        z = torch.randn(n, self.config.nz, 1, 1, generator=generator).to(self.device, self.dtype)
        return self.generate(z)
