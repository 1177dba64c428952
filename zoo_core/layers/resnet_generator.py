"""``ResnetGenerator`` and ``ResnetBlock`` of junyanz's ``models/networks.py`` (CycleGAN's generator).

Johnson et al.'s image-transformation network: a 7x7 stem, two stride-2 downsamplings,
``n_blocks`` residual blocks at 4 ``ngf`` channels, two stride-2 transposed convolutions and a
7x7 head with Tanh. Everything sits in one ``nn.Sequential`` called ``model``, numbered as the
reference numbers it, so the reference's state dicts load with ``strict=True``
(``resnet_9blocks``, ``norm="instance"``: 48 tensors, 11,378,179 parameters)::

    0 ReflectionPad2d(3)   1 Conv7(in, ngf)          2 Norm  3 ReLU
    4 Conv3 s2(ngf, 2ngf)  5 Norm  6 ReLU
    7 Conv3 s2(2ngf, 4ngf) 8 Norm  9 ReLU
    10 ... 9+n_blocks      ResnetBlock(4ngf)
    then ConvT3 s2 op1(4ngf, 2ngf) Norm ReLU, ConvT3 s2 op1(2ngf, ngf) Norm ReLU,
    ReflectionPad2d(3), Conv7(ngf, out) (always with bias), Tanh

With 9 blocks the transposed convolutions are ``model.19`` and ``model.22`` and the head is
``model.26``. Convolutions before a norm have a bias only for InstanceNorm (``norms.norm_uses_bias``).

A ``ResnetBlock`` is ``x + conv_block(x)`` with ``conv_block`` =
``[pad, Conv3(dim, dim), Norm, ReLU, (Dropout 0.5), pad, Conv3(dim, dim), Norm]``; with
``padding_type="reflect"`` (the default) ``pad`` is ``ReflectionPad2d(1)``, ``"replicate"`` uses
``ReplicationPad2d(1)`` and ``"zero"`` puts ``padding=1`` in the convolutions instead (no pad
layer, so the indices shift). The convolutions are ``conv_block.1`` / ``conv_block.5``
(``conv_block.1`` / ``conv_block.6`` with dropout).

Example:
    >>> g = ResnetGenerator(3, 3, ngf=64, norm="instance", n_blocks=9)
    >>> sum(p.numel() for p in g.parameters())
    11378179
    >>> g(torch.randn(1, 3, 64, 64)).shape
    torch.Size([1, 3, 64, 64])
"""

from __future__ import annotations

import torch
from torch import nn

from .._errors import ZooError
from .norms import NormLayer, resolve_norm

__all__ = ["PADDING_TYPES", "ResnetBlock", "ResnetGenerator"]

#: the ``padding_type`` values a ``ResnetBlock`` accepts
PADDING_TYPES = ("reflect", "replicate", "zero")


def _padding(padding_type: str) -> tuple[list[nn.Module], int]:
    """The pad layer (if any) and the convolution padding for ``padding_type``."""
    if padding_type == "reflect":
        return [nn.ReflectionPad2d(1)], 0
    if padding_type == "replicate":
        return [nn.ReplicationPad2d(1)], 0
    if padding_type == "zero":
        return [], 1
    raise ZooError(f"Unknown padding_type {padding_type!r}; choose one of {', '.join(PADDING_TYPES)}.")


class ResnetBlock(nn.Module):
    """The reference's residual block: ``x + conv_block(x)`` at ``dim`` channels.

    Example:
        >>> block = ResnetBlock(256, "reflect", get_norm_layer("instance"), use_dropout=False, use_bias=True)
        >>> [name for name, _ in block.named_parameters()]
        ['conv_block.1.weight', 'conv_block.1.bias', 'conv_block.5.weight', 'conv_block.5.bias']
    """

    def __init__(
        self,
        dim: int,
        padding_type: str = "reflect",
        norm_layer: NormLayer = nn.BatchNorm2d,
        use_dropout: bool = False,
        use_bias: bool = False,
    ) -> None:
        super().__init__()
        pad, p = _padding(padding_type)
        layers: list[nn.Module] = [
            *pad,
            nn.Conv2d(dim, dim, 3, padding=p, bias=use_bias),
            norm_layer(dim),
            nn.ReLU(True),
        ]
        if use_dropout:
            layers.append(nn.Dropout(0.5))
        pad, p = _padding(padding_type)
        layers += [*pad, nn.Conv2d(dim, dim, 3, padding=p, bias=use_bias), norm_layer(dim)]
        self.conv_block = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv_block(x)


class ResnetGenerator(nn.Module):
    """The reference's ``ResnetGenerator``: ``(N, input_nc, H, W)`` to ``(N, output_nc, H, W)`` in [-1, 1].

    ``H`` and ``W`` should be multiples of 4 (two stride-2 steps); ``resnet_9blocks`` is
    ``n_blocks=9``, ``resnet_6blocks`` ``n_blocks=6``. ``norm`` is a name of ``norms.NORM_TYPES``
    or a norm-layer factory. Weights keep PyTorch's default init; call ``init_weights`` (or use
    ``define_generator``) for the reference's N(0, 0.02).

    Example:
        >>> g = ResnetGenerator(3, 3, ngf=8, norm="instance", n_blocks=6)
        >>> g(torch.randn(2, 3, 32, 32)).shape
        torch.Size([2, 3, 32, 32])
    """

    def __init__(
        self,
        input_nc: int,
        output_nc: int,
        ngf: int = 64,
        norm: str | NormLayer = "batch",
        use_dropout: bool = False,
        n_blocks: int = 6,
        padding_type: str = "reflect",
    ) -> None:
        if n_blocks < 0:
            raise ZooError(f"ResnetGenerator needs n_blocks >= 0, not {n_blocks}.")
        super().__init__()
        self.input_nc, self.output_nc, self.ngf = input_nc, output_nc, ngf
        norm_layer, use_bias = resolve_norm(norm)
        model: list[nn.Module] = [
            nn.ReflectionPad2d(3),
            nn.Conv2d(input_nc, ngf, 7, padding=0, bias=use_bias),
            norm_layer(ngf),
            nn.ReLU(True),
        ]
        n_downsampling = 2
        for i in range(n_downsampling):
            c = ngf * 2**i
            model += [nn.Conv2d(c, 2 * c, 3, stride=2, padding=1, bias=use_bias), norm_layer(2 * c), nn.ReLU(True)]
        width = ngf * 2**n_downsampling
        model += [ResnetBlock(width, padding_type, norm_layer, use_dropout, use_bias) for _ in range(n_blocks)]
        for i in range(n_downsampling):
            c = ngf * 2 ** (n_downsampling - i)
            model += [
                nn.ConvTranspose2d(c, c // 2, 3, stride=2, padding=1, output_padding=1, bias=use_bias),
                norm_layer(c // 2),
                nn.ReLU(True),
            ]
        model += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, output_nc, 7, padding=0), nn.Tanh()]
        self.model = nn.Sequential(*model)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return self.model(input)
