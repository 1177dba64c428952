"""The networks and losses of NVIDIA/pix2pixHD (``models/networks.py``, ``models/pix2pixHD_model.py``).

Module structure and attribute names follow the reference, so its ``latest_net_G.pth`` maps key
for key (behind our ``netG.`` prefix):

- ``GlobalGenerator`` (``--netG global``): ``model.N.*``. ReflectionPad 3, conv 7x7 to ``ngf``,
  norm, ReLU; ``n_downsampling`` stride-2 3x3 convs doubling the width; ``n_blocks`` residual
  blocks (``zoo_core.layers.ResnetBlock`` with a bias, as the reference's always has); as many
  transposed 3x3 convs halving it; ReflectionPad 3, conv 7x7 to ``output_nc``, tanh.
- ``LocalEnhancer`` (``--netG local``): ``model`` is a global generator ``ngf * 2**n_local_enhancers``
  wide without its last three layers (pad, conv, tanh); each enhancer ``n`` has ``model{n}_1``
  (pad 3, conv 7x7, norm, ReLU, stride-2 conv, norm, ReLU) and ``model{n}_2`` (``n_blocks_local``
  residual blocks, a transposed conv, norm, ReLU and, for the outermost, pad 3, conv 7x7, tanh).
  The input is average-pooled (3x3, stride 2, padding 1, padding not counted) once per enhancer;
  the global generator sees the coarsest copy and each enhancer adds its features to the
  previous level's output before its residual blocks.
- ``MultiscaleDiscriminator``: ``num_D`` PatchGANs (``NLayerDiscriminator``: 4x4 convs padded 2,
  LeakyReLU 0.2, widths doubling up to 512, a stride-1 layer, a 1-channel conv), the ``i``-th
  seeing the input average-pooled ``i`` times. With ``get_interm_feat`` (the reference's
  ``getIntermFeat``, on unless ``--no_ganFeat_loss``) each layer group is kept apart, as
  ``scale{s}_layer{j}.*`` (``s = num_D - 1`` is the full-resolution one), so that every
  intermediate feature map feeds the feature-matching loss; otherwise ``layer{s}.*`` holds one
  flat ``nn.Sequential``.

Initialisation is the reference's ``weights_init`` (``zoo_core.layers.dcgan_weights_init``: the
same rule): every ``Conv*`` weight N(0, 0.02) with PyTorch's default biases, BatchNorm weights
N(1, 0.02) and biases 0, applied after the whole network is built (the global generator's
discarded last layers included, so the random draws are the reference's).

Losses: ``multiscale_gan_loss`` (the reference's ``GANLoss`` on the last output of each scale,
summed; least squares by default, ``no_lsgan``: binary cross-entropy, here on logits: the
reference's sigmoid layer is never reached when ``getIntermFeat`` is on, the layer groups it
copies stop before it) and ``feature_matching_loss`` (``lambda_feat * sum_i sum_j 1/num_D *
4/(n_layers_D + 1) * L1(D_i^j(fake), D_i^j(real))`` over every intermediate feature of every
scale). Inputs: ``one_hot_labels`` (the reference's ``scatter_`` of a label map) and ``get_edges``
(a pixel is on an instance boundary when a 4-neighbour has another instance id).

Example:
    >>> g = LocalEnhancer(36, 3, ngf=32)  # the label2city_1024p generator
    >>> sorted({k.split(".")[0] for k in g.state_dict()})
    ['model', 'model1_1', 'model1_2']
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from zoo_core import ZooError
from zoo_core.layers import GANLoss, ResnetBlock, dcgan_weights_init, get_norm_layer

__all__ = [
    "NORMS",
    "GlobalGenerator",
    "LocalEnhancer",
    "MultiscaleDiscriminator",
    "NLayerDiscriminator",
    "feature_matching_loss",
    "get_edges",
    "input_pyramid_pool",
    "multiscale_gan_loss",
    "one_hot_labels",
]

#: the ``--norm`` values of the reference
NORMS = ("instance", "batch")


def _norm(norm: str) -> nn.Module:
    if norm not in NORMS:
        raise ZooError(f"Unknown pix2pixHD norm {norm!r}; choose one of {', '.join(NORMS)}.")
    return get_norm_layer(norm)


def input_pyramid_pool() -> nn.AvgPool2d:
    """The reference's ``downsample``: 3x3 average pooling, stride 2, padding 1 not counted in the mean.

    Example:
        >>> input_pyramid_pool()(torch.ones(1, 1, 8, 8)).shape
        torch.Size([1, 1, 4, 4])
    """
    return nn.AvgPool2d(3, stride=2, padding=[1, 1], count_include_pad=False)


def _global_layers(
    input_nc: int, output_nc: int, ngf: int, n_downsampling: int, n_blocks: int, norm: str
) -> list[nn.Module]:
    """The layers of the reference's ``GlobalGenerator.model``, in order (the last three: pad, conv 7x7, tanh)."""
    norm_layer = _norm(norm)
    layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(input_nc, ngf, 7), norm_layer(ngf), nn.ReLU(True)]
    for i in range(n_downsampling):
        width = ngf * 2**i
        layers += [nn.Conv2d(width, width * 2, 3, stride=2, padding=1), norm_layer(width * 2), nn.ReLU(True)]
    width = ngf * 2**n_downsampling
    layers += [ResnetBlock(width, "reflect", norm_layer, use_dropout=False, use_bias=True) for _ in range(n_blocks)]
    for i in range(n_downsampling):
        width = ngf * 2 ** (n_downsampling - i)
        layers += [
            nn.ConvTranspose2d(width, width // 2, 3, stride=2, padding=1, output_padding=1),
            norm_layer(width // 2),
            nn.ReLU(True),
        ]
    layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, output_nc, 7), nn.Tanh()]
    return layers


