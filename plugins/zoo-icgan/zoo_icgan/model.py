"""The networks of Guim3/IcGAN (``trainGAN.lua``, ``trainEncoder.lua``) for one-hot classes, in PyTorch.

Generator (``trainGAN.lua`` l. 66-95), image size S (a power of two), ``m = S / 8``::

    cat(z (nz,1,1), y (ny,1,1))                                          JoinTable: y enters G at its input
    ConvTranspose2d(nz + ny, ngf*m, 4, 1, 0) BN ReLU                     -> 4x4
    ConvTranspose2d(ngf*m, ngf*m/2, 4, 2, 1) BN ReLU  (log2(S) - 3 times) -> S/2
    ConvTranspose2d(ngf, nc, 4, 2, 1) Tanh                               -> S

Discriminator (l. 97-147): y enters after the first convolution, the position the paper found best
(Perarnau et al. 2016, section 4 / table 1: y at the input of G and the first layer of D)::

    x_conv: Conv2d(nc, ndf, 4, 2, 1) LeakyReLU(0.2)                      -> S/2
    cat(., y replicated to S/2 x S/2)                                    (Replicate + JoinTable)
    Conv2d(ndf*k + [ny the first time], 2*ndf*k, 4, 2, 1) BN LeakyReLU   (log2(S) - 3 times) -> 4x4
    Conv2d(., 1, 4, 1, 0)                                                -> one logit per image

The reference ends D with a Sigmoid and trains with ``BCECriterion``; ours returns the logit and
the training step uses ``BCEWithLogits``, the same loss computed stably. Every convolution has a bias
(Torch's default); ``weights_init`` draws convolution weights from N(0, 0.02) with zero biases and
BatchNorm weights from N(1, 0.02) with zero biases (``zoo_core.layers.init.init_weights``).

The class ``y`` is the reference's MNIST vector (``donkey_mnist.lua``): one-hot with -1 for the
other classes (``one_hot_pm1``).

Encoders (``trainEncoder.lua`` ``getEncoder``, after the VAE/GAN of Larsen et al.): ``encoder_layers``
(``nConvLayers``, 4) blocks Conv2d(., ., 5, 2, 2) BN ReLU from ``encoder_nf`` (``nf``, 32) filters
doubling, flattened, Linear(., FC) BatchNorm1d ReLU, Linear(FC, out). E_z (``encoder_z``) maps an
image to z (out nz, ``FCsz = nil``: FC = the flattened size), E_y (``encoder_y``) to y (out ny, FCsz
512). The encoders keep PyTorch's default init (the reference applies no ``weights_init`` to them).

Deviations (config options): the reference trains MNIST at its default 64x64 (``fineSize``;
``image_size=64`` is our default); the published ``icgan.mnist`` uses 32x32 digits (mnist5k
``--dataset-option size=32``) and narrower networks so that it trains on one CPU core; 28x28 is not
a power of two, which the reference's architecture needs. ``num_classes`` replaces the data's
``ySize`` (10 for MNIST; the CelebA attribute vectors are not one-hot and are not served here).

Example:
    >>> model = IcGAN(IcGANConfig(image_size=32, channels=1))
    >>> model.edit(torch.rand(2, 1, 32, 32), [3, 4]).shape
    torch.Size([2, 1, 32, 32])
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import nn

from zoo_core import ZooError
from zoo_core.layers.init import init_weights
from zoo_core.modeling import ModelConfig, UnconditionalGenerator, ZooModel, check_count, seeded_generator

from .tasks import ClassConditionalGenerator, ImageEditor

__all__ = [
    "ConditionalDiscriminator",
    "ConditionalGenerator",
    "Encoder",
    "IcGAN",
    "IcGANConfig",
    "check_image_size",
    "one_hot_pm1",
]


def check_image_size(image_size: int, encoder_layers: int = 4) -> int:
    """The number of middle layers (``nConvLayers = log2(S) - 3``) for ``image_size``, or fail in one sentence.

    Example:
        >>> check_image_size(64), check_image_size(32)
        (3, 2)
    """
    layers = int(math.log2(image_size)) - 3 if isinstance(image_size, int) and image_size >= 8 else -1
    if layers < 0 or 2 ** (layers + 3) != image_size or image_size < 2**encoder_layers:
        raise ZooError(
            f"IcGAN image_size must be a power of two of at least 8 and 2**encoder_layers "
            f"({2**encoder_layers}), not {image_size!r}; resize the data (for mnist5k: --dataset-option size=32)."
        )
    return layers


def one_hot_pm1(labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """The reference's MNIST class vectors: 1 at the class, -1 elsewhere, ``(N, num_classes)``.

    Example:
        >>> one_hot_pm1(torch.tensor([1]), 3)
        tensor([[-1.,  1., -1.]])
    """
    y = torch.full((len(labels), num_classes), -1.0, device=labels.device)
    return y.scatter_(1, labels.view(-1, 1).long(), 1.0)


class ConditionalGenerator(nn.Module):
    """``netG``: ``(z (N, nz, 1, 1), y (N, ny))`` to ``(N, nc, S, S)`` in [-1, 1].

    Example:
        >>> ConditionalGenerator(32, 100, 10, 1, 64)(torch.randn(2, 100, 1, 1), torch.ones(2, 10)).shape
        torch.Size([2, 1, 32, 32])
    """

    def __init__(self, image_size: int, nz: int, ny: int, nc: int, ngf: int) -> None:
        super().__init__()
        mult = image_size // 8
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(nz + ny, ngf * mult, 4, 1, 0),
            nn.BatchNorm2d(ngf * mult),
            nn.ReLU(True),
        ]
        for _ in range(check_image_size(image_size, 0)):
            layers += [nn.ConvTranspose2d(ngf * mult, ngf * mult // 2, 4, 2, 1), nn.BatchNorm2d(ngf * mult // 2)]
            layers.append(nn.ReLU(True))
            mult //= 2
        layers += [nn.ConvTranspose2d(ngf, nc, 4, 2, 1), nn.Tanh()]
        self.main = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.main(torch.cat([z, y.view(len(y), -1, 1, 1).to(z.dtype)], 1))


class ConditionalDiscriminator(nn.Module):
    """``netD``: ``(x (N, nc, S, S) in [-1, 1], y (N, ny))`` to ``(N,)`` logits (the reference's Sigmoid removed).

    Example:
        >>> ConditionalDiscriminator(32, 10, 1, 64)(torch.randn(2, 1, 32, 32), torch.ones(2, 10)).shape
        torch.Size([2])
    """

    def __init__(self, image_size: int, ny: int, nc: int, ndf: int) -> None:
        super().__init__()
        self.x_conv = nn.Sequential(nn.Conv2d(nc, ndf, 4, 2, 1), nn.LeakyReLU(0.2, True))
        self.replicate = image_size // 2
        layers: list[nn.Module] = []
        mult, inputs = 1, ndf + ny
        for _ in range(check_image_size(image_size, 0)):
            layers += [nn.Conv2d(inputs, ndf * mult * 2, 4, 2, 1), nn.BatchNorm2d(ndf * mult * 2)]
            layers.append(nn.LeakyReLU(0.2, True))
            mult *= 2
            inputs = ndf * mult
        layers.append(nn.Conv2d(inputs, 1, 4, 1, 0))
        self.main = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        h = self.x_conv(x)
        y_map = y.view(len(y), -1, 1, 1).to(h.dtype).expand(-1, -1, self.replicate, self.replicate)
        return self.main(torch.cat([h, y_map], 1)).view(-1)


class Encoder(nn.Module):
    """``getEncoder`` of ``trainEncoder.lua``: ``(N, nc, S, S)`` in [-1, 1] to ``(N, out)``.

    Example:
        >>> Encoder(32, 1, 32, 10, 4, 512)(torch.randn(2, 1, 32, 32)).shape
        torch.Size([2, 10])
    """

    def __init__(self, image_size: int, nc: int, nf: int, out: int, layers: int, fc: int | None) -> None:
        super().__init__()
        convs: list[nn.Module] = []
        channels, filters = nc, nf
        for _ in range(layers):
            convs += [nn.Conv2d(channels, filters, 5, 2, 2), nn.BatchNorm2d(filters), nn.ReLU(True)]
            channels, filters = filters, filters * 2
        flat = (image_size // 2**layers) ** 2 * channels
        fc = fc or flat
        self.main = nn.Sequential(
            *convs,
            nn.Flatten(),
            nn.Linear(flat, fc),
            nn.BatchNorm1d(fc),
            nn.ReLU(True),
            nn.Linear(fc, out),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.main(x)


@dataclass
class IcGANConfig(ModelConfig):
    """IcGAN hyper-parameters; defaults are the reference's MNIST run (``cfg/mainConfig.lua``).

    ``image_size`` is ``fineSize`` (64), ``channels`` ``nc`` (1 for MNIST), ``num_classes`` ``ny``
    (10), ``nz`` 100, ``ngf`` / ``ndf`` 64; the encoders: ``encoder_layers`` ``nConvLayers`` 4,
    ``encoder_nf`` ``nf`` 32, ``encoder_z_fc`` E_z's ``FCsz`` (0: ``nil``, the flattened size),
    ``encoder_y_fc`` E_y's ``FCsz`` 512.

    Example:
        >>> IcGANConfig(image_size=32, ngf=32, ndf=32)
    """

    image_size: int = 64
    channels: int = 1
    num_classes: int = field(default=10, metadata={"range": (2, 1000)})
    nz: int = 100
    ngf: int = 64
    ndf: int = 64
    encoder_layers: int = field(default=4, metadata={"range": (1, 8)})
    encoder_nf: int = 32
    encoder_z_fc: int = field(default=0, metadata={"range": (0, 2**31 - 1)})
    encoder_y_fc: int = 512

    def validate(self) -> None:
        super().validate()
        check_image_size(self.image_size, self.encoder_layers)
        for key in ("channels", "nz", "ngf", "ndf", "encoder_nf", "encoder_y_fc"):
            if getattr(self, key) < 1:
                raise ZooError(f"IcGAN's {key} must be at least 1, not {getattr(self, key)!r}.")
        if self.encoder_z_fc < 0:
            raise ZooError(f"encoder_z_fc must be 0 (the flattened size) or positive, not {self.encoder_z_fc!r}.")


class IcGAN(ImageEditor, ClassConditionalGenerator, UnconditionalGenerator, ZooModel):
    """Perarnau et al.'s IcGAN: ``generator``, ``discriminator``, ``encoder_z``, ``encoder_y``.

    - ``sample(n, labels=..., seed=...)``: z ~ N(0, I) ``(n, nz, 1, 1)`` on the CPU, the classes
      given (one for all or one per image) or drawn uniformly (the reference draws them from the
      training set's class frequencies, which are nearly uniform for MNIST); images in [0, 1].
    - ``edit(x, y)``: ``G(E_z(x), y)``, the paper's "change the attributes, keep the style"
      (deterministic: ``seed`` is accepted for the contract and unused).
    - ``encode(x)``: ``(E_z(x) (N, nz), E_y(x) (N, ny))``; E_y's scores regress the +-1 class
      vector, their argmax is the class read. ``reconstruct(x)`` = ``G(E_z(x), y)`` with y the
      +-1 one-hot of that argmax, the paper's reconstruction x' = G(E_z(x), E_y(x)).

    Example:
        >>> gan = zoo.create("icgan", image_size=32)
        >>> gan.sample(10, labels=range(10), seed=0).shape
        torch.Size([10, 1, 32, 32])
    """

    architecture = "icgan"
    config_class = IcGANConfig

    def __init__(self, config: IcGANConfig) -> None:
        super().__init__(config)
        c = config
        self.generator = init_weights(ConditionalGenerator(c.image_size, c.nz, c.num_classes, c.channels, c.ngf))
        self.discriminator = init_weights(ConditionalDiscriminator(c.image_size, c.num_classes, c.channels, c.ndf))
        fc_z = c.encoder_z_fc or None
        self.encoder_z = Encoder(c.image_size, c.channels, c.encoder_nf, c.nz, c.encoder_layers, fc_z)
        self.encoder_y = Encoder(
            c.image_size, c.channels, c.encoder_nf, c.num_classes, c.encoder_layers, c.encoder_y_fc
        )

    # -- what it takes ---------------------------------------------------------------------
    @property
    def num_classes(self) -> int:
        return self.config.num_classes

    @property
    def input_channels(self) -> int:
        return self.config.channels

    @property
    def image_size(self) -> int:
        return self.config.image_size

    # -- the networks in [0, 1] -------------------------------------------------------------
    def generate(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Images in [0, 1] (not clamped) for codes ``(N, nz)`` or ``(N, nz, 1, 1)`` and classes ``(N,)``."""
        nz = self.config.nz
        if z.dim() == 2:
            z = z[:, :, None, None]
        if z.dim() != 4 or tuple(z.shape[1:]) != (nz, 1, 1) or len(labels) != len(z):
            raise ZooError(f"The IcGAN generator takes codes (N, {nz}) and N classes, not {tuple(z.shape)}.")
        y = one_hot_pm1(labels.to(self.device), self.num_classes).to(self.dtype)
        return (self.generator(z.to(self.device, self.dtype), y) + 1) / 2

    def sample_batch(self, n: int, generator: torch.Generator) -> torch.Tensor:
        labels = torch.randint(0, self.num_classes, (n,), generator=generator)
        return self.generate(torch.randn(n, self.config.nz, 1, 1, generator=generator), labels)

    def sample(self, n: int, *, labels: object = None, seed: int | None = None, progress: bool = False) -> torch.Tensor:
        """Draw ``n`` digits in [0, 1], ``(n, C, S, S)``, of the classes ``labels`` (``None``: random).

        With ``labels=None`` the images are those of the unconditional contract (``sample_batch``
        per chunk: classes, then z, from one seeded stream); with labels, z alone is drawn.

        Example:
            >>> model.sample(4, labels=[0, 1, 2, 3], seed=0).shape
            torch.Size([4, 1, 32, 32])
        """
        from tqdm.auto import tqdm

        check_count(n)
        generator = seeded_generator(seed)
        y = None if labels is None else self.draw_labels(labels, n, generator)
        chunks, size = [], self.sample_batch_size
        for i in tqdm(range(0, n, size), desc="sampling", unit="batch", disable=not progress or n <= size):
            k = min(size, n - i)
            if y is None:
                chunks.append(self.sample_batch(k, generator))
            else:
                z = torch.randn(k, self.config.nz, 1, 1, generator=generator)
                chunks.append(self.generate(z, y[i : i + k]))
        return torch.cat(chunks).float().clamp(0, 1)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(E_z(x), E_y(x))`` of images ``(N, C, S, S)`` in [0, 1]: ``(N, nz)`` and ``(N, num_classes)``."""
        x = self.check_edit_images(x).to(self.device, self.dtype) * 2 - 1
        return self.encoder_z(x).float(), self.encoder_y(x).float()

    def edit(self, x: torch.Tensor, y: object, *, seed: int | None = None) -> torch.Tensor:
        """``G(E_z(x), y)``: the images ``x`` with their class changed to ``y``, style kept; in [0, 1].

        Example:
            >>> model.edit(digits, 7).shape == digits.shape
            True
        """
        x, labels = self.check_edit(x, y)
        z = self.encoder_z(x.to(self.device, self.dtype) * 2 - 1)
        return self.generate(z, labels).float().clamp(0, 1)

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """``G(E_z(x), y)`` with y the class E_y reads (argmax): the paper's reconstruction, in [0, 1]."""
        _, scores = self.encode(x)  # verbs: eval mode, inference mode
        return self.edit(x, scores.argmax(1))
