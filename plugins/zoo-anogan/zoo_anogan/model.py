"""AnoGAN (Schlegl et al. 2017) with the f-AnoGAN encoder (Schlegl et al. 2019): a DCGAN of normal images only,
and an anomaly score from the latent code that best explains an image.

Networks (the DCGAN of seokinj/anoGAN ``model.py``, with its module names, for any power-of-two
``image_size`` from 16; ``blocks = log2(image_size) - 2``, 4 at the reference's 64x64)::

    Generator      trans0  ConvTranspose2d(nz, ngf * 2^(blocks-1), 4, 1, 0) bn0 relu0   -> 4x4
                   trans1 .. trans{blocks-1}: ConvTranspose2d(c, c/2, 4, 2, 1) bn relu  -> image_size / 2
                   trans{blocks} ConvTranspose2d(ngf, nc, 4, 2, 1), tanh               -> image_size
    Discriminator  conv0  Conv2d(nc, ndf, 4, 2, 1) relu0 (LeakyReLU 0.2)
                   conv1 .. conv{blocks-1}: Conv2d(c, 2c, 4, 2, 1) bn LeakyReLU(0.2)    -> 4x4, "features"
                   conv{blocks} Conv2d(ndf * 2^(blocks-1), 1, 4, 1, 0), sigmoid
    Encoder        the discriminator's body (conv0 .. conv{blocks-1}, nef wide) and a linear head
                   conv{blocks} Conv2d(nef * 2^(blocks-1), nz, 4, 1, 0) -> z, no activation

so the keys at 64x64 read ``generator.trans0.weight``, ``generator.bn0.running_mean`` ...
``discriminator.conv4.weight`` as the reference's ``G`` / ``D``. Every convolution has
``bias=False``. The discrimination loss's feature layer f is the reference's: ``D.forward``
returns ``h3``, the output of the last hidden block (``relu{blocks-1}``, ``(N, 8 ndf, 4, 4)`` at
64). f-AnoGAN's encoder (``z_encoding_izif.py`` ``Encoder``) is its discriminator's architecture
with a linear ``z_dim`` output (``Z_REG_TYPE = None``: no tanh, no clipping); here that is the
DCGAN discriminator's body with a 4x4 convolution to ``nz`` (a linear map of the 4x4 features).
Init: the reference's: every (transposed) convolution N(0, 0.02) (``m.weight.data.normal_(0.0,
0.02)``), BatchNorm left at PyTorch's default (weight 1, bias 0); the encoder as the discriminator.

Scores (images are mapped from [0, 1] to [-1, 1], the references' ``Normalize(0.5, 0.5)``):

- ``method="latent-search"`` (AnoGAN, seokinj/anoGAN ``train.py`` ``anomaly_score``): from
  z0 ~ N(0, I) (seeded), ``steps`` (Γ, default ``search_steps`` 500) Adam steps on z (``search_lr``
  2e-4, betas (0.5, 0.999), the reference's ``optimizerZ``) minimising
  ``(1 - λ) Σ|x - G(z)| + λ Σ|f(x) - f(G(z))|`` (λ = ``lam`` 0.1, sums over pixels and feature
  elements); the score is that loss at the final z. Each image has its own z: the batch's loss is
  the sum of the per-image losses, and Adam is element-wise, so a batch is N independent searches.
  G and D stay in eval mode and their parameters receive no gradient. The reference reports the
  loss of its last forward pass (the z before the last update); ours is the loss after the Γ-th update.
- ``method="encoder"`` (f-AnoGAN, ``anomaly_detection.py`` with ``loss_type='MSE'``, ``dual_iloss``):
  ``MSE(x, G(E(x))) + κ MSE(f(x), f(G(E(x))))`` per image (means over pixels and over the
  feature elements; κ = ``kappa`` 1.0), the izif training loss of the encoder. f-AnoGAN's f is the
  input of its critic's last linear layer, i.e. the same place as AnoGAN's ``h3``.

Config (defaults are the references'; the published digit models deviate as noted):
``image_size`` 64 (AnoGAN's 64x64 patches; digits: 32 with ``--dataset-option size=32``),
``channels`` 1 (grey, as the paper's OCT patches), ``nz`` 100, ``ngf`` / ``ndf`` 64 (DCGAN's;
seokinj's ``config.yml`` uses 128; CPU digit models: 32), ``nef`` the encoder's width (f-AnoGAN:
the discriminator's, 64), ``lam`` 0.1, ``search_steps`` 500, ``search_lr`` 2e-4, ``kappa`` 1.0, and
``anomaly_class``: the digit held out of training (``None`` for a model of other data).

Example:
    >>> model = AnoGAN(AnoGANConfig(image_size=32))
    >>> [k for k in model.state_dict() if k.endswith("weight")][:3]
    ['generator.trans0.weight', 'generator.bn0.weight', 'generator.trans1.weight']
    >>> model.score(torch.rand(4, 1, 32, 32), method="latent-search", seed=0, steps=10).shape
    torch.Size([4])
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import nn

from zoo_core import ZooError
from zoo_core.modeling import ModelConfig, UnconditionalGenerator, ZooModel, seeded_generator

from .tasks import AnomalyDetector

__all__ = [
    "AnoGAN",
    "AnoGANConfig",
    "Discriminator",
    "Encoder",
    "Generator",
    "check_image_size",
    "encoder_score",
    "latent_search",
    "reference_init",
    "search_loss",
]


def check_image_size(image_size: int) -> int:
    """The number of stride-2 blocks for ``image_size`` (4 at 64, 3 at 32), or fail in one sentence.

    Example:
        >>> check_image_size(64), check_image_size(32)
        (4, 3)
    """
    blocks = int(math.log2(image_size)) - 2 if isinstance(image_size, int) and image_size >= 16 else -1
    if blocks < 2 or 2 ** (blocks + 2) != image_size:
        raise ZooError(
            f"AnoGAN image_size must be a power of two of at least 16 (16, 32, 64 ...), not {image_size!r}; "
            "resize the data to it (mnist5k-anomaly: --dataset-option size=32)."
        )
    return blocks


def reference_init(module: nn.Module) -> None:
    """seokinj/anoGAN's init: (transposed) convolution weights N(0, 0.02), biases (none here) zero."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            m.weight.data.normal_(0.0, 0.02)
            if m.bias is not None:
                m.bias.data.zero_()


