"""The networks of martinarjovsky/WassersteinGAN (``models/dcgan.py``, ``models/mlp.py``), with its state-dict keys.

``DCGAN_G`` (``models/dcgan.py`` l. 55-106), one ``nn.Sequential`` ``main`` whose module names
carry the layer sizes, e.g. 64x64 RGB, nz 100, ngf 64::

    initial:100-512:convt   ConvTranspose2d(nz, cngf, 4, 1, 0)   -> 4x4      (cngf = ngf * isize / 8)
    initial:512:batchnorm   initial:512:relu
    pyramid:512-256:convt   ConvTranspose2d(c, c/2, 4, 2, 1)     -> 8x8, 16x16, ... isize/2
    pyramid:256:batchnorm   pyramid:256:relu                      (one block per doubling)
    extra-layers-T:C:conv   Conv2d(C, C, 3, 1, 1) + batchnorm + relu (n_extra_layers of them)
    final:64-3:convt        ConvTranspose2d(ngf, nc, 4, 2, 1)    -> isize
    final:3:tanh

so a checkpoint's keys read ``main.initial:100-512:convt.weight``,
``main.initial:512:batchnorm.running_mean`` ... ``DCGAN_D`` (l. 5-53) mirrors it:
``initial:NC-NDF:conv`` (4, 2, 1) + LeakyReLU(0.2), ``extra-layers-T:C:conv`` / ``:batchnorm``,
``pyramid:C-2C:conv`` (4, 2, 1) / ``pyramid:2C:batchnorm`` down to 4x4, ``final:C-1:conv`` (4, 1, 0),
no sigmoid. Every convolution has ``bias=False``. ``batch_norm=False`` is ``DCGAN_G_nobn``
(l. 155-199: the same names, no ``batchnorm`` modules); ``critic_batch_norm=False`` is
``DCGAN_D_nobn`` (l. 108-153), which ``models/dcgan.py`` defines but ``main.py`` never selects
(its ``--noBN`` swaps the generator only, l. 116-117).

``MLP_G`` / ``MLP_D`` (``models/mlp.py``): ``main`` = Linear(nz, ngf), ReLU, Linear(ngf, ngf),
ReLU, Linear(ngf, ngf), ReLU, Linear(ngf, nc * isize^2) (keys ``main.0``, ``main.2``, ``main.4``,
``main.6``), no Tanh; the critic ``Linear(nc * isize^2, ndf)`` ... ``Linear(ndf, 1)``.

Init (``main.py`` l. 108-137): ``weights_init`` (Conv weights N(0, 0.02), BatchNorm weights
N(1, 0.02) and biases 0) on the generator right after it is built, then the critic is built and
initialised; the MLPs' ``Linear`` layers keep PyTorch's default init (``weights_init`` matches no
``Linear``, and ``main.py`` does not even apply it to ``MLP_D``).

The reference's critic returns the batch mean (``output.mean(0).view(1)``); ours returns the
``(N,)`` per-image scores, whose mean is that number.

Example:
    >>> model = WGAN(WGANConfig(image_size=32, channels=1, ngf=32, ndf=32))
    >>> next(iter(model.generator.state_dict()))
    'main.initial:100-128:convt.weight'
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import torch
from torch import nn

from zoo_core import ZooError
from zoo_core.layers.init import dcgan_weights_init
from zoo_core.modeling import ModelConfig, UnconditionalGenerator, ZooModel, check_images

__all__ = [
    "MODELS",
    "WGAN",
    "DCGANCritic",
    "DCGANGenerator",
    "MLPCritic",
    "MLPGenerator",
    "WGANConfig",
    "check_image_size",
    "generator_width",
]

#: the ``model`` values: the reference's DCGAN networks or its MLPs (``--mlp_G --mlp_D``)
MODELS = ("dcgan", "mlp")


def check_image_size(image_size: int) -> int:
    """The number of ``pyramid`` blocks for ``image_size`` (3 at 64), or fail in one sentence.

    The reference asserts ``isize % 16 == 0`` and its generator only terminates for powers of two.

    Example:
        >>> check_image_size(64), check_image_size(32)
        (3, 2)
    """
    blocks = int(math.log2(image_size)) - 3 if image_size >= 16 else -1
    if blocks < 1 or 2 ** (blocks + 3) != image_size:
        raise ZooError(
            f"WGAN image_size must be a power of two of at least 16 (16, 32, 64 ...), not {image_size!r}; "
            "resize the data to one (for mnist5k: --dataset-option size=32)."
        )
    return blocks


def generator_width(image_size: int, ngf: int) -> int:
    """The channels of the generator's first layer (``cngf``): ``ngf * image_size / 8``.

    Example:
        >>> generator_width(64, 64), generator_width(32, 64)
        (512, 256)
    """
    return ngf // 2 * 2 ** int(math.log2(image_size // 4))


class DCGANGenerator(nn.Module):
    """``DCGAN_G`` (``batch_norm=False``: ``DCGAN_G_nobn``): ``(N, nz, 1, 1)`` to ``(N, nc, S, S)`` in [-1, 1].

    Example:
        >>> DCGANGenerator(64, 100, 3, 64)(torch.randn(2, 100, 1, 1)).shape
        torch.Size([2, 3, 64, 64])
    """

    def __init__(
        self, isize: int, nz: int, nc: int, ngf: int, n_extra_layers: int = 0, batch_norm: bool = True
    ) -> None:
        super().__init__()
        check_image_size(isize)
        cngf = generator_width(isize, ngf)
        main = nn.Sequential()
        main.add_module(f"initial:{nz}-{cngf}:convt", nn.ConvTranspose2d(nz, cngf, 4, 1, 0, bias=False))
        if batch_norm:
            main.add_module(f"initial:{cngf}:batchnorm", nn.BatchNorm2d(cngf))
        main.add_module(f"initial:{cngf}:relu", nn.ReLU(True))
        csize = 4
        while csize < isize // 2:
            main.add_module(
                f"pyramid:{cngf}-{cngf // 2}:convt", nn.ConvTranspose2d(cngf, cngf // 2, 4, 2, 1, bias=False)
            )
            if batch_norm:
                main.add_module(f"pyramid:{cngf // 2}:batchnorm", nn.BatchNorm2d(cngf // 2))
            main.add_module(f"pyramid:{cngf // 2}:relu", nn.ReLU(True))
            cngf, csize = cngf // 2, csize * 2
        for t in range(n_extra_layers):
            main.add_module(f"extra-layers-{t}:{cngf}:conv", nn.Conv2d(cngf, cngf, 3, 1, 1, bias=False))
            if batch_norm:
                main.add_module(f"extra-layers-{t}:{cngf}:batchnorm", nn.BatchNorm2d(cngf))
            main.add_module(f"extra-layers-{t}:{cngf}:relu", nn.ReLU(True))
        main.add_module(f"final:{cngf}-{nc}:convt", nn.ConvTranspose2d(cngf, nc, 4, 2, 1, bias=False))
        main.add_module(f"final:{nc}:tanh", nn.Tanh())
        self.main = main

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return self.main(input)


class DCGANCritic(nn.Module):
    """``DCGAN_D`` (``batch_norm=False``: ``DCGAN_D_nobn``): ``(N, nc, S, S)`` in [-1, 1] to ``(N,)`` scores.

    Example:
        >>> DCGANCritic(64, 3, 64)(torch.randn(2, 3, 64, 64)).shape
        torch.Size([2])
    """

    def __init__(self, isize: int, nc: int, ndf: int, n_extra_layers: int = 0, batch_norm: bool = True) -> None:
        super().__init__()
        check_image_size(isize)
        main = nn.Sequential()
        main.add_module(f"initial:{nc}-{ndf}:conv", nn.Conv2d(nc, ndf, 4, 2, 1, bias=False))
        main.add_module(f"initial:{ndf}:relu", nn.LeakyReLU(0.2, inplace=True))
        csize, cndf = isize // 2, ndf
        for t in range(n_extra_layers):
            main.add_module(f"extra-layers-{t}:{cndf}:conv", nn.Conv2d(cndf, cndf, 3, 1, 1, bias=False))
            if batch_norm:
                main.add_module(f"extra-layers-{t}:{cndf}:batchnorm", nn.BatchNorm2d(cndf))
            main.add_module(f"extra-layers-{t}:{cndf}:relu", nn.LeakyReLU(0.2, inplace=True))
        while csize > 4:
            main.add_module(f"pyramid:{cndf}-{cndf * 2}:conv", nn.Conv2d(cndf, cndf * 2, 4, 2, 1, bias=False))
            if batch_norm:
                main.add_module(f"pyramid:{cndf * 2}:batchnorm", nn.BatchNorm2d(cndf * 2))
            main.add_module(f"pyramid:{cndf * 2}:relu", nn.LeakyReLU(0.2, inplace=True))
            cndf, csize = cndf * 2, csize // 2
        main.add_module(f"final:{cndf}-1:conv", nn.Conv2d(cndf, 1, 4, 1, 0, bias=False))
        self.main = main

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return self.main(input).view(-1)


class MLPGenerator(nn.Module):
    """``MLP_G``: ``(N, nz)`` or ``(N, nz, 1, 1)`` to ``(N, nc, S, S)`` (a Linear output: no Tanh).

    Example:
        >>> MLPGenerator(28, 10, 1, 16)(torch.randn(2, 10, 1, 1)).shape
        torch.Size([2, 1, 28, 28])
    """

    def __init__(self, isize: int, nz: int, nc: int, ngf: int) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.Linear(nz, ngf),
            nn.ReLU(True),
            nn.Linear(ngf, ngf),
            nn.ReLU(True),
            nn.Linear(ngf, ngf),
            nn.ReLU(True),
            nn.Linear(ngf, nc * isize * isize),
        )
        self.nc, self.isize = nc, isize

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        out = self.main(input.reshape(input.shape[0], -1))
        return out.view(out.shape[0], self.nc, self.isize, self.isize)


class MLPCritic(nn.Module):
    """``MLP_D``: ``(N, nc, S, S)`` to ``(N,)`` scores.

    Example:
        >>> MLPCritic(28, 1, 16)(torch.randn(2, 1, 28, 28)).shape
        torch.Size([2])
    """

    def __init__(self, isize: int, nc: int, ndf: int) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.Linear(nc * isize * isize, ndf),
            nn.ReLU(True),
            nn.Linear(ndf, ndf),
            nn.ReLU(True),
            nn.Linear(ndf, ndf),
            nn.ReLU(True),
            nn.Linear(ndf, 1),
        )

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return self.main(input.reshape(input.shape[0], -1)).view(-1)


@dataclass
class WGANConfig(ModelConfig):
    """WGAN hyper-parameters; defaults are ``main.py``'s (DCGAN networks, 64x64 RGB, nz 100, ngf = ndf = 64).

    ``model``: ``"dcgan"`` or ``"mlp"`` (the reference's ``--mlp_G --mlp_D``; the MLP runs of its
    README use ``--ngf 512``). ``channels`` is ``--nc``, ``image_size`` ``--imageSize``.
    ``batch_norm=False`` is ``--noBN`` (the generator without BatchNorm, as ``main.py`` does);
    ``critic_batch_norm=False`` builds ``DCGAN_D_nobn``. ``with_critic=False`` holds the generator
    alone: what a converted ``netG_epoch_N.pth`` has; it samples but cannot be trained.

    Example:
        >>> WGANConfig(image_size=32, channels=1)
    """

    model: Literal["dcgan", "mlp"] = "dcgan"
    image_size: int = 64
    channels: int = 3
    nz: int = 100
    ngf: int = 64
    ndf: int = 64
    n_extra_layers: int = field(default=0, metadata={"range": (0, 64)})
    batch_norm: bool = True
    critic_batch_norm: bool = True
    with_critic: bool = True

    def validate(self) -> None:
        super().validate()
        if self.model == "dcgan":
            check_image_size(self.image_size)
        elif self.batch_norm is False or self.n_extra_layers or self.critic_batch_norm is False:
            raise ZooError(
                "WGAN's MLP networks have no batch norm and no extra layers; "
                "drop batch_norm, critic_batch_norm and n_extra_layers, or use model=dcgan."
            )


class WGAN(UnconditionalGenerator, ZooModel):
    """Arjovsky et al.'s WGAN: ``generator`` and ``critic`` in the reference's layout (keys ``generator.main...``).

    ``sample(n, seed=...)`` draws z ~ N(0, I) shaped ``(n, nz, 1, 1)`` on the CPU, as ``main.py``
    does, and maps the generator's output from [-1, 1] to [0, 1] (clamped: the MLP has no Tanh).

    Example:
        >>> gan = zoo.create("wgan", image_size=32, channels=1)
        >>> gan.eval().sample(16, seed=0).shape
        torch.Size([16, 1, 32, 32])
    """

    architecture = "wgan"
    config_class = WGANConfig

    def __init__(self, config: WGANConfig) -> None:
        super().__init__(config)
        c = config
        if c.model == "dcgan":
            self.generator: nn.Module = DCGANGenerator(
                c.image_size, c.nz, c.channels, c.ngf, c.n_extra_layers, c.batch_norm
            )
            self.generator.apply(dcgan_weights_init)  # the reference's weights_init (Conv, BatchNorm only)
        else:
            self.generator = MLPGenerator(c.image_size, c.nz, c.channels, c.ngf)  # default Linear init
        self.critic: nn.Module | None = None
        if c.with_critic and c.model == "dcgan":
            self.critic = DCGANCritic(c.image_size, c.channels, c.ndf, c.n_extra_layers, c.critic_batch_norm)
            self.critic.apply(dcgan_weights_init)
        elif c.with_critic:
            self.critic = MLPCritic(c.image_size, c.channels, c.ndf)

    def generate(self, z: torch.Tensor) -> torch.Tensor:
        """Images in [0, 1] (not clamped) for latent codes ``(N, nz)`` or ``(N, nz, 1, 1)``."""
        nz = self.config.nz
        if z.dim() == 2:
            z = z[:, :, None, None]
        if z.dim() != 4 or tuple(z.shape[1:]) != (nz, 1, 1):
            raise ZooError(f"The WGAN generator takes codes shaped (N, {nz}, 1, 1), not {tuple(z.shape)}.")
        return (self.generator(z) + 1) / 2

    def critique(self, x: torch.Tensor) -> torch.Tensor:
        """The critic's score of each image (in [0, 1], ``(N, C, S, S)``): ``(N,)``.

        The reference's critic is trained to score real images *lower* than generated ones.
        """
        if self.critic is None:
            raise ZooError("This WGAN holds a generator only (with_critic=false); it has no critic.")
        c = self.config
        check_images(x, channels=c.channels, size=(c.image_size, c.image_size), what="WGAN critic")
        return self.critic(x * 2 - 1)

    def sample_batch(self, n: int, generator: torch.Generator) -> torch.Tensor:
        z = torch.randn(n, self.config.nz, 1, 1, generator=generator).to(self.device, self.dtype)
        return self.generate(z)
