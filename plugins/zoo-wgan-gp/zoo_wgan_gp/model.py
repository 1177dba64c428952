"""The MNIST networks of igul222/improved_wgan_training ``gan_mnist.py`` (``MODE = 'wgan-gp'``), in PyTorch.

The reference is TensorFlow (``tflib``), so it has no PyTorch state dict; zoo's module names
follow its parameter names (``lib.params_with_name``), one module per named layer, ``DIM`` = ``dim``::

    generator.input    Linear(nz=128, 4*4*4*dim)                'Generator.Input'   l. 59
                       ReLU, reshape to (N, 4dim, 4, 4)
    generator.deconv2  ConvTranspose2d(4dim, 2dim, 5, stride 2) 'Generator.2'       l. 65   -> 8x8
                       ReLU, crop to 7x7 (output[:, :, :7, :7], l. 70)
    generator.deconv3  ConvTranspose2d(2dim, dim, 5, stride 2)  'Generator.3'       l. 72   -> 14x14
                       ReLU
    generator.deconv5  ConvTranspose2d(dim, 1, 5, stride 2)     'Generator.5'       l. 77   -> 28x28
                       Sigmoid: images in [0, 1], as ``tflib.mnist`` feeds the critic

    critic.conv1       Conv2d(1, dim, 5, stride 2)              'Discriminator.1'   l. 85   -> 14x14
    critic.conv2       Conv2d(dim, 2dim, 5, stride 2)           'Discriminator.2'   l. 88   -> 7x7
    critic.conv3       Conv2d(2dim, 4dim, 5, stride 2)          'Discriminator.3'   l. 93   -> 4x4
    critic.output      Linear(4*4*4*dim, 1)                     'Discriminator.Output' l. 99

each followed by LeakyReLU(0.2) in the critic; every layer has a bias. No batch norm anywhere: the
file's ``Batchnorm`` layers exist only under ``MODE == 'wgan'`` (and the paper asks for none in the
critic, whose gradient penalty is per sample). Keys: ``generator.input.weight`` (``(4096, 128)``,
PyTorch's ``(out, in)``: the transpose of tflib's ``(in, out)`` matrix), ``critic.conv1.weight``
``(dim, 1, 5, 5)`` (tflib's ``(5, 5, in, out)`` permuted) ...

Padding: tflib's convolutions are TensorFlow ``'SAME'`` with stride 2, which pads one row more at
the bottom/right than the top/left where the total is odd; PyTorch's ``padding=2`` (and
``output_padding=1`` for the transposed ones) gives the same sizes with symmetric padding, so
the sampling grid sits one pixel off TensorFlow's in those layers. The layer sizes, parameters
and receptive fields are the reference's; a TensorFlow checkpoint would need that shift.

Init (``tflib.ops``): every weight uniform with standard deviation ``s`` (bounds ``s * sqrt(3)``)
and every bias 0: ``Linear`` (no ``initialization`` given: Glorot) ``s = sqrt(2 / (in + out))``;
``Conv2D`` (``he_init=True``) ``s = sqrt(4 / (fan_in + fan_out))`` with ``fan_in = in k^2``,
``fan_out = out k^2 / stride^2``; ``Deconv2D`` the same with ``fan_in = in k^2 / stride^2``,
``fan_out = out k^2``.

Example:
    >>> model = WGANGP(WGANGPConfig(dim=16))
    >>> model.eval().sample(4, seed=0).shape
    torch.Size([4, 1, 28, 28])
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from zoo_core import ZooError
from zoo_core.modeling import ModelConfig, UnconditionalGenerator, ZooModel, check_images

__all__ = ["IMAGE_SIZE", "WGANGP", "Critic", "Generator", "WGANGPConfig", "tflib_init_"]

#: MNIST's side, the only size the reference's networks take (``OUTPUT_DIM = 784``)
IMAGE_SIZE = 28


def _uniform_(tensor: torch.Tensor, std: float) -> None:
    bound = std * math.sqrt(3.0)
    nn.init.uniform_(tensor, -bound, bound)


@torch.no_grad()
def tflib_init_(module: nn.Module) -> None:
    """``tflib``'s init of ``Linear`` (Glorot), ``Conv2D`` and ``Deconv2D`` (``he_init``), for ``net.apply``.

    Example:
        >>> layer = nn.Linear(128, 4096); tflib_init_(layer)
        >>> round(float(layer.weight.std()) / math.sqrt(2 / (128 + 4096)), 1), float(layer.bias.abs().max())
        (1.0, 0.0)
    """
    if isinstance(module, nn.Linear):
        _uniform_(module.weight, math.sqrt(2.0 / (module.in_features + module.out_features)))
    elif isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        k2 = module.kernel_size[0] * module.kernel_size[1]
        stride2 = module.stride[0] * module.stride[1]
        fan_in, fan_out = module.in_channels * k2, module.out_channels * k2
        if isinstance(module, nn.ConvTranspose2d):
            fan_in /= stride2
        else:
            fan_out /= stride2
        _uniform_(module.weight, math.sqrt(4.0 / (fan_in + fan_out)))
    else:
        return
    nn.init.zeros_(module.bias)


class Generator(nn.Module):
    """``Generator`` of ``gan_mnist.py``: ``(N, nz)`` noise to ``(N, 1, 28, 28)`` images in [0, 1].

    Example:
        >>> Generator(64, 128)(torch.randn(2, 128)).shape
        torch.Size([2, 1, 28, 28])
    """

    def __init__(self, dim: int = 64, nz: int = 128) -> None:
        super().__init__()
        self.dim = dim
        self.input = nn.Linear(nz, 4 * 4 * 4 * dim)
        self.deconv2 = nn.ConvTranspose2d(4 * dim, 2 * dim, 5, stride=2, padding=2, output_padding=1)
        self.deconv3 = nn.ConvTranspose2d(2 * dim, dim, 5, stride=2, padding=2, output_padding=1)
        self.deconv5 = nn.ConvTranspose2d(dim, 1, 5, stride=2, padding=2, output_padding=1)

    def forward(self, noise: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.input(noise)).view(-1, 4 * self.dim, 4, 4)
        x = torch.relu(self.deconv2(x))[:, :, :7, :7]
        x = torch.relu(self.deconv3(x))
        return torch.sigmoid(self.deconv5(x))


class Critic(nn.Module):
    """``Discriminator`` of ``gan_mnist.py``: ``(N, 1, 28, 28)`` images in [0, 1] to ``(N,)`` scores.

    Example:
        >>> Critic(64)(torch.rand(2, 1, 28, 28)).shape
        torch.Size([2])
    """

    def __init__(self, dim: int = 64) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, dim, 5, stride=2, padding=2)
        self.conv2 = nn.Conv2d(dim, 2 * dim, 5, stride=2, padding=2)
        self.conv3 = nn.Conv2d(2 * dim, 4 * dim, 5, stride=2, padding=2)
        self.output = nn.Linear(4 * 4 * 4 * dim, 1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = nn.functional.leaky_relu(self.conv1(images), 0.2)
        x = nn.functional.leaky_relu(self.conv2(x), 0.2)
        x = nn.functional.leaky_relu(self.conv3(x), 0.2)
        return self.output(x.flatten(1)).view(-1)


@dataclass
class WGANGPConfig(ModelConfig):
    """The reference's sizes: ``dim`` (``DIM``) 64, ``nz`` 128; 28x28 grey images.

    ``with_critic=False`` holds the generator alone (it samples but cannot be trained).

    Example:
        >>> WGANGPConfig(dim=32)
    """

    dim: int = 64
    nz: int = 128
    with_critic: bool = True


class WGANGP(UnconditionalGenerator, ZooModel):
    """Gulrajani et al.'s MNIST WGAN-GP: ``generator`` and ``critic`` (keys ``generator.input.weight`` ...).

    ``sample(n, seed=...)`` draws z ~ N(0, I) shaped ``(n, nz)`` on the CPU (the reference's
    ``tf.random_normal([n, 128])``); the generator's Sigmoid output is already in [0, 1].

    Example:
        >>> gan = zoo.create("wgan-gp", dim=16)
        >>> gan.eval().sample(16, seed=0).shape
        torch.Size([16, 1, 28, 28])
    """

    architecture = "wgan-gp"
    config_class = WGANGPConfig

    def __init__(self, config: WGANGPConfig) -> None:
        super().__init__(config)
        self.generator = Generator(config.dim, config.nz)
        self.generator.apply(tflib_init_)
        self.critic: Critic | None = None
        if config.with_critic:
            self.critic = Critic(config.dim)
            self.critic.apply(tflib_init_)

    def generate(self, z: torch.Tensor) -> torch.Tensor:
        """Images in [0, 1] for latent codes ``(N, nz)``."""
        if z.dim() != 2 or z.shape[1] != self.config.nz:
            raise ZooError(f"The WGAN-GP generator takes codes shaped (N, {self.config.nz}), not {tuple(z.shape)}.")
        return self.generator(z)

    def critique(self, x: torch.Tensor) -> torch.Tensor:
        """The critic's score of each image (``(N, 1, 28, 28)`` in [0, 1]): ``(N,)``, higher for real images."""
        if self.critic is None:
            raise ZooError("This WGAN-GP holds a generator only (with_critic=false); it has no critic.")
        check_images(x, channels=1, size=(IMAGE_SIZE, IMAGE_SIZE), what="WGAN-GP critic")
        return self.critic(x)

    def sample_batch(self, n: int, generator: torch.Generator) -> torch.Tensor:
        z = torch.randn(n, self.config.nz, generator=generator).to(self.device, self.dtype)
        return self.generate(z)
