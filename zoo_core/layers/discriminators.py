"""``NLayerDiscriminator`` (PatchGAN) and ``PixelDiscriminator`` of junyanz's ``models/networks.py``.

``NLayerDiscriminator`` with ``n_layers=3`` is the 70x70 PatchGAN both papers use (``netD="basic"``):
it maps an image to a grid of logits, one per overlapping 70x70 patch (30x30 for 256x256). Its
``nn.Sequential`` ``model``, as the reference numbers it::

    0 Conv4 s2(in, ndf) with bias      1 LeakyReLU 0.2
    2 Conv4 s2(ndf, 2ndf)   3 Norm     4 LeakyReLU 0.2
    5 Conv4 s2(2ndf, 4ndf)  6 Norm     7 LeakyReLU 0.2
    8 Conv4 s1(4ndf, 8ndf)  9 Norm     10 LeakyReLU 0.2
    11 Conv4 s1(8ndf, 1) with bias

Other ``n_layers`` add or drop stride-2 blocks (channels ``ndf * min(2**n, 8)``). Convolutions
before a norm have a bias only for InstanceNorm. No sigmoid: the losses take logits
(``GANLoss("vanilla")`` uses ``BCEWithLogitsLoss``), as the reference since it dropped ``use_sigmoid``.

``PixelDiscriminator`` (``netD="pixel"``, a 1x1 PatchGAN) classifies each pixel:
``net`` = ``0`` Conv1(in, ndf) with bias, ``1`` LeakyReLU, ``2`` Conv1(ndf, 2ndf), ``3`` Norm,
``4`` LeakyReLU, ``5`` Conv1(2ndf, 1); ``2`` and ``5`` have a bias only for InstanceNorm (the
reference applies its ``use_bias`` rule to the last layer too).

Example:
    >>> d = NLayerDiscriminator(6, ndf=64, n_layers=3, norm="batch")  # pix2pix: D sees (input, output)
    >>> d(torch.randn(1, 6, 256, 256)).shape
    torch.Size([1, 1, 30, 30])
"""

from __future__ import annotations

import torch
from torch import nn

from .._errors import ZooError
from .norms import NormLayer, resolve_norm

__all__ = ["NLayerDiscriminator", "PixelDiscriminator"]


class NLayerDiscriminator(nn.Module):
    """The reference's PatchGAN: ``(N, input_nc, H, W)`` images to ``(N, 1, H', W')`` logits.

    Example:
        >>> d = NLayerDiscriminator(3, ndf=64, n_layers=3, norm="batch")
        >>> sorted({k.rsplit(".", 1)[0] for k in d.state_dict()})
        ['model.0', 'model.11', 'model.2', 'model.3', 'model.5', 'model.6', 'model.8', 'model.9']
    """

    def __init__(self, input_nc: int, ndf: int = 64, n_layers: int = 3, norm: str | NormLayer = "batch") -> None:
        if n_layers < 0:
            raise ZooError(f"NLayerDiscriminator needs n_layers >= 0, not {n_layers}.")
        super().__init__()
        norm_layer, use_bias = resolve_norm(norm)
        kw, padw = 4, 1
        layers: list[nn.Module] = [
            nn.Conv2d(input_nc, ndf, kw, stride=2, padding=padw),
            nn.LeakyReLU(0.2, True),
        ]
        mult = 1
        for n in range(1, n_layers):
            prev, mult = mult, min(2**n, 8)
            layers += [
                nn.Conv2d(ndf * prev, ndf * mult, kw, stride=2, padding=padw, bias=use_bias),
                norm_layer(ndf * mult),
                nn.LeakyReLU(0.2, True),
            ]
        prev, mult = mult, min(2**n_layers, 8)
        layers += [
            nn.Conv2d(ndf * prev, ndf * mult, kw, stride=1, padding=padw, bias=use_bias),
            norm_layer(ndf * mult),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf * mult, 1, kw, stride=1, padding=padw),
        ]
        self.model = nn.Sequential(*layers)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return self.model(input)


class PixelDiscriminator(nn.Module):
    """The reference's 1x1 PatchGAN: ``(N, input_nc, H, W)`` to ``(N, 1, H, W)`` logits, one per pixel.

    Example:
        >>> PixelDiscriminator(3, ndf=64, norm="batch")(torch.randn(2, 3, 16, 16)).shape
        torch.Size([2, 1, 16, 16])
    """

    def __init__(self, input_nc: int, ndf: int = 64, norm: str | NormLayer = "batch") -> None:
        super().__init__()
        norm_layer, use_bias = resolve_norm(norm)
        self.net = nn.Sequential(
            nn.Conv2d(input_nc, ndf, 1, stride=1, padding=0),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf, ndf * 2, 1, stride=1, padding=0, bias=use_bias),
            norm_layer(ndf * 2),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf * 2, 1, 1, stride=1, padding=0, bias=use_bias),
        )

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return self.net(input)