class GlobalGenerator(nn.Module):
    """The reference's ``GlobalGenerator`` (``--netG global``): ``(N, input_nc, H, W)`` to ``(N, output_nc, H, W)``.

    ``H`` and ``W`` must be multiples of ``2**n_downsampling``. Initialised as the reference.

    Example:
        >>> g = GlobalGenerator(1, 3, ngf=4, n_downsampling=2, n_blocks=1)
        >>> g(torch.zeros(2, 1, 16, 16)).shape
        torch.Size([2, 3, 16, 16])
    """

    def __init__(
        self,
        input_nc: int,
        output_nc: int,
        ngf: int = 64,
        n_downsampling: int = 3,
        n_blocks: int = 9,
        norm: str = "instance",
        *,
        init: bool = True,
    ) -> None:
        super().__init__()
        self.model = nn.Sequential(*_global_layers(input_nc, output_nc, ngf, n_downsampling, n_blocks, norm))
        if init:
            self.apply(dcgan_weights_init)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class LocalEnhancer(nn.Module):
    """The reference's ``LocalEnhancer`` (``--netG local``): a global generator at ``1/2**n_local_enhancers`` scale
    and ``n_local_enhancers`` enhancers on top, each doubling the resolution.

    ``ngf`` is the outermost enhancer's width (32 for ``label2city_1024p``); the global generator is
    ``ngf * 2**n_local_enhancers`` wide. Sides must be multiples of ``2**(n_downsample_global + n_local_enhancers)``.

    Example:
        >>> g = LocalEnhancer(1, 3, ngf=4, n_downsample_global=2, n_blocks_global=1, n_blocks_local=1)
        >>> g(torch.zeros(1, 1, 32, 32)).shape
        torch.Size([1, 3, 32, 32])
    """

    def __init__(
        self,
        input_nc: int,
        output_nc: int,
        ngf: int = 32,
        n_downsample_global: int = 3,
        n_blocks_global: int = 9,
        n_local_enhancers: int = 1,
        n_blocks_local: int = 3,
        norm: str = "instance",
        *,
        init: bool = True,
    ) -> None:
        super().__init__()
        self.n_local_enhancers = n_local_enhancers
        norm_layer = _norm(norm)
        layers = _global_layers(
            input_nc, output_nc, ngf * 2**n_local_enhancers, n_downsample_global, n_blocks_global, norm
        )
        self.model = nn.Sequential(*layers[:-3])  # built whole and cut, as the reference (same random draws)
        for n in range(1, n_local_enhancers + 1):
            width = ngf * 2 ** (n_local_enhancers - n)
            down = [
                nn.ReflectionPad2d(3),
                nn.Conv2d(input_nc, width, 7),
                norm_layer(width),
                nn.ReLU(True),
                nn.Conv2d(width, width * 2, 3, stride=2, padding=1),
                norm_layer(width * 2),
                nn.ReLU(True),
            ]
            up: list[nn.Module] = [
                ResnetBlock(width * 2, "reflect", norm_layer, use_dropout=False, use_bias=True)
                for _ in range(n_blocks_local)
            ]
            up += [
                nn.ConvTranspose2d(width * 2, width, 3, stride=2, padding=1, output_padding=1),
                norm_layer(width),
                nn.ReLU(True),
            ]
            if n == n_local_enhancers:
                up += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, output_nc, 7), nn.Tanh()]
            setattr(self, f"model{n}_1", nn.Sequential(*down))
            setattr(self, f"model{n}_2", nn.Sequential(*up))
        self.downsample = input_pyramid_pool()
        if init:
            self.apply(dcgan_weights_init)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pyramid = [x]
        for _ in range(self.n_local_enhancers):
            pyramid.append(self.downsample(pyramid[-1]))
        out = self.model(pyramid[-1])
        for n in range(1, self.n_local_enhancers + 1):
            level = pyramid[self.n_local_enhancers - n]
            out = getattr(self, f"model{n}_2")(getattr(self, f"model{n}_1")(level) + out)
        return out


