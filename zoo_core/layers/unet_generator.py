"""``UnetGenerator`` and ``UnetSkipConnectionBlock`` of junyanz's ``models/networks.py`` (pix2pix's generator).

The U-Net is built from the inside out: each ``UnetSkipConnectionBlock`` wraps the block inside
it (``submodule``) between a stride-2 4x4 convolution down and a stride-2 4x4 transposed
convolution up, and returns ``cat([x, block(x)])`` (the outermost returns ``block(x)``). Every
block keeps its layers in an ``nn.Sequential`` called ``model``, so the keys nest as in the
reference: ``model.model.0.weight`` (outermost down), ``model.model.1.model.1.weight`` (the next
block's down), ``model.model.1.model.2.*`` (its norm) ... ``model.model.3.{weight,bias}``
(outermost up). A block's layers:

- outermost: ``0`` Conv4 s2(in, ngf), ``1`` submodule, ``2`` ReLU, ``3`` ConvT4 s2(2ngf, out) with bias, ``4`` Tanh;
- innermost: ``0`` LeakyReLU 0.2, ``1`` Conv4 s2, ``2`` ReLU, ``3`` ConvT4 s2, ``4`` Norm;
- others: ``0`` LeakyReLU 0.2, ``1`` Conv4 s2, ``2`` Norm, ``3`` submodule, ``4`` ReLU, ``5`` ConvT4 s2,
  ``6`` Norm, and ``7`` Dropout(0.5) when ``use_dropout``.

``UnetGenerator`` stacks ``num_downs`` blocks (``unet_256``: 8, ``unet_128``: 7): the innermost
at 8 ``ngf``, ``num_downs - 5`` more at 8 ``ngf`` (the ones that take dropout), then 8→4, 4→2,
2→1 ``ngf`` and the outermost. A ``2**num_downs`` image reaches 1x1 at the bottleneck.
The LeakyReLU that opens an inner block works in place (``inplace=True``, as the reference's),
so it also rewrites the block's input before ``cat`` reads it: the skip connection carries
``LeakyReLU(x)``. Harmless: the only reader of the concatenation is the ReLU that opens the
parent's up path, and ``ReLU(LeakyReLU(x)) == ReLU(x)`` (values and gradients).
Convolutions other than the outermost up have a bias only for InstanceNorm. ``unet_256`` with
batch norm has 82 state-dict tensors and 54,413,955 parameters (3 channels in and out).

Example:
    >>> g = UnetGenerator(3, 3, num_downs=8, ngf=64, norm="batch")
    >>> sum(p.numel() for p in g.parameters())
    54413955
    >>> next(iter(g.state_dict()))
    'model.model.0.weight'
"""

from __future__ import annotations

import torch
from torch import nn

from .._errors import ZooError
from .norms import NormLayer, resolve_norm

__all__ = ["UnetGenerator", "UnetSkipConnectionBlock"]


class UnetSkipConnectionBlock(nn.Module):
    """One level of the U-Net: ``x -> cat([x, up(submodule(down(x)))])`` (outermost: no concatenation).

    ``outer_nc`` is the channel count this level returns to (before the concatenation),
    ``inner_nc`` the count after its downsampling; ``input_nc`` defaults to ``outer_nc``.

    Example:
        >>> inner = UnetSkipConnectionBlock(16, 16, innermost=True)
        >>> inner(torch.randn(2, 16, 4, 4)).shape  # its input and its output, concatenated
        torch.Size([2, 32, 4, 4])
    """

    def __init__(
        self,
        outer_nc: int,
        inner_nc: int,
        input_nc: int | None = None,
        submodule: nn.Module | None = None,
        outermost: bool = False,
        innermost: bool = False,
        norm: str | NormLayer = "batch",
        use_dropout: bool = False,
    ) -> None:
        super().__init__()
        if outermost and innermost:
            raise ZooError("A U-Net block cannot be both the outermost and the innermost.")
        if submodule is None and not innermost:
            raise ZooError("Every U-Net block but the innermost wraps a submodule.")
        self.outermost = outermost
        norm_layer, use_bias = resolve_norm(norm)
        if input_nc is None:
            input_nc = outer_nc
        downconv = nn.Conv2d(input_nc, inner_nc, 4, stride=2, padding=1, bias=use_bias)
        if outermost:
            upconv = nn.ConvTranspose2d(inner_nc * 2, outer_nc, 4, stride=2, padding=1)
            layers = [downconv, submodule, nn.ReLU(True), upconv, nn.Tanh()]
        elif innermost:
            upconv = nn.ConvTranspose2d(inner_nc, outer_nc, 4, stride=2, padding=1, bias=use_bias)
            layers = [nn.LeakyReLU(0.2, True), downconv, nn.ReLU(True), upconv, norm_layer(outer_nc)]
        else:
            upconv = nn.ConvTranspose2d(inner_nc * 2, outer_nc, 4, stride=2, padding=1, bias=use_bias)
            layers = [
                nn.LeakyReLU(0.2, True),
                downconv,
                norm_layer(inner_nc),
                submodule,
                nn.ReLU(True),
                upconv,
                norm_layer(outer_nc),
            ]
            if use_dropout:
                layers.append(nn.Dropout(0.5))
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.outermost:
            return self.model(x)
        return torch.cat([x, self.model(x)], 1)


class UnetGenerator(nn.Module):
    """The reference's ``UnetGenerator``: ``(N, input_nc, H, W)`` to ``(N, output_nc, H, W)`` in [-1, 1].

    ``H`` and ``W`` must be multiples of ``2**num_downs`` (256 for ``unet_256``). ``norm`` is a
    name of ``norms.NORM_TYPES`` or a norm-layer factory. Weights keep PyTorch's default init;
    call ``init_weights`` (or use ``define_generator``) for the reference's N(0, 0.02).

    Example:
        >>> g = UnetGenerator(1, 3, num_downs=7, ngf=8)  # unet_128's depth, narrow
        >>> g(torch.randn(2, 1, 128, 128)).shape
        torch.Size([2, 3, 128, 128])
    """

    def __init__(
        self,
        input_nc: int,
        output_nc: int,
        num_downs: int,
        ngf: int = 64,
        norm: str | NormLayer = "batch",
        use_dropout: bool = False,
    ) -> None:
        if num_downs < 5:
            raise ZooError(f"UnetGenerator needs num_downs >= 5 (unet_128: 7, unet_256: 8), not {num_downs}.")
        super().__init__()
        self.input_nc, self.output_nc, self.num_downs, self.ngf = input_nc, output_nc, num_downs, ngf
        block = UnetSkipConnectionBlock(ngf * 8, ngf * 8, norm=norm, innermost=True)
        for _ in range(num_downs - 5):
            block = UnetSkipConnectionBlock(ngf * 8, ngf * 8, submodule=block, norm=norm, use_dropout=use_dropout)
        block = UnetSkipConnectionBlock(ngf * 4, ngf * 8, submodule=block, norm=norm)
        block = UnetSkipConnectionBlock(ngf * 2, ngf * 4, submodule=block, norm=norm)
        block = UnetSkipConnectionBlock(ngf, ngf * 2, submodule=block, norm=norm)
        self.model = UnetSkipConnectionBlock(
            output_nc, ngf, input_nc=input_nc, submodule=block, outermost=True, norm=norm
        )

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return self.model(input)