class Generator(nn.Module):
    """seokinj/anoGAN's ``Generator``: ``(N, nz, 1, 1)`` to ``(N, nc, S, S)`` in [-1, 1] (``trans0`` ... ``tanh``).

    Example:
        >>> Generator(100, 1, 64, 64)(torch.randn(2, 100, 1, 1)).shape
        torch.Size([2, 1, 64, 64])
    """

    def __init__(self, nz: int, nc: int, ngf: int, image_size: int) -> None:
        super().__init__()
        self.blocks = blocks = check_image_size(image_size)
        width = ngf * 2 ** (blocks - 1)
        self.trans0 = nn.ConvTranspose2d(nz, width, 4, 1, 0, bias=False)
        self.bn0 = nn.BatchNorm2d(width)
        self.relu0 = nn.ReLU(inplace=True)
        for i in range(1, blocks):
            setattr(self, f"trans{i}", nn.ConvTranspose2d(width, width // 2, 4, 2, 1, bias=False))
            setattr(self, f"bn{i}", nn.BatchNorm2d(width // 2))
            setattr(self, f"relu{i}", nn.ReLU(inplace=True))
            width //= 2
        setattr(self, f"trans{blocks}", nn.ConvTranspose2d(width, nc, 4, 2, 1, bias=False))
        self.tanh = nn.Tanh()
        reference_init(self)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = z
        for i in range(self.blocks):
            h = getattr(self, f"relu{i}")(getattr(self, f"bn{i}")(getattr(self, f"trans{i}")(h)))
        return self.tanh(getattr(self, f"trans{self.blocks}")(h))


class _DownBody(nn.Module):
    """``conv0`` + LeakyReLU, then ``conv{i}`` + ``bn{i}`` + LeakyReLU down to 4x4 (the discriminator's body)."""

    def __init__(self, nc: int, width: int, image_size: int) -> None:
        super().__init__()
        self.blocks = blocks = check_image_size(image_size)
        self.conv0 = nn.Conv2d(nc, width, 4, 2, 1, bias=False)
        self.relu0 = nn.LeakyReLU(0.2, inplace=True)
        for i in range(1, blocks):
            setattr(self, f"conv{i}", nn.Conv2d(width, width * 2, 4, 2, 1, bias=False))
            setattr(self, f"bn{i}", nn.BatchNorm2d(width * 2))
            setattr(self, f"relu{i}", nn.LeakyReLU(0.2, inplace=True))
            width *= 2
        self.out_width = width

    def body(self, x: torch.Tensor) -> torch.Tensor:
        h = self.relu0(self.conv0(x))
        for i in range(1, self.blocks):
            h = getattr(self, f"relu{i}")(getattr(self, f"bn{i}")(getattr(self, f"conv{i}")(h)))
        return h


class Discriminator(_DownBody):
    """seokinj/anoGAN's ``Discriminator``: ``(N, nc, S, S)`` in [-1, 1] to ``(features, probability)``.

    ``features`` is the reference's ``h3`` (the last hidden block, ``(N, ndf * 2^(blocks-1), 4, 4)``),
    the layer f of AnoGAN's discrimination loss; ``probability`` is ``(N,)``.

    Example:
        >>> features, p = Discriminator(1, 64, 64)(torch.randn(2, 1, 64, 64))
        >>> features.shape, p.shape
        (torch.Size([2, 512, 4, 4]), torch.Size([2]))
    """

    def __init__(self, nc: int, ndf: int, image_size: int) -> None:
        super().__init__(nc, ndf, image_size)
        setattr(self, f"conv{self.blocks}", nn.Conv2d(self.out_width, 1, 4, 1, 0, bias=False))
        self.sigmoid = nn.Sigmoid()
        reference_init(self)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.body(x)
        out = self.sigmoid(getattr(self, f"conv{self.blocks}")(features))
        return features, out.view(-1)


class Encoder(_DownBody):
    """f-AnoGAN's encoder E: the discriminator's body and a linear 4x4 convolution to ``(N, nz, 1, 1)``.

    Example:
        >>> Encoder(1, 64, 100, 64)(torch.randn(2, 1, 64, 64)).shape
        torch.Size([2, 100, 1, 1])
    """

    def __init__(self, nc: int, nef: int, nz: int, image_size: int) -> None:
        super().__init__(nc, nef, image_size)
        setattr(self, f"conv{self.blocks}", nn.Conv2d(self.out_width, nz, 4, 1, 0, bias=False))
        reference_init(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return getattr(self, f"conv{self.blocks}")(self.body(x))


def search_loss(
    x: torch.Tensor, fake: torch.Tensor, x_features: torch.Tensor, fake_features: torch.Tensor, lam: float
) -> torch.Tensor:
    """AnoGAN's per-image loss ``(1 - λ) Σ|x - G(z)| + λ Σ|f(x) - f(G(z))|``, ``(N,)`` (images in [-1, 1]).

    Example:
        >>> x, fake = torch.zeros(1, 1, 2, 2), torch.full((1, 1, 2, 2), 0.5)
        >>> search_loss(x, fake, torch.zeros(1, 3), torch.ones(1, 3), 0.1)  # 0.9 * 2 + 0.1 * 3
        tensor([2.1000])
    """
    residual = (x - fake).abs().flatten(1).sum(1)
    discrimination = (x_features - fake_features).abs().flatten(1).sum(1)
    return (1.0 - lam) * residual + lam * discrimination


def latent_search(
    generator: nn.Module,
    discriminator: nn.Module,
    x: torch.Tensor,
    z0: torch.Tensor,
    *,
    steps: int,
    lr: float,
    lam: float,
) -> tuple[torch.Tensor, torch.Tensor, list[float]]:
    """AnoGAN's mapping: ``steps`` Adam updates of z from ``z0`` on ``search_loss``; ``(loss (N,), z, history)``.

    ``x`` is in [-1, 1]; ``history`` holds the batch's mean loss before each update and after the
    last. Only z gets gradients (``torch.autograd.grad``): the networks' ``.grad`` stay untouched.

    Example:
        >>> loss, z, history = latent_search(G, D, x, torch.randn(4, 100, 1, 1), steps=500, lr=2e-4, lam=0.1)
    """
    with torch.inference_mode(False), torch.enable_grad():
        x = x.clone()
        z = z0.clone().requires_grad_(True)
        with torch.no_grad():
            x_features = discriminator(x)[0]
        optimizer = torch.optim.Adam([z], lr=lr, betas=(0.5, 0.999))  # the reference's optimizerZ
        history: list[float] = []
        for _ in range(steps):
            fake = generator(z)
            loss = search_loss(x, fake, x_features, discriminator(fake)[0], lam)
            (z.grad,) = torch.autograd.grad(loss.sum(), [z])
            optimizer.step()
            history.append(float(loss.detach().mean()))
        with torch.no_grad():
            fake = generator(z)
            loss = search_loss(x, fake, x_features, discriminator(fake)[0], lam)
        history.append(float(loss.mean()))
        return loss.detach(), z.detach(), history


def encoder_score(
    x: torch.Tensor, fake: torch.Tensor, x_features: torch.Tensor, fake_features: torch.Tensor, kappa: float
) -> torch.Tensor:
    """f-AnoGAN's izif score ``MSE(x, G(E(x))) + κ MSE(f(x), f(G(E(x))))`` per image, ``(N,)``.

    Example:
        >>> x, fake = torch.zeros(1, 1, 2, 2), torch.full((1, 1, 2, 2), 0.5)
        >>> encoder_score(x, fake, torch.zeros(1, 3), torch.ones(1, 3), 1.0)  # 0.25 + 1.0
        tensor([1.2500])
    """
    image = (x - fake).pow(2).flatten(1).mean(1)
    features = (x_features - fake_features).pow(2).flatten(1).mean(1)
    return image + kappa * features


@dataclass
class AnoGANConfig(ModelConfig):
    """AnoGAN hyper-parameters; defaults are the references' (see the module docstring).

    Example:
        >>> AnoGANConfig(image_size=32, ngf=32, ndf=32, nef=32, anomaly_class=0)
    """

    image_size: int = 64
    channels: int = 1
    nz: int = 100
    ngf: int = 64
    ndf: int = 64
    nef: int = 64
    lam: float = field(default=0.1, metadata={"range": (0.0, 1.0)})
    search_steps: int = field(default=500, metadata={"range": (0, 100_000)})
    search_lr: float = 2e-4
    kappa: float = 1.0
    anomaly_class: int | None = field(default=None, metadata={"range": (0, 9)})

    def validate(self) -> None:
        super().validate()
        check_image_size(self.image_size)
        for key in ("channels", "nz", "ngf", "ndf", "nef"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ZooError(f"AnoGAN {key} must be a positive integer, not {value!r}.")
        if self.search_lr <= 0 or self.kappa < 0:
            raise ZooError("AnoGAN search_lr must be positive and kappa at least 0.")


class AnoGAN(AnomalyDetector, UnconditionalGenerator, ZooModel):
    """AnoGAN's ``generator`` and ``discriminator`` (seokinj/anoGAN layout) and f-AnoGAN's ``encoder``.

    ``score(x, method="encoder" | "latent-search", seed=0, steps=None)``: one anomaly score per
    image in [0, 1] (higher = more anomalous); ``steps`` overrides ``search_steps`` (Γ) of a latent
    search. ``sample(n, seed=...)`` draws z ~ N(0, I) ``(n, nz, 1, 1)`` and maps G's Tanh output to [0, 1].

    Example:
        >>> model = zoo.create("anogan", image_size=32, ngf=16, ndf=16, nef=16)
        >>> model.sample(4, seed=0).shape, model.score(torch.rand(4, 1, 32, 32)).shape
        (torch.Size([4, 1, 32, 32]), torch.Size([4]))
    """

    architecture = "anogan"
    config_class = AnoGANConfig

    def __init__(self, config: AnoGANConfig) -> None:
        super().__init__(config)
        c = config
        self.generator = Generator(c.nz, c.channels, c.ngf, c.image_size)
        self.discriminator = Discriminator(c.channels, c.ndf, c.image_size)
        self.encoder = Encoder(c.channels, c.nef, c.nz, c.image_size)

    def generate(self, z: torch.Tensor) -> torch.Tensor:
        """Images in [0, 1] for latent codes ``(N, nz)`` or ``(N, nz, 1, 1)``."""
        nz = self.config.nz
        if z.dim() == 2:
            z = z[:, :, None, None]
        if z.dim() != 4 or tuple(z.shape[1:]) != (nz, 1, 1):
            raise ZooError(f"The AnoGAN generator takes codes shaped (N, {nz}, 1, 1), not {tuple(z.shape)}.")
        return (self.generator(z) + 1) / 2

    def sample_batch(self, n: int, generator: torch.Generator) -> torch.Tensor:
        z = torch.randn(n, self.config.nz, 1, 1, generator=generator).to(self.device, self.dtype)
        return self.generate(z)

    def score(
        self, x: torch.Tensor, *, method: str = "encoder", seed: int = 0, steps: int | None = None
    ) -> torch.Tensor:
        """Anomaly scores ``(N,)`` of images ``(N, C, S, S)`` in [0, 1]; higher = more anomalous.

        ``method="encoder"``: f-AnoGAN's one-pass izif score; ``"latent-search"``: AnoGAN's final
        search loss after ``steps`` (default ``search_steps``) Adam updates from z0 ~ N(0, I) drawn
        with ``seed``.

        Example:
            >>> model.score(digits, method="latent-search", seed=0, steps=500)
        """
        self.check_anomaly_input(x, method)
        c = self.config
        real = x.to(self.device, self.dtype) * 2 - 1
        if method == "encoder":
            fake = self.generator(self.encoder(real))
            return encoder_score(real, fake, self.discriminator(real)[0], self.discriminator(fake)[0], c.kappa)
        steps = c.search_steps if steps is None else steps
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
            raise ZooError(f"The latent search takes steps as a whole number of at least 0, not {steps!r}.")
        z0 = torch.randn(len(x), c.nz, 1, 1, generator=seeded_generator(seed)).to(self.device, self.dtype)
        loss, _, _ = latent_search(self.generator, self.discriminator, real, z0, steps=steps, lr=c.search_lr, lam=c.lam)
        return loss