class NLayerDiscriminator(nn.Module):
    """The reference's PatchGAN (``NLayerDiscriminator``): ``n_layers + 2`` layer groups, 4x4 convs padded 2.

    With ``get_interm_feat`` the groups are ``model0`` ... ``model{n_layers+1}`` and ``forward`` returns
    every group's output; otherwise one ``model`` and ``forward`` returns the logits. ``use_sigmoid``
    appends the reference's sigmoid (no parameters; with ``get_interm_feat`` the reference never runs it).

    Example:
        >>> d = NLayerDiscriminator(4, ndf=8, n_layers=2, get_interm_feat=True)
        >>> [f.shape[1] for f in d(torch.zeros(1, 4, 32, 32))]
        [8, 16, 32, 1]
    """

    def __init__(
        self,
        input_nc: int,
        ndf: int = 64,
        n_layers: int = 3,
        norm: str = "instance",
        use_sigmoid: bool = False,
        get_interm_feat: bool = False,
    ) -> None:
        super().__init__()
        self.get_interm_feat, self.n_layers = get_interm_feat, n_layers
        norm_layer = _norm(norm)
        groups: list[list[nn.Module]] = [[nn.Conv2d(input_nc, ndf, 4, stride=2, padding=2), nn.LeakyReLU(0.2, True)]]
        width = ndf
        for _ in range(1, n_layers):
            previous, width = width, min(width * 2, 512)
            groups.append(
                [nn.Conv2d(previous, width, 4, stride=2, padding=2), norm_layer(width), nn.LeakyReLU(0.2, True)]
            )
        previous, width = width, min(width * 2, 512)
        groups.append([nn.Conv2d(previous, width, 4, stride=1, padding=2), norm_layer(width), nn.LeakyReLU(0.2, True)])
        groups.append([nn.Conv2d(width, 1, 4, stride=1, padding=2)])
        if use_sigmoid:
            groups.append([nn.Sigmoid()])
        if get_interm_feat:
            for n, group in enumerate(groups):
                setattr(self, f"model{n}", nn.Sequential(*group))
        else:
            self.model = nn.Sequential(*[layer for group in groups for layer in group])

    def forward(self, x: torch.Tensor) -> torch.Tensor | list[torch.Tensor]:
        if not self.get_interm_feat:
            return self.model(x)
        features = [x]
        for n in range(self.n_layers + 2):
            features.append(getattr(self, f"model{n}")(features[-1]))
        return features[1:]


class MultiscaleDiscriminator(nn.Module):
    """The reference's ``MultiscaleDiscriminator``: ``num_D`` PatchGANs on an average-pooled input pyramid.

    ``forward`` returns, per scale from the full resolution down, the list of that PatchGAN's
    outputs (every layer group's with ``get_interm_feat``, else the logits alone); the last item
    of each list is its logit map.

    Example:
        >>> d = MultiscaleDiscriminator(4, ndf=8, n_layers=2, num_D=3, get_interm_feat=True)
        >>> [out[-1].shape[-1] for out in d(torch.zeros(1, 4, 64, 64))]
        [19, 11, 7]
    """

    def __init__(
        self,
        input_nc: int,
        ndf: int = 64,
        n_layers: int = 3,
        norm: str = "instance",
        use_sigmoid: bool = False,
        num_D: int = 3,
        get_interm_feat: bool = False,
        *,
        init: bool = True,
    ) -> None:
        super().__init__()
        self.num_D, self.n_layers, self.get_interm_feat = num_D, n_layers, get_interm_feat
        for i in range(num_D):
            net = NLayerDiscriminator(input_nc, ndf, n_layers, norm, use_sigmoid, get_interm_feat)
            if get_interm_feat:
                for j in range(n_layers + 2):
                    setattr(self, f"scale{i}_layer{j}", getattr(net, f"model{j}"))
            else:
                setattr(self, f"layer{i}", net.model)
        self.downsample = input_pyramid_pool()
        if init:
            self.apply(dcgan_weights_init)

    def _one_scale(self, scale: int, x: torch.Tensor) -> list[torch.Tensor]:
        if not self.get_interm_feat:
            return [getattr(self, f"layer{scale}")(x)]
        features = [x]
        for j in range(self.n_layers + 2):
            features.append(getattr(self, f"scale{scale}_layer{j}")(features[-1]))
        return features[1:]

    def forward(self, x: torch.Tensor) -> list[list[torch.Tensor]]:
        result = []
        for i in range(self.num_D):
            result.append(self._one_scale(self.num_D - 1 - i, x))
            if i != self.num_D - 1:
                x = self.downsample(x)
        return result


