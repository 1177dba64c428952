"""The MNIST networks of Goodfellow et al. (2014), laid out as ``goodfeli/adversarial`` ``mnist.yaml`` builds them.

Generator (``adversarial.Generator`` around a pylearn2 MLP, ``nvis: 100``)::

    z ~ U(-sqrt 3, sqrt 3)^100 (``noise: 'uniform'``: unit variance; ``noise="gaussian"`` draws N(0, I))
    h0  Linear(100, 1200)  ReLU         (RectifiedLinear, irange .05)
    h1  Linear(1200, 1200) ReLU         (RectifiedLinear, irange .05)
    y   Linear(1200, 784)  Sigmoid      (Sigmoid, irange .05, bias from the data's pixel marginals)

Discriminator (pylearn2 MLP, ``nvis: 784``)::

    h0  Maxout(784 -> 240 units x 5 pieces)    (irange .005)
    h1  Maxout(240 -> 240 units x 5 pieces)    (irange .005)
    y   Linear(240, 1) Sigmoid                  (irange .005)

pylearn2 draws every weight uniformly from ``[-irange, irange]`` and sets biases to 0; the
generator's output bias is ``init_sigmoid_bias_from_marginals``, the logit of each pixel's mean
over the training images, which the training step sets from the data (``set_output_bias_from_marginals``).
A maxout unit is the maximum of ``num_pieces`` consecutive linear pieces (pylearn2 ``Maxout``
with ``pool_stride = num_pieces``). Dropout is training-time only: ``Discriminator.forward``
takes the masks the training step draws (pylearn2 ``dropout_fprop``: each layer's *input* is
kept with an include probability and multiplied by a scale); without masks it is the test-time network.

State-dict keys are the pylearn2 layer names: ``generator.h0.weight``, ``discriminator.h0.weight`` ...
(``nn.Linear`` layout, ``(out, in)``; pylearn2 stores ``(in, out)``).

Example:
    >>> model = GAN(GANConfig())
    >>> model.eval().sample(8, seed=0).shape
    torch.Size([8, 1, 28, 28])
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from zoo_core import ZooError
from zoo_core.modeling import ModelConfig, UnconditionalGenerator, ZooModel, check_images

__all__ = ["GAN", "NOISES", "Discriminator", "GANConfig", "Generator", "Maxout", "marginal_logits"]

#: the generator's noise distributions (``adversarial.Generator.get_noise``), each with unit variance
NOISES = ("uniform", "gaussian")
#: pylearn2's ``init_sigmoid_bias_from_array`` clips the marginals to [1e-5, 1 - 1e-5] before the logit
MARGINAL_CLIP = 1e-5


def _uniform_(linear: nn.Linear, irange: float) -> None:
    """pylearn2's ``irange`` init: weights ~ U(-irange, irange), biases 0."""
    nn.init.uniform_(linear.weight, -irange, irange)
    nn.init.zeros_(linear.bias)


def marginal_logits(images: torch.Tensor) -> torch.Tensor:
    """The logit of each pixel's mean over ``images`` ``(N, ...)``, clipped as pylearn2 clips it: G's output bias.

    Example:
        >>> marginal_logits(torch.tensor([[0.0, 1.0], [1.0, 1.0]]))
        tensor([ 0.0000, 11.5129])
    """
    if images.dim() < 2 or images.shape[0] == 0:
        raise ZooError(
            f"The pixel marginals need a non-empty batch of images shaped (N, ...), not {tuple(images.shape)}."
        )
    mean = images.reshape(images.shape[0], -1).double().mean(0).clamp(MARGINAL_CLIP, 1 - MARGINAL_CLIP)
    return torch.logit(mean).float()


class Generator(nn.Module):
    """``z (N, nz)`` to flat images ``(N, pixels)`` in (0, 1): two ReLU layers and a sigmoid layer.

    ``forward`` returns the sigmoid's pre-activation when ``logits=True``.

    Example:
        >>> Generator(100, 1200, 784)(torch.randn(2, 100)).shape
        torch.Size([2, 784])
    """

    def __init__(self, nz: int = 100, hidden: int = 1200, pixels: int = 784, irange: float = 0.05) -> None:
        super().__init__()
        self.h0 = nn.Linear(nz, hidden)
        self.h1 = nn.Linear(hidden, hidden)
        self.y = nn.Linear(hidden, pixels)
        for layer in (self.h0, self.h1, self.y):
            _uniform_(layer, irange)

    def forward(self, z: torch.Tensor, logits: bool = False) -> torch.Tensor:
        out = self.y(F.relu(self.h1(F.relu(self.h0(z)))))
        return out if logits else torch.sigmoid(out)


class Maxout(nn.Module):
    """pylearn2's ``Maxout`` layer: ``units`` outputs, each the max of ``pieces`` consecutive linear pieces.

    Example:
        >>> Maxout(784, 240, 5)(torch.rand(3, 784)).shape
        torch.Size([3, 240])
    """

    def __init__(self, in_features: int, units: int, pieces: int, irange: float = 0.005) -> None:
        super().__init__()
        self.units, self.pieces = units, pieces
        self.linear = nn.Linear(in_features, units * pieces)
        _uniform_(self.linear, irange)

    def forward(self, x: torch.Tensor, params: Sequence[torch.Tensor] | None = None) -> torch.Tensor:
        weight, bias = params if params is not None else (self.linear.weight, self.linear.bias)
        z = F.linear(x, weight, bias)
        return z.view(*z.shape[:-1], self.units, self.pieces).amax(-1)


