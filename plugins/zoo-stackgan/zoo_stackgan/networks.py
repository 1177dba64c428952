"""StackGAN's networks as hanzhanggit/StackGAN-Pytorch ``code/model.py`` builds them, with identical state-dict keys.

Names follow the reference's modules (``ca_net``, ``fc``, ``upsample1`` ..., ``img``,
``encode_img``, ``get_cond_logits``, ``STAGE1_G``, ``encoder``, ``hr_joint``, ``residual``),
and every ``nn.Sequential`` holds the reference's layers in its order, so a state dict saved
by the reference trainer (``netG_epoch_N.pth``) loads into these modules strictly (after
``zoo_stackgan.convert`` adds the ``num_batches_tracked`` buffers that 2017 checkpoints lack).

The reference reads one global ``cfg``; here the numbers are arguments. With the reference's
sizes (stage I 64x64, stage II 256x256) the networks are exactly the reference's:

- ``CANet`` (``CA_NET``): ``fc`` Linear(text_dim -> 2 x condition_dim), ReLU on the whole
  output, *then* split into mu and logvar; c = mu + eps * exp(logvar / 2), eps ~ N(0, I) drawn
  at every call (in eval mode too: the reference's sampler draws it).
- ``Stage1Generator`` (``STAGE1_G``), ngf = 8 x gf_dim: ``ca_net``; ``fc`` Linear(z + c ->
  ngf x 4 x 4, no bias), BatchNorm1d, ReLU; ``upsample1..4`` (nearest x2, conv3x3 without bias,
  BN, ReLU; ngf -> ngf/2 -> ngf/4 -> ngf/8 -> ngf/16); ``img`` conv3x3 -> channels, Tanh.
- ``Stage1Discriminator`` (``STAGE1_D``): ``encode_img`` Conv(4, 2, 1) blocks ndf -> 2ndf ->
  4ndf -> 8ndf (no BN after the first, LeakyReLU 0.2 after each) down to 4x4;
  ``get_cond_logits`` (``D_GET_LOGITS``): c replicated 4x4 and concatenated, conv3x3
  (8ndf + c -> 8ndf), BN, LeakyReLU, Conv(4, stride 4) -> 1, Sigmoid; ``get_uncond_logits`` None.
- ``Stage2Generator`` (``STAGE2_G``): a frozen ``STAGE1_G`` (its parameters never train);
  ``ca_net`` of its own; ``encoder`` conv3x3 -> ngf, ReLU, two Conv(4, 2, 1) + BN + ReLU to
  4ngf at a quarter of the stage-I size (16x16); ``hr_joint`` conv3x3 (4ngf + c -> 4ngf), BN,
  ReLU; ``residual`` r_num ``ResBlock`` s; ``upsample1..4`` 4ngf -> 2ngf -> ngf -> ngf/2 ->
  ngf/4 (16 -> 256); ``img`` conv3x3 -> channels, Tanh. ngf = gf_dim here (the reference's).
- ``Stage2Discriminator`` (``STAGE2_D``): six Conv(4, 2, 1) blocks ndf ... 32ndf (256 -> 4),
  conv3x3 32ndf -> 16ndf and 16ndf -> 8ndf (BN, LeakyReLU), and both a conditional and an
  unconditional ``DiscriminatorLogits``.

Other sizes (the rule, for small grey models such as ours: stage I 32x32, stage II 64x64):

- ``stage1_size`` S1 and ``stage2_size`` S2 are powers of two, S1 >= 16, S2 > S1.
- Stage-I generator: log2(S1 / 4) up blocks, keys ``upsample1`` ... (at 32: ``upsample1..3``,
  a subset of the reference's keys; widths still halve from 8 gf_dim, so ``img`` takes gf_dim).
- Discriminators: the image enters the reference's ``encode_img`` at the layer that takes its
  resolution and the earlier stride-2 convolutions are dropped (at 32, stage I starts with the
  reference's ndf -> 2ndf convolution, taking ``channels`` instead of ndf; at 64, stage II
  starts with its 2ndf -> 4ndf one); the ``nn.Sequential`` is numbered from 0 again, the first
  convolution has no BN as in the reference, and the encoder still ends at 8ndf x 4 x 4.
- Stage-II generator: the encoder quarters S1 as in the reference, and log2(S2 / (S1 / 4))
  up blocks follow (reference 64 -> 16 -> 256: 4 blocks; ours 32 -> 8 -> 64: 3 blocks, keys
  ``upsample1..3``, widths 4ngf -> 2ngf -> ngf -> ngf/2 and ``img`` from the last).

Init: ``weights_init`` (the reference's): Conv and Linear weights N(0, 0.02), Linear biases 0,
BatchNorm weights N(1, 0.02) and biases 0; ``zoo_stackgan.model.StackGAN`` applies it as the
reference's trainer does (G built and initialised, then D).

Example:
    >>> g = Stage1Generator(image_size=32, channels=1, gf_dim=8)
    >>> _, images, mu, logvar = g(torch.randn(4, 1024), torch.randn(4, 100))
    >>> images.shape, mu.shape
    (torch.Size([4, 1, 32, 32]), torch.Size([4, 128]))
"""