def multiscale_gan_loss(criterion: GANLoss, predictions: Sequence[Sequence[torch.Tensor]], real: bool) -> torch.Tensor:
    """The reference's ``GANLoss`` on a multiscale discriminator's output: ``criterion`` on each scale's logits, summed.

    Example:
        >>> multiscale_gan_loss(GANLoss("lsgan"), [[torch.ones(1, 1, 2, 2)], [torch.zeros(1, 1, 1, 1)]], True)
        tensor(1.)
    """
    return torch.stack([criterion(scale[-1].float(), real) for scale in predictions]).sum()


def feature_matching_loss(
    pred_fake: Sequence[Sequence[torch.Tensor]],
    pred_real: Sequence[Sequence[torch.Tensor]],
    n_layers_D: int,
    lambda_feat: float = 10.0,
) -> torch.Tensor:
    """pix2pixHD's discriminator feature-matching loss (``loss_G_GAN_Feat``).

    ``lambda_feat * sum over scales i, over features j but the last (the logits), of
    1/num_D * 4/(n_layers_D + 1) * mean |fake_ij - real_ij|``, the real features detached.

    Example:
        >>> fake = [[torch.ones(1, 2, 2, 2), torch.zeros(1, 1, 1, 1)]]
        >>> real = [[torch.zeros(1, 2, 2, 2), torch.zeros(1, 1, 1, 1)]]
        >>> feature_matching_loss(fake, real, n_layers_D=3)  # 10 * 1 * 4/4 * 1
        tensor(10.)
    """
    num_d = len(pred_fake)
    feat_weight, d_weight = 4.0 / (n_layers_D + 1), 1.0 / num_d
    loss = torch.zeros((), device=pred_fake[0][-1].device)
    for fake_scale, real_scale in zip(pred_fake, pred_real, strict=True):
        for fake, real in zip(fake_scale[:-1], real_scale[:-1], strict=True):
            loss = loss + d_weight * feat_weight * F.l1_loss(fake.float(), real.detach().float()) * lambda_feat
    return loss


def get_edges(instances: torch.Tensor) -> torch.Tensor:
    """The reference's ``get_edges``: 1 where a pixel's right, left, lower or upper neighbour has another instance id.

    ``instances``: ``(N, 1, H, W)`` instance ids (any dtype); returns ``(N, 1, H, W)`` floats, 0 or 1.

    Example:
        >>> get_edges(torch.tensor([[[[1, 1, 2]]]]))
        tensor([[[[0., 1., 1.]]]])
    """
    edge = torch.zeros(instances.shape, dtype=torch.bool, device=instances.device)
    horizontal = instances[..., :, 1:] != instances[..., :, :-1]
    vertical = instances[..., 1:, :] != instances[..., :-1, :]
    edge[..., :, 1:] |= horizontal
    edge[..., :, :-1] |= horizontal
    edge[..., 1:, :] |= vertical
    edge[..., :-1, :] |= vertical
    return edge.float()


def one_hot_labels(labels: torch.Tensor, label_nc: int) -> torch.Tensor:
    """The reference's one-hot input: ``(N, 1, H, W)`` integer label ids to ``(N, label_nc, H, W)`` floats.

    Ids outside ``[0, label_nc)`` are refused in one sentence (the reference's ``scatter_`` would fail or write
    out of bounds).

    Example:
        >>> one_hot_labels(torch.tensor([[[[0, 2]]]]), 3)[0, :, 0]
        tensor([[1., 0.],
                [0., 0.],
                [0., 1.]])
    """
    ids = labels.long()
    if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= label_nc):
        raise ZooError(
            f"The label map holds ids from {int(ids.min())} to {int(ids.max())}, but this pix2pixHD model knows "
            f"{label_nc} labels (0 to {label_nc - 1}); pass a label map of its label set."
        )
    out = torch.zeros(ids.shape[0], label_nc, *ids.shape[2:], device=ids.device)
    return out.scatter_(1, ids, 1.0)
