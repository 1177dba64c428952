"""pix2pixHD (Wang et al. 2018) as NVIDIA/pix2pixHD's ``Pix2PixHDModel`` builds it: ``netG`` and, to train, ``netD``.

- ``netG``: ``global`` (``GlobalGenerator``) or ``local`` (``LocalEnhancer``: the global generator
  at half resolution and an enhancer at full resolution), keys those of the reference's
  ``latest_net_G.pth`` behind ``netG.`` (``netG.model.1.weight``, ``netG.model1_1.1.weight``,
  ``netG.model1_2.0.conv_block.1.weight`` ...).
- ``netD`` (``with_discriminator``): the multiscale discriminator (``num_D`` PatchGANs) on the
  input and the image concatenated, keys ``netD.scale{s}_layer{j}.*`` (``netD.layer{s}.*`` with
  ``no_ganFeat_loss``, as the reference lays it out then).

The input, as ``Pix2PixHDModel.encode_input`` makes it:

- ``label_nc > 0`` (the reference's label maps, e.g. Cityscapes' 35 ``labelIds``): ``translate``
  takes the label image as read from its 8-bit PNG, floats in [0, 1] whose ``x * 255`` are the
  label ids, one channel; the network sees their one-hot (``label_nc`` channels) and, unless
  ``no_instance``, the instance-boundary map (``get_edges``) of ``instances`` (``(N, 1, H, W)``
  instance ids, e.g. Cityscapes' ``instanceIds`` PNG as integers). Without ``instances`` the
  boundaries of the label map itself are used: in Cityscapes the instance id of every "stuff"
  pixel is its label id, so they differ only between touching objects of one class.
- ``label_nc == 0``: an image of ``input_nc`` channels mapped to [-1, 1] (the reference's
  ``--label_nc 0``), no instance map (``no_instance`` must be on: there is no instance input).
  ``color_space="lab"`` is pix2pix's colorization mapping (``zoo_pix2pix.color``): the network
  maps the L channel (``L / 50 - 1``) to a, b (``ab / 110``), so the model compares with
  ``pix2pix.colorize`` on equal terms.

Outputs are the tanh output mapped to [0, 1] (RGB for ``lab``: the input's lightness, the
predicted colour). Sides must be multiples of ``size_multiple`` (``2**n_downsample_global``,
times ``2**n_local_enhancers`` for ``local``); ``translate`` pads other sizes (reflection) and
crops back. The reference's feature encoder (``--instance_feat`` / ``--label_feat``) is not built.

Example:
    >>> model = Pix2PixHD(Pix2PixHDConfig(netG="local", label_nc=0, input_nc=1, no_instance=True, ngf=4,
    ...     n_downsample_global=2, n_blocks_global=1, n_blocks_local=1, ndf=4, num_D=2, image_size=32))
    >>> model.translate(torch.rand(2, 1, 40, 50)).shape
    torch.Size([2, 3, 40, 50])
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn
from zoo_pix2pix.color import from_network, to_network_input, to_network_target

from zoo_core import ZooError
from zoo_core.modeling import ImageTranslator, ModelConfig, ZooModel, check_translate_input
from zoo_core.translate import match_channels, pad_to_multiple

from .networks import NORMS, GlobalGenerator, LocalEnhancer, MultiscaleDiscriminator, get_edges, one_hot_labels

__all__ = ["COLOR_SPACES", "GENERATORS", "Pix2PixHD", "Pix2PixHDConfig"]

#: ``--netG`` values (the reference's ``encoder`` is not a generator of images)
GENERATORS = ("global", "local")
#: ``rgb``: images as they are; ``lab``: L in, a b out (pix2pix's colorization mapping)
COLOR_SPACES = ("rgb", "lab")


@dataclass
class Pix2PixHDConfig(ModelConfig):
    """pix2pixHD options, named and defaulted as the reference's (``base_options.py``, ``train_options.py``).

    ``image_size`` is the training crop side (the reference's ``--fineSize``); ``translate`` takes any
    size. ``no_ganFeat_loss`` changes the discriminator's key layout, so it lives here, as in the
    reference's ``define_D(..., getIntermFeat=not no_ganFeat_loss)``. ``with_discriminator=False``:
    the generator alone, what the published checkpoints are.

    Example:
        >>> Pix2PixHDConfig(netG="local", ngf=32, num_D=3)  # label2city_1024p
    """

    netG: str = "global"  # the reference's option names
    label_nc: int = field(default=35, metadata={"range": (0, 1024)})
    input_nc: int = 3
    output_nc: int = 3
    no_instance: bool = False
    ngf: int = 64
    n_downsample_global: int = field(default=4, metadata={"range": (0, 8)})
    n_blocks_global: int = field(default=9, metadata={"range": (0, 64)})
    n_local_enhancers: int = field(default=1, metadata={"range": (1, 4)})
    n_blocks_local: int = field(default=3, metadata={"range": (0, 64)})
    norm: str = "instance"
    ndf: int = 64
    n_layers_D: int = field(default=3, metadata={"range": (1, 8)})
    num_D: int = field(default=2, metadata={"range": (1, 6)})
    no_ganFeat_loss: bool = False
    with_discriminator: bool = True
    image_size: int = 512
    color_space: str = "rgb"


def check_config(c: Pix2PixHDConfig) -> None:
    """Fail in one sentence when ``c`` names no pix2pixHD this code can build.

    Example:
        >>> check_config(Pix2PixHDConfig(netG="encoder"))
        Traceback (most recent call last):
        zoo_core._errors.ZooError: Unknown pix2pixHD netG 'encoder'; choose one of global, local.
    """
    for key in ("input_nc", "output_nc", "ngf", "ndf", "image_size"):
        value = getattr(c, key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ZooError(f"pix2pixHD {key} must be a positive integer, not {value!r}.")
    if c.netG not in GENERATORS:
        raise ZooError(f"Unknown pix2pixHD netG {c.netG!r}; choose one of {', '.join(GENERATORS)}.")
    if c.norm not in NORMS:
        raise ZooError(f"Unknown pix2pixHD norm {c.norm!r}; choose one of {', '.join(NORMS)}.")
    if c.color_space not in COLOR_SPACES:
        raise ZooError(f"Unknown color_space {c.color_space!r}; choose one of {', '.join(COLOR_SPACES)}.")
    if c.label_nc == 0 and not c.no_instance:
        raise ZooError(
            "A pix2pixHD that takes images (label_nc=0) has no instance map to read boundaries from; "
            "pass --config no_instance=true."
        )
    if c.color_space == "lab" and (c.label_nc, c.input_nc, c.output_nc) != (0, 1, 2):
        raise ZooError(
            "color_space 'lab' maps the L channel to a, b: it needs label_nc=0, input_nc=1 and output_nc=2, "
            f"not {c.label_nc}, {c.input_nc} and {c.output_nc}."
        )
    multiple = size_multiple(c)
    if c.image_size % multiple:
        raise ZooError(
            f"This pix2pixHD takes sides that are multiples of {multiple}, so image_size {c.image_size} cannot be "
            f"its training size; use {max(multiple, c.image_size // multiple * multiple)}."
        )


def size_multiple(c: Pix2PixHDConfig) -> int:
    """The multiple image sides must be: ``2**n_downsample_global``, times ``2**n_local_enhancers`` for ``local``.

    Example:
        >>> size_multiple(Pix2PixHDConfig(netG="local"))
        32
    """
    return 2 ** (c.n_downsample_global + (c.n_local_enhancers if c.netG == "local" else 0))


def generator_input_nc(c: Pix2PixHDConfig) -> int:
    """The channels ``netG`` takes: ``label_nc`` (or ``input_nc``), plus 1 for the edge map unless ``no_instance``.

    Example:
        >>> generator_input_nc(Pix2PixHDConfig(label_nc=35))
        36
    """
    return (c.label_nc or c.input_nc) + (0 if c.no_instance else 1)


def build_generator(c: Pix2PixHDConfig) -> nn.Module:
    """The reference's ``define_G`` for ``c`` (initialised as the reference)."""
    if c.netG == "local":
        return LocalEnhancer(
            generator_input_nc(c),
            c.output_nc,
            c.ngf,
            c.n_downsample_global,
            c.n_blocks_global,
            c.n_local_enhancers,
            c.n_blocks_local,
            c.norm,
        )
    return GlobalGenerator(generator_input_nc(c), c.output_nc, c.ngf, c.n_downsample_global, c.n_blocks_global, c.norm)


class Pix2PixHD(ImageTranslator, ZooModel):
    """pix2pixHD: ``netG`` maps a label map (or an image) to a photo; ``netD`` (optional) judges (input, photo) pairs.

    Example:
        >>> model = zoo.create("pix2pixhd", netG="local", label_nc=0, input_nc=1, no_instance=True, ngf=8)
        >>> model.translate(torch.rand(1, 1, 64, 64)).shape
        torch.Size([1, 3, 64, 64])
    """

    architecture = "pix2pixhd"
    config_class = Pix2PixHDConfig
    #: smaller images (a side, in pixels) are refused by ``translate``: they would be mostly padding
    min_size: int = 16

    def __init__(self, config: Pix2PixHDConfig) -> None:
        super().__init__(config)
        check_config(config)
        self.netG = build_generator(config)
        self.netD: MultiscaleDiscriminator | None = None
        if config.with_discriminator:
            d_input = (config.label_nc or config.input_nc) + config.output_nc + (0 if config.no_instance else 1)
            self.netD = MultiscaleDiscriminator(
                d_input,
                config.ndf,
                config.n_layers_D,
                config.norm,
                num_D=config.num_D,
                get_interm_feat=not config.no_ganFeat_loss,
            )

    @property
    def size_multiple(self) -> int:
        """The generator needs sides that are multiples of this (32 for the reference's ``local`` default)."""
        return size_multiple(self.config)

    @property
    def input_channels(self) -> int:
        """The channels ``translate`` takes: 1 for a label map (``label_nc > 0``), else ``input_nc``."""
        return 1 if self.config.label_nc else self.config.input_nc

    @property
    def output_channels(self) -> int:
        """The channels ``translate`` returns (``output_nc``; RGB for ``lab``)."""
        return 3 if self.config.color_space == "lab" else self.config.output_nc

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``netG`` on network inputs (``network_input``), in the module's current mode."""
        return self.netG(x)

    def network_input(self, image: torch.Tensor, instances: torch.Tensor | None = None) -> torch.Tensor:
        """Images in [0, 1] ``(N, C, H, W)`` as ``netG`` takes them (``encode_input`` of the reference).

        A label map: the one-hot of ``round(255 x)`` and, unless ``no_instance``, ``get_edges(instances)``
        (``instances`` ``None``: the label map's own boundaries). An image: ``2 x - 1`` (``lab``: ``L / 50 - 1``).
        """
        c = self.config
        if c.label_nc:
            image = match_channels(image, 1, what="pix2pixHD label map")
            labels = (image.float() * 255).round()
            net = one_hot_labels(labels, c.label_nc).to(image.dtype)
            if not c.no_instance:
                if instances is None:
                    instances = labels
                elif tuple(instances.shape) != tuple(labels.shape):
                    raise ZooError(
                        f"The instance map is shaped {tuple(instances.shape)} but the label map "
                        f"{tuple(labels.shape)}; pass one instance id per label pixel, (N, 1, H, W)."
                    )
                net = torch.cat([net, get_edges(instances.to(labels.device)).to(image.dtype)], 1)
            return net
        image = match_channels(image, c.input_nc, what="pix2pixHD model")
        return to_network_input(image, c.color_space)

    def network_target(self, target: torch.Tensor) -> torch.Tensor:
        """Target images in [0, 1] as ``netG`` should produce them (``2 y - 1``; ``lab``: ``ab / 110``)."""
        if self.config.color_space == "lab":
            target = match_channels(target, 3, what="pix2pixHD colorization target")
        return to_network_target(target, self.config.color_space)

    def network_output_to_image(self, a: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        """``netG``'s output for network input ``a`` as images in [0, 1] (``lab``: L from ``a``, ab from ``out``)."""
        return from_network(a, out, self.config.color_space)

    def translate(
        self,
        x: torch.Tensor,
        *,
        instances: torch.Tensor | None = None,
        direction: str | None = None,
        seed: int | None = 0,
        progress: bool = False,
    ) -> torch.Tensor:
        """The photo ``netG`` makes of ``x`` (floats in [0, 1]; a label map: ids / 255), in [0, 1].

        ``instances``: for a label model with instance input, ``(N, 1, H, W)`` (or ``(1, H, W)``) instance ids;
        ``None``: the label map's boundaries. pix2pixHD has no test-time noise; ``seed`` is accepted for the
        task's contract. One way: ``direction`` must be ``None``.

        Example:
            >>> labels = torch.randint(0, 35, (1, 1, 64, 128)) / 255   # a Cityscapes labelIds PNG, as read
            >>> zoo.load("pix2pixhd.label2city-1024p").translate(labels).shape
            torch.Size([1, 3, 64, 128])
        """
        batch, single = check_translate_input(x, min_size=self.min_size, what="pix2pixHD")
        h, w = batch.shape[-2:]
        if instances is not None:
            if not self.config.label_nc or self.config.no_instance:
                raise ZooError("This pix2pixHD model takes no instance map; call translate without instances.")
            instances = instances.unsqueeze(0) if instances.dim() == 3 else instances
            instances = pad_to_multiple(instances.to(self.device).double(), self.size_multiple)
        batch = pad_to_multiple(batch.to(self.device, self.dtype), self.size_multiple)
        a = self.network_input(batch, instances)
        out = self.netG(a)
        out = self.network_output_to_image(a[..., :h, :w], out[..., :h, :w])
        return out[0] if single else out