from __future__ import annotations

import itertools
import math

import torch
from torch import nn

from zoo_core import ZooError
from zoo_core.layers.init import dcgan_weights_init

__all__ = [
    "CANet",
    "DiscriminatorLogits",
    "ResBlock",
    "Stage1Discriminator",
    "Stage1Generator",
    "Stage2Discriminator",
    "Stage2Generator",
    "check_sizes",
    "conv3x3",
    "up_block",
    "weights_init",
]


#: the reference's ``weights_init``, shared with the other DCGAN-style plugins
weights_init = dcgan_weights_init


def _power_of_two(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0 and value & (value - 1) == 0


def check_sizes(stage1_size: int, stage2_size: int | None = None) -> tuple[int, int]:
    """The number of stage-I up blocks, and of stage-II up blocks (0 without ``stage2_size``); or one sentence.

    Example:
        >>> check_sizes(64, 256), check_sizes(32, 64)
        ((4, 4), (3, 3))
    """
    if not _power_of_two(stage1_size) or stage1_size < 16:
        raise ZooError(f"StackGAN stage1_size must be a power of two of at least 16 (32, 64 ...), not {stage1_size!r}.")
    blocks1 = int(math.log2(stage1_size)) - 2
    if stage2_size is None:
        return blocks1, 0
    if not _power_of_two(stage2_size) or stage2_size <= stage1_size:
        raise ZooError(
            f"StackGAN stage2_size must be a power of two larger than stage1_size={stage1_size} "
            f"(the reference: 64 -> 256; ours: 32 -> 64), not {stage2_size!r}."
        )
    return blocks1, int(math.log2(stage2_size // (stage1_size // 4)))


def _width(value: float, what: str) -> int:
    if value < 1 or value != int(value):
        raise ZooError(f"StackGAN {what} would have {value:g} channels; pick gf_dim / df_dim divisible by more twos.")
    return int(value)


def conv3x3(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    """The reference's ``conv3x3``: 3x3, padding 1, no bias."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=1, bias=False)


def up_block(in_planes: int, out_planes: int) -> nn.Sequential:
    """The reference's ``upBlock``: ``0`` nearest x2, ``1`` conv3x3, ``2`` BatchNorm, ``3`` ReLU."""
    return nn.Sequential(
        nn.Upsample(scale_factor=2, mode="nearest"),
        conv3x3(in_planes, out_planes),
        nn.BatchNorm2d(out_planes),
        nn.ReLU(True),
    )


class ResBlock(nn.Module):
    """The reference's ``ResBlock``: ``block`` = conv3x3, BN, ReLU, conv3x3, BN; added to the input; ReLU."""

    def __init__(self, channel_num: int) -> None:
        super().__init__()
        self.block = nn.Sequential(
            conv3x3(channel_num, channel_num),
            nn.BatchNorm2d(channel_num),
            nn.ReLU(True),
            conv3x3(channel_num, channel_num),
            nn.BatchNorm2d(channel_num),
        )
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.block(x) + x)


class CANet(nn.Module):
    """Conditioning augmentation (``CA_NET``): a text embedding to (c, mu, logvar).

    ``fc`` is Linear(text_dim, 2 x condition_dim) with a bias; the ReLU acts on its whole output
    *before* the split into mu (first half) and logvar (second half), as in the reference (so
    logvar >= 0 and sigma >= 1). ``eps`` (``(N, condition_dim)``) may be given; otherwise it is
    drawn from torch's global generator, as the reference's ``normal_()`` does.

    Example:
        >>> c, mu, logvar = CANet(1024, 128)(torch.randn(2, 1024))
        >>> c.shape, bool((logvar >= 0).all())
        (torch.Size([2, 128]), True)
    """

    def __init__(self, text_dim: int = 1024, condition_dim: int = 128) -> None:
        super().__init__()
        self.t_dim = text_dim
        self.c_dim = condition_dim
        self.fc = nn.Linear(text_dim, condition_dim * 2, bias=True)
        self.relu = nn.ReLU()

    def encode(self, text_embedding: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.relu(self.fc(text_embedding))
        return x[:, : self.c_dim], x[:, self.c_dim :]

    def reparametrize(self, mu: torch.Tensor, logvar: torch.Tensor, eps: torch.Tensor | None = None) -> torch.Tensor:
        std = logvar.mul(0.5).exp()
        if eps is None:
            eps = torch.randn_like(std)
        return eps.to(std) * std + mu

    def forward(
        self, text_embedding: torch.Tensor, eps: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mu, logvar = self.encode(text_embedding)
        return self.reparametrize(mu, logvar, eps), mu, logvar


class DiscriminatorLogits(nn.Module):
    """The reference's ``D_GET_LOGITS``: 8ndf x 4 x 4 image features (and c) to ``(N,)`` probabilities.

    Conditional (``bcondition``): c replicated 4x4 and concatenated to the features, then
    ``outlogits`` = conv3x3 (8ndf + c -> 8ndf), BN, LeakyReLU(0.2), Conv(8ndf -> 1, 4, stride 4),
    Sigmoid. Unconditional: Conv(8ndf -> 1, 4, stride 4), Sigmoid.
    """

    def __init__(self, ndf: int, nef: int, bcondition: bool = True) -> None:
        super().__init__()
        self.df_dim = ndf
        self.ef_dim = nef
        self.bcondition = bcondition
        if bcondition:
            self.outlogits = nn.Sequential(
                conv3x3(ndf * 8 + nef, ndf * 8),
                nn.BatchNorm2d(ndf * 8),
                nn.LeakyReLU(0.2, inplace=True),
                nn.Conv2d(ndf * 8, 1, kernel_size=4, stride=4),
                nn.Sigmoid(),
            )
        else:
            self.outlogits = nn.Sequential(nn.Conv2d(ndf * 8, 1, kernel_size=4, stride=4), nn.Sigmoid())

    def forward(self, h_code: torch.Tensor, c_code: torch.Tensor | None = None) -> torch.Tensor:
        if self.bcondition and c_code is not None:
            c_code = c_code.view(-1, self.ef_dim, 1, 1).repeat(1, 1, h_code.shape[2], h_code.shape[3])
            h_code = torch.cat((h_code, c_code), 1)
        return self.outlogits(h_code).view(-1)


def _image_encoder(channels: int, ndf: int, image_size: int, reference_convs: int, tail: int) -> nn.Sequential:
    """``encode_img``: Conv(4, 2, 1) down to 4x4 (the reference's last log2(S/4) of ``reference_convs``), then
    ``tail`` conv3x3 blocks halving the width down to 8ndf (stage II's)."""
    convs = int(math.log2(image_size)) - 2
    skipped = reference_convs - convs
    widths = [_width(ndf * 2 ** (i + skipped), "discriminator") for i in range(convs)]
    layers: list[nn.Module] = [nn.Conv2d(channels, widths[0], 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True)]
    for before, after in itertools.pairwise(widths):
        layers += [
            nn.Conv2d(before, after, 4, 2, 1, bias=False),
            nn.BatchNorm2d(after),
            nn.LeakyReLU(0.2, inplace=True),
        ]
    width = widths[-1]
    for _ in range(tail):
        layers += [conv3x3(width, width // 2), nn.BatchNorm2d(width // 2), nn.LeakyReLU(0.2, inplace=True)]
        width //= 2
    if width != ndf * 8:
        raise ZooError(f"The StackGAN discriminator for {image_size}x{image_size} would end at {width} channels.")
    return nn.Sequential(*layers)


class Stage1Generator(nn.Module):
    """``STAGE1_G``: (text embedding, noise) to ``(None, image in [-1, 1], mu, logvar)`` as the reference returns.

    ``eps`` is the conditioning augmentation's noise (drawn from the global generator when None).

    Example:
        >>> _, images, _, _ = Stage1Generator()(torch.randn(2, 1024), torch.randn(2, 100))
        >>> images.shape
        torch.Size([2, 3, 64, 64])
    """

    def __init__(
        self,
        *,
        z_dim: int = 100,
        condition_dim: int = 128,
        text_dim: int = 1024,
        gf_dim: int = 192,
        channels: int = 3,
        image_size: int = 64,
    ) -> None:
        super().__init__()
        blocks, _ = check_sizes(image_size)
        self.gf_dim = gf_dim * 8
        self.ef_dim = condition_dim
        self.z_dim = z_dim
        self.image_size = image_size
        ngf = self.gf_dim
        self.ca_net = CANet(text_dim, condition_dim)
        self.fc = nn.Sequential(
            nn.Linear(z_dim + condition_dim, ngf * 4 * 4, bias=False), nn.BatchNorm1d(ngf * 4 * 4), nn.ReLU(True)
        )
        self.num_upsample = blocks
        for i in range(1, blocks + 1):
            self.add_module(
                f"upsample{i}", up_block(_width(ngf / 2 ** (i - 1), "generator"), _width(ngf / 2**i, "generator"))
            )
        self.img = nn.Sequential(conv3x3(ngf // 2**blocks, channels), nn.Tanh())

    def forward(
        self, text_embedding: torch.Tensor, noise: torch.Tensor, eps: torch.Tensor | None = None
    ) -> tuple[None, torch.Tensor, torch.Tensor, torch.Tensor]:
        c_code, mu, logvar = self.ca_net(text_embedding, eps)
        h_code = self.fc(torch.cat((noise, c_code), 1)).view(-1, self.gf_dim, 4, 4)
        for i in range(1, self.num_upsample + 1):
            h_code = getattr(self, f"upsample{i}")(h_code)
        return None, self.img(h_code), mu, logvar


class Stage1Discriminator(nn.Module):
    """``STAGE1_D``: ``forward`` gives the 8ndf x 4 x 4 image features; ``get_cond_logits`` scores them with c.

    Example:
        >>> d = Stage1Discriminator()
        >>> d.get_cond_logits(d(torch.randn(2, 3, 64, 64)), torch.randn(2, 128)).shape
        torch.Size([2])
    """

    def __init__(self, *, df_dim: int = 96, condition_dim: int = 128, channels: int = 3, image_size: int = 64) -> None:
        super().__init__()
        check_sizes(image_size)
        self.df_dim = df_dim
        self.ef_dim = condition_dim
        self.encode_img = _image_encoder(channels, df_dim, image_size, reference_convs=4, tail=0)
        self.get_cond_logits = DiscriminatorLogits(df_dim, condition_dim)
        self.get_uncond_logits = None

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.encode_img(image)


class Stage2Generator(nn.Module):
    """``STAGE2_G``: refines a frozen stage-I generator's image, returning ``(stage-I image, image, mu, logvar)``.

    The stage-I generator's parameters have ``requires_grad=False`` (the reference's freeze);
    beyond the reference, it also stays in eval mode when this module is put in train mode, so
    its BatchNorm running statistics are those it was trained with and its images during
    stage-II training are those it draws at test time (the reference leaves its BatchNorm in
    train mode: batch statistics, and running statistics that drift). ``stage1_eps`` is the
    stage-I CA's noise, ``eps`` this stage's (each drawn from the global generator when None);
    the stage-I image is computed without gradients (the reference detaches it).

    Example:
        >>> g = Stage2Generator(Stage1Generator(gf_dim=8, channels=1, image_size=32), gf_dim=8, channels=1,
        ...                     stage1_size=32, image_size=64)
        >>> g(torch.randn(2, 1024), torch.randn(2, 100))[1].shape
        torch.Size([2, 1, 64, 64])
    """

    def __init__(
        self,
        stage1: Stage1Generator,
        *,
        gf_dim: int = 192,
        condition_dim: int = 128,
        text_dim: int = 1024,
        r_num: int = 2,
        channels: int = 3,
        stage1_size: int = 64,
        image_size: int = 256,
    ) -> None:
        super().__init__()
        _, blocks = check_sizes(stage1_size, image_size)
        self.gf_dim = gf_dim
        self.ef_dim = condition_dim
        self.STAGE1_G = stage1
        for param in self.STAGE1_G.parameters():
            param.requires_grad = False
        ngf = gf_dim
        self.ca_net = CANet(text_dim, condition_dim)
        self.encoder = nn.Sequential(
            conv3x3(channels, ngf),
            nn.ReLU(True),
            nn.Conv2d(ngf, ngf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            nn.Conv2d(ngf * 2, ngf * 4, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 4),
            nn.ReLU(True),
        )
        self.hr_joint = nn.Sequential(conv3x3(condition_dim + ngf * 4, ngf * 4), nn.BatchNorm2d(ngf * 4), nn.ReLU(True))
        self.residual = nn.Sequential(*[ResBlock(ngf * 4) for _ in range(r_num)])
        self.num_upsample = blocks
        for i in range(1, blocks + 1):
            self.add_module(
                f"upsample{i}",
                up_block(_width(ngf * 4 / 2 ** (i - 1), "generator"), _width(ngf * 4 / 2**i, "generator")),
            )
        self.img = nn.Sequential(conv3x3(_width(ngf * 4 / 2**blocks, "generator"), channels), nn.Tanh())

    def train(self, mode: bool = True) -> Stage2Generator:
        super().train(mode)
        self.STAGE1_G.eval()  # frozen: see the class docstring
        return self

    def forward(
        self,
        text_embedding: torch.Tensor,
        noise: torch.Tensor,
        eps: torch.Tensor | None = None,
        stage1_eps: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        with torch.no_grad():
            _, stage1_img, _, _ = self.STAGE1_G(text_embedding, noise, stage1_eps)
        stage1_img = stage1_img.detach()
        encoded_img = self.encoder(stage1_img)
        c_code, mu, logvar = self.ca_net(text_embedding, eps)
        c_code = c_code.view(-1, self.ef_dim, 1, 1).repeat(1, 1, encoded_img.shape[2], encoded_img.shape[3])
        h_code = self.residual(self.hr_joint(torch.cat([encoded_img, c_code], 1)))
        for i in range(1, self.num_upsample + 1):
            h_code = getattr(self, f"upsample{i}")(h_code)
        return stage1_img, self.img(h_code), mu, logvar


class Stage2Discriminator(nn.Module):
    """``STAGE2_D``: image features (8ndf x 4 x 4) with a conditional and an unconditional logits head.

    Example:
        >>> d = Stage2Discriminator(df_dim=8, channels=1, image_size=64)
        >>> h = d(torch.randn(2, 1, 64, 64))
        >>> d.get_cond_logits(h, torch.randn(2, 128)).shape, d.get_uncond_logits(h).shape
        (torch.Size([2]), torch.Size([2]))
    """

    def __init__(self, *, df_dim: int = 96, condition_dim: int = 128, channels: int = 3, image_size: int = 256) -> None:
        super().__init__()
        if not _power_of_two(image_size) or image_size < 16:
            raise ZooError(f"StackGAN stage2_size must be a power of two of at least 16, not {image_size!r}.")
        self.df_dim = df_dim
        self.ef_dim = condition_dim
        self.encode_img = _image_encoder(channels, df_dim, image_size, reference_convs=6, tail=2)
        self.get_cond_logits = DiscriminatorLogits(df_dim, condition_dim, bcondition=True)
        self.get_uncond_logits = DiscriminatorLogits(df_dim, condition_dim, bcondition=False)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.encode_img(image)