class Discriminator(nn.Module):
    """Flat images ``(N, pixels)`` to the logit of "real" ``(N,)``: two maxout layers and a sigmoid unit.

    ``masks`` (three tensors, one per layer input, already multiplied by the input scales) apply
    training-time dropout; ``frozen=True`` runs the same network on detached parameters, so a loss
    through it trains only what produced ``x`` (the generator's objective in ``AdversaryCost2``).

    Example:
        >>> Discriminator()(torch.rand(2, 784)).shape
        torch.Size([2])
    """

    def __init__(self, pixels: int = 784, units: int = 240, pieces: int = 5, irange: float = 0.005) -> None:
        super().__init__()
        self.h0 = Maxout(pixels, units, pieces, irange)
        self.h1 = Maxout(units, units, pieces, irange)
        self.y = nn.Linear(units, 1)
        _uniform_(self.y, irange)

    def input_sizes(self) -> tuple[int, int, int]:
        """The widths of the three layers' inputs: what each dropout mask covers."""
        return self.h0.linear.in_features, self.h1.linear.in_features, self.y.in_features

    def forward(
        self, x: torch.Tensor, masks: Sequence[torch.Tensor] | None = None, frozen: bool = False
    ) -> torch.Tensor:
        def params(layer: nn.Linear) -> tuple[torch.Tensor, torch.Tensor] | None:
            return (layer.weight.detach(), layer.bias.detach()) if frozen else None

        m = masks if masks is not None else (None, None, None)
        h = x if m[0] is None else x * m[0]
        h = self.h0(h, params(self.h0.linear))
        h = h if m[1] is None else h * m[1]
        h = self.h1(h, params(self.h1.linear))
        h = h if m[2] is None else h * m[2]
        weight, bias = params(self.y) or (self.y.weight, self.y.bias)
        return F.linear(h, weight, bias).squeeze(-1)


@dataclass
class GANConfig(ModelConfig):
    """GAN hyper-parameters; the defaults are ``mnist.yaml``'s (28x28 grey digits, 100-d noise, 1200 / 240x5 units).

    ``noise`` is ``"uniform"`` (U(-sqrt 3, sqrt 3) per dimension, ``mnist.yaml``) or ``"gaussian"``
    (N(0, 1), ``adversarial.Generator``'s default).

    Example:
        >>> GANConfig(g_hidden=600)
    """

    image_size: int = 28
    channels: int = 1
    nz: int = 100
    g_hidden: int = 1200
    d_units: int = 240
    d_pieces: int = 5
    g_irange: float = field(default=0.05, metadata={"range": (0.0, 10.0)})
    d_irange: float = field(default=0.005, metadata={"range": (0.0, 10.0)})
    noise: str = "uniform"


class GAN(UnconditionalGenerator, ZooModel):
    """Goodfellow et al.'s adversarial pair: ``generator`` (MLP) and ``discriminator`` (maxout MLP).

    ``sample(n, seed=...)`` draws the noise ``(n, nz)`` (``config.noise``) on the CPU and returns the generator's
    sigmoid output shaped ``(n, channels, image_size, image_size)``: grey levels in [0, 1], as the
    paper shows its samples (the generator's means, not Bernoulli draws).

    Example:
        >>> gan = zoo.create("gan")
        >>> gan.eval().sample(16, seed=0).shape
        torch.Size([16, 1, 28, 28])
    """

    architecture = "gan"
    config_class = GANConfig

    def __init__(self, config: GANConfig) -> None:
        super().__init__(config)
        c = config
        if c.noise not in NOISES:
            raise ZooError(f"The GAN's noise is one of {', '.join(NOISES)}, not {c.noise!r}.")
        pixels = c.channels * c.image_size * c.image_size
        self.generator = Generator(c.nz, c.g_hidden, pixels, c.g_irange)
        self.discriminator = Discriminator(pixels, c.d_units, c.d_pieces, c.d_irange)

    @torch.no_grad()
    def set_output_bias_from_marginals(self, images: torch.Tensor) -> None:
        """Set the generator's output bias to the logit of the pixel means of ``images`` (``init_bias``).

        Example:
            >>> gan.set_output_bias_from_marginals(torch.rand(100, 1, 28, 28))
        """
        c = self.config
        check_images(images, channels=c.channels, size=(c.image_size, c.image_size), what="GAN output-bias init")
        self.generator.y.bias.copy_(marginal_logits(images).to(self.generator.y.bias))

    def generate(self, z: torch.Tensor) -> torch.Tensor:
        """Images in [0, 1] ``(N, C, S, S)`` for noise ``(N, nz)``."""
        c = self.config
        if z.dim() != 2 or z.shape[1] != c.nz:
            raise ZooError(f"The GAN generator takes noise shaped (N, {c.nz}), not {tuple(z.shape)}.")
        return self.generator(z).view(-1, c.channels, c.image_size, c.image_size)

    def discriminate(self, x: torch.Tensor) -> torch.Tensor:
        """D's probability (the test-time network: no dropout) that each image ``(N, C, S, S)`` is real: ``(N,)``."""
        c = self.config
        check_images(x, channels=c.channels, size=(c.image_size, c.image_size), what="GAN discriminator")
        return torch.sigmoid(self.discriminator(x.flatten(1)))

    def noise(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` noise vectors ``(n, nz)`` on the CPU: U(-sqrt 3, sqrt 3) or N(0, 1) per ``config.noise``.

        Example:
            >>> gan.noise(2, torch.Generator().manual_seed(0)).shape
            torch.Size([2, 100])
        """
        if self.config.noise == "gaussian":
            return torch.randn(n, self.config.nz, generator=generator)
        return (torch.rand(n, self.config.nz, generator=generator) * 2 - 1) * math.sqrt(3)

    def sample_batch(self, n: int, generator: torch.Generator) -> torch.Tensor:
        return self.generate(self.noise(n, generator).to(self.device, self.dtype))
