"""StarGAN (Choi et al. 2018) as yunjey/stargan ``model.py`` builds it: one generator for every domain, one critic.

The networks, in the reference's module layout (so that its checkpoints load key for key):

- ``Generator`` (``G``): the target domain's labels ``c`` (``c_dim`` numbers) tiled over the image and
  concatenated to it; ``main`` = 7x7 conv (``channels + c_dim`` to ``g_conv_dim``, no bias),
  InstanceNorm, ReLU; two 4x4 stride-2 convs doubling the width, each with InstanceNorm and ReLU;
  ``g_repeat_num`` residual blocks (``main`` = 3x3 conv, InstanceNorm, ReLU, 3x3 conv, InstanceNorm;
  x + main(x)); two 4x4 stride-2 transposed convs halving the width, each with InstanceNorm and ReLU;
  a 7x7 conv to ``channels`` and Tanh. Keys ``main.0.weight``, ``main.1.{weight,bias,running_mean,
  running_var,num_batches_tracked}``, ``main.9.main.0.weight`` ... ``main.21.weight`` (6 blocks).
- ``Discriminator`` (``D``, a PatchGAN): ``main`` = ``d_repeat_num`` 4x4 stride-2 convs (with bias)
  from ``channels`` to ``d_conv_dim`` doubling each time, each followed by LeakyReLU(0.01);
  ``conv1``: 3x3 conv to one channel (the real/fake score per patch, no bias); ``conv2``: a conv
  whose kernel covers the whole last feature map (``image_size / 2**d_repeat_num``), to ``c_dim``
  domain logits (no bias).

Every InstanceNorm is ``InstanceNorm2d(affine=True, track_running_stats=True)``, as the released
checkpoints hold them (weight, bias and running statistics). The reference never puts its generator
in eval mode, so at test time it normalises with each image's own statistics; PyTorch's eval mode would
use the running statistics instead, and give other images. ``eval_norm`` chooses: ``"instance"`` (the
default, the reference's test-time behaviour) or ``"running"``. In training mode both do what PyTorch
does (instance statistics, running statistics updated with momentum 0.1). Weights keep PyTorch's
default init, as the reference (it calls no init function); G is built before D, as in ``build_model``.

The domain labels have names (``attributes``, the reference's ``--selected_attrs``); ``translate``
takes the target by name (see ``StarGAN.target_labels``). Images enter and leave in [0, 1] (the
networks work in [-1, 1]: the reference's ``Normalize(0.5, 0.5)`` and Tanh).

Example:
    >>> model = StarGAN(StarGANConfig(g_conv_dim=8, d_conv_dim=8, g_repeat_num=2, image_size=64))
    >>> model.translate(torch.rand(2, 3, 64, 64), attributes={"Blond_Hair": 1}).shape
    torch.Size([2, 3, 64, 64])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from zoo_core import ZooError
from zoo_core.modeling import ImageTranslator, ModelConfig, ZooModel, check_images, inference_verb

__all__ = [
    "CELEBA_ATTRIBUTES",
    "EVAL_NORMS",
    "HAIR_COLOURS",
    "Discriminator",
    "Generator",
    "InstanceNorm",
    "ResidualBlock",
    "StarGAN",
    "StarGANConfig",
    "discriminator_side",
]

#: the attributes of the authors' CelebA checkpoints (``--selected_attrs`` default), in their order
CELEBA_ATTRIBUTES: tuple[str, ...] = ("Black_Hair", "Blond_Hair", "Brown_Hair", "Male", "Young")
#: the reference's hair colours (``create_labels``): one of them on turns the others off
HAIR_COLOURS: tuple[str, ...] = ("Black_Hair", "Blond_Hair", "Brown_Hair", "Gray_Hair")
#: the values of ``StarGANConfig.eval_norm``
EVAL_NORMS = ("instance", "running")


@dataclass
class StarGANConfig(ModelConfig):
    """StarGAN's hyper-parameters; the defaults are the reference's (``main.py``) and the authors' CelebA 128 model's.

    - ``image_size``: the training side (128); the generator takes any side that is a multiple of 4,
      the discriminator this side only (its ``conv2`` covers the whole last feature map);
    - ``channels``: 3 (RGB, the reference's only case) or 1 (grey digits);
    - ``c_dim`` and ``attributes``: how many domain labels, and their names (``--selected_attrs``);
    - ``exclusive``: groups of attributes of which one at most is on (the reference's hair colours,
      those of ``HAIR_COLOURS`` among ``attributes``): setting one of a group on turns the others off;
    - ``g_conv_dim`` / ``d_conv_dim``, ``g_repeat_num`` / ``d_repeat_num``: widths, residual blocks of G and
      stride-2 convolutions of D (64, 64, 6, 6);
    - ``eval_norm``: ``"instance"`` (the reference at test time) or ``"running"`` (see the module docstring);
    - ``with_discriminator``: hold ``D`` (needed to train, and to read an input's own attributes).

    Example:
        >>> StarGANConfig(image_size=32, channels=1, c_dim=3, attributes=("thick", "right_slant", "wide"), exclusive=())
    """

    image_size: int = 128
    channels: int = field(default=3, metadata={"range": (1, 4)})
    c_dim: int = field(default=5, metadata={"range": (1, 1024)})
    attributes: tuple[str, ...] = CELEBA_ATTRIBUTES
    exclusive: tuple[tuple[str, ...], ...] = (("Black_Hair", "Blond_Hair", "Brown_Hair"),)
    g_conv_dim: int = 64
    d_conv_dim: int = 64
    g_repeat_num: int = field(default=6, metadata={"range": (0, 64)})
    d_repeat_num: int = field(default=6, metadata={"range": (1, 12)})
    eval_norm: str = "instance"
    with_discriminator: bool = True


def discriminator_side(image_size: int, repeat_num: int) -> int:
    """The side of D's last feature map: each 4x4 stride-2 convolution (padding 1) halves it, rounding down.

    Example:
        >>> discriminator_side(128, 6), discriminator_side(28, 2)
        (2, 7)
    """
    side = image_size
    for _ in range(repeat_num):
        side = (side + 2 - 4) // 2 + 1
    return side


def _check_config(c: StarGANConfig) -> None:
    if len(c.attributes) != c.c_dim:
        raise ZooError(
            f"StarGAN c_dim is {c.c_dim} but {len(c.attributes)} attribute name(s) are given "
            f"({', '.join(c.attributes)}); give one name per domain label."
        )
    if len(set(c.attributes)) != len(c.attributes) or not all(isinstance(a, str) and a for a in c.attributes):
        raise ZooError(f"StarGAN attribute names must be distinct non-empty strings, not {list(c.attributes)}.")
    for group in c.exclusive:
        unknown = [name for name in group if name not in c.attributes]
        if unknown:
            raise ZooError(
                f"The exclusive group {list(group)} names {unknown[0]!r}, which is not one of the attributes "
                f"({', '.join(c.attributes)}); list attributes only."
            )
    if c.eval_norm not in EVAL_NORMS:
        raise ZooError(f"StarGAN eval_norm must be 'instance' or 'running', not {c.eval_norm!r}.")
    if c.with_discriminator and c.image_size < 2**c.d_repeat_num:  # conv2's kernel would be 0
        raise ZooError(
            f"StarGAN's discriminator halves image_size={c.image_size} d_repeat_num={c.d_repeat_num} times, which "
            f"leaves nothing for its classifier; use image_size >= {2**c.d_repeat_num} or fewer d_repeat_num."
        )
    if c.image_size % 4:
        raise ZooError(f"StarGAN image_size must be a multiple of 4 (two stride-2 steps), not {c.image_size}.")


class InstanceNorm(nn.InstanceNorm2d):
    """``InstanceNorm2d(affine=True, track_running_stats=True)``; in eval mode it normalises by each image's own
    statistics unless ``use_running_stats`` (the reference runs its generator in training mode at test time).

    Its state dict is ``nn.InstanceNorm2d``'s: ``weight``, ``bias``, ``running_mean``, ``running_var``,
    ``num_batches_tracked``.

    Example:
        >>> norm = InstanceNorm(4).eval()
        >>> torch.allclose(norm(x), F.instance_norm(x, weight=norm.weight, bias=norm.bias))
        True
    """

    def __init__(self, num_features: int, use_running_stats: bool = False) -> None:
        super().__init__(num_features, affine=True, track_running_stats=True)
        self.use_running_stats = use_running_stats

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training or self.use_running_stats:
            return super().forward(x)
        return F.instance_norm(x, None, None, self.weight, self.bias, True, 0.0, self.eps)


class ResidualBlock(nn.Module):
    """The reference's ``ResidualBlock``: ``x + main(x)``, main = conv3x3, IN, ReLU, conv3x3, IN (no biases)."""

    def __init__(self, dim_in: int, dim_out: int, running: bool = False) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(dim_in, dim_out, kernel_size=3, stride=1, padding=1, bias=False),
            InstanceNorm(dim_out, running),
            nn.ReLU(inplace=True),
            nn.Conv2d(dim_out, dim_out, kernel_size=3, stride=1, padding=1, bias=False),
            InstanceNorm(dim_out, running),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.main(x)


class Generator(nn.Module):
    """The reference's ``Generator(conv_dim, c_dim, repeat_num)`` with ``channels`` in and out (3 in the reference).

    Example:
        >>> g = Generator(conv_dim=8, c_dim=5, repeat_num=2)
        >>> g(torch.randn(1, 3, 16, 16), torch.zeros(1, 5)).shape
        torch.Size([1, 3, 16, 16])
    """

    def __init__(
        self, conv_dim: int = 64, c_dim: int = 5, repeat_num: int = 6, channels: int = 3, running: bool = False
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = [
            nn.Conv2d(channels + c_dim, conv_dim, kernel_size=7, stride=1, padding=3, bias=False),
            InstanceNorm(conv_dim, running),
            nn.ReLU(inplace=True),
        ]
        dim = conv_dim
        for _ in range(2):  # down-sampling
            layers += [
                nn.Conv2d(dim, dim * 2, kernel_size=4, stride=2, padding=1, bias=False),
                InstanceNorm(dim * 2, running),
                nn.ReLU(inplace=True),
            ]
            dim *= 2
        layers += [ResidualBlock(dim, dim, running) for _ in range(repeat_num)]  # bottleneck
        for _ in range(2):  # up-sampling
            layers += [
                nn.ConvTranspose2d(dim, dim // 2, kernel_size=4, stride=2, padding=1, bias=False),
                InstanceNorm(dim // 2, running),
                nn.ReLU(inplace=True),
            ]
            dim //= 2
        layers += [nn.Conv2d(dim, channels, kernel_size=7, stride=1, padding=3, bias=False), nn.Tanh()]
        self.main = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        """``x`` in [-1, 1] ``(N, channels, H, W)`` and labels ``c`` ``(N, c_dim)`` to images in [-1, 1]."""
        c = c.to(x.dtype).view(c.size(0), c.size(1), 1, 1).expand(-1, -1, x.size(2), x.size(3))
        return self.main(torch.cat([x, c], dim=1))


class Discriminator(nn.Module):
    """The reference's ``Discriminator(image_size, conv_dim, c_dim, repeat_num)``: PatchGAN scores and domain logits.

    Example:
        >>> src, cls = Discriminator(image_size=32, conv_dim=8, c_dim=5, repeat_num=5)(torch.randn(2, 3, 32, 32))
        >>> src.shape, cls.shape
        (torch.Size([2, 1, 1, 1]), torch.Size([2, 5]))
    """

    def __init__(
        self, image_size: int = 128, conv_dim: int = 64, c_dim: int = 5, repeat_num: int = 6, channels: int = 3
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = [
            nn.Conv2d(channels, conv_dim, kernel_size=4, stride=2, padding=1),
            nn.LeakyReLU(0.01),
        ]
        dim = conv_dim
        for _ in range(1, repeat_num):
            layers += [nn.Conv2d(dim, dim * 2, kernel_size=4, stride=2, padding=1), nn.LeakyReLU(0.01)]
            dim *= 2
        kernel_size = int(image_size / 2**repeat_num)
        self.main = nn.Sequential(*layers)
        self.conv1 = nn.Conv2d(dim, 1, kernel_size=3, stride=1, padding=1, bias=False)
        self.conv2 = nn.Conv2d(dim, c_dim, kernel_size=kernel_size, bias=False)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(out_src (N, 1, h, w), out_cls (N, c_dim))`` for images in [-1, 1]."""
        h = self.main(x)
        out_cls = self.conv2(h)
        return self.conv1(h), out_cls.view(out_cls.size(0), out_cls.size(1))


def _number(value: Any, name: str) -> float:
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    if isinstance(value, bool):
        return float(value)
    if not isinstance(value, (int, float)) or not 0.0 <= float(value) <= 1.0:
        raise ZooError(f"The attribute {name!r} takes 0 or 1 (or a strength in [0, 1]), not {value!r}.")
    return float(value)


class StarGAN(ImageTranslator, ZooModel):
    """The reference's ``G`` and (optional) ``D``; ``translate(x, attributes=...)`` changes the named attributes.

    The state dict is the reference's two files under the prefixes ``G.`` and ``D.`` (``200000-G.ckpt`` holds
    the keys of ``G.*`` without the prefix).

    Example:
        >>> gan = zoo.create("stargan", g_conv_dim=8, d_conv_dim=8, g_repeat_num=2, image_size=64)
        >>> gan.translate(faces, attributes={"Blond_Hair": 1, "Male": 0}).shape
        torch.Size([4, 3, 64, 64])
    """

    architecture = "stargan"
    config_class = StarGANConfig
    size_multiple = 4
    min_size = 4
    translate_options: ClassVar[Mapping[str, str]] = MappingProxyType(
        {
            "attributes": "the target attributes by name: {name: 0 or 1} (the others as the input reads), a list of "
            "the names to turn on (the others off), or None (the input's own)"
        }
    )

    def __init__(self, config: StarGANConfig) -> None:
        super().__init__(config)
        _check_config(config)
        c = config
        running = c.eval_norm == "running"
        self.G = Generator(c.g_conv_dim, c.c_dim, c.g_repeat_num, c.channels, running)
        self.D = (
            Discriminator(c.image_size, c.d_conv_dim, c.c_dim, c.d_repeat_num, c.channels)
            if c.with_discriminator
            else None
        )

    @property
    def input_channels(self) -> int:
        """Grey (1) or RGB (3): ``channels``."""
        return self.config.channels

    @property
    def output_channels(self) -> int:
        """The same as ``input_channels``."""
        return self.config.channels

    @property
    def attributes(self) -> tuple[str, ...]:
        """The names of the domain labels, in the order of the label vector."""
        return tuple(self.config.attributes)

    # -- labels ------------------------------------------------------------------------------
    @inference_verb
    def classify_attributes(self, x: torch.Tensor) -> torch.Tensor:
        """The discriminator's domain classifier on images in [0, 1]: probabilities ``(N, c_dim)`` (sigmoid).

        Images of another size than ``image_size`` are resized to it (bilinear) for D, whose last convolution
        covers the whole feature map of an ``image_size`` image.

        Example:
            >>> model.classify_attributes(faces).round()  # the attributes D reads in each face
        """
        if self.D is None:
            raise ZooError(
                "This StarGAN holds no discriminator (a converted generator), so it cannot read attributes off an "
                "image; give the target attributes in full."
            )
        self._check_input(x)
        side = self.config.image_size
        x = x.to(self.device, self.dtype)
        if tuple(x.shape[-2:]) != (side, side):
            x = F.interpolate(x, size=(side, side), mode="bilinear", align_corners=False)
        return torch.sigmoid(self.D(x * 2 - 1)[1].float())

    def _index(self, name: Any) -> int:
        if not isinstance(name, str) or name not in self.attributes:
            raise ZooError(f"Unknown attribute {name!r}; this StarGAN's attributes are {', '.join(self.attributes)}.")
        return self.attributes.index(name)

    @inference_verb
    def target_labels(self, x: torch.Tensor, attributes: Any = None) -> torch.Tensor:
        """The target domain labels ``(N, c_dim)`` that ``translate(x, attributes=...)`` feeds the generator.

        ``attributes``:

        - a mapping ``{name: value}`` (0 / 1, ``True`` / ``False``, or a strength in [0, 1]): those
          attributes are set; every attribute it does not name keeps the input's own value, as the
          model's discriminator reads it (``classify_attributes``, thresholded at 0.5: the reference's
          ``create_labels`` starts from the true labels ``c_org``), or 0 for a model without a
          discriminator. Setting one attribute of an ``exclusive`` group on turns the others of the
          group off, as the reference does for hair colours;
        - a list of names (or one name): exactly those attributes on, every other off (a full target);
        - a tensor ``(c_dim,)`` or ``(N, c_dim)``: the label vector itself, as the reference takes it;
        - ``None``: the input's own attributes (a reconstruction), 0 without a discriminator.

        An unknown name fails naming the valid ones; two attributes of one exclusive group on fail too.

        Example:
            >>> model.target_labels(faces, {"Blond_Hair": 1})[:, :3]  # the other hair colours off
            tensor([[0., 1., 0.], ...])
        """
        self._check_input(x)
        n, c_dim = x.shape[0], self.config.c_dim
        if isinstance(attributes, torch.Tensor):
            labels = attributes.detach().to("cpu", torch.float32)
            if labels.dim() == 1:
                labels = labels.unsqueeze(0).expand(n, -1)
            if labels.dim() != 2 or labels.shape != (n, c_dim):
                raise ZooError(
                    f"Target labels must be shaped ({c_dim},) or ({n}, {c_dim}) for these {n} image(s), "
                    f"not {tuple(attributes.shape)}."
                )
            if not torch.isfinite(labels).all():
                raise ZooError("Target labels must be finite numbers (0 or 1 per attribute).")
            return labels.to(self.device).clone()
        if attributes is None or isinstance(attributes, Mapping):
            given = {self._index(k): _number(v, k) for k, v in (attributes or {}).items()}
            self._check_exclusive([i for i, v in given.items() if v > 0.0])
            # the input's own attributes as D reads them (0 without D), then the named ones
            labels = torch.zeros(n, c_dim) if self.D is None else (self.classify_attributes(x) >= 0.5).float().cpu()
            for group in self.config.exclusive:
                members = [self._index(name) for name in group]
                if any(given.get(i, 0.0) > 0.0 for i in members):
                    for i in members:
                        given.setdefault(i, 0.0)
            for i, value in given.items():
                labels[:, i] = value
        elif isinstance(attributes, (str, Sequence)):
            names = [attributes] if isinstance(attributes, str) else list(attributes)
            on = [self._index(name) for name in names]
            self._check_exclusive(on)
            labels = torch.zeros(n, c_dim)
            labels[:, on] = 1.0
        else:
            raise ZooError(
                "attributes takes a mapping {name: 0 or 1}, a list of names to turn on, or a label tensor, "
                f"not {type(attributes).__name__}."
            )
        return labels.to(self.device)

    def _check_exclusive(self, on: list[int]) -> None:
        for group in self.config.exclusive:
            both = [name for name in group if self._index(name) in on]
            if len(both) > 1:
                raise ZooError(
                    f"{' and '.join(both)} are exclusive ({', '.join(group)}: one at most is on); turn on one of them."
                )

    def _check_input(self, x: torch.Tensor) -> None:
        check_images(x, channels=self.config.channels, what="StarGAN")
        h, w = x.shape[-2:]
        if h % 4 or w % 4:
            raise ZooError(
                f"StarGAN's generator takes images whose sides are multiples of 4, got {h}x{w}; pad or resize them "
                "first (`zoo translate` pads them for you)."
            )

    # -- the task ------------------------------------------------------------------------------
    def translate(
        self,
        x: torch.Tensor,
        *,
        direction: str | None = None,
        seed: int | None = 0,
        progress: bool = False,
        attributes: Any = None,
    ) -> torch.Tensor:
        """Images in [0, 1] ``(N, C, H, W)`` translated to the target attributes (``target_labels`` says how
        ``attributes`` is read); H and W multiples of 4. Deterministic (``seed`` and ``progress`` are unused).

        Example:
            >>> model.translate(faces, attributes={"Blond_Hair": 1, "Male": 0})
            >>> model.translate(faces, attributes=["Brown_Hair", "Young"])  # every other attribute off
        """
        labels = self.target_labels(x, attributes)
        out = self.G(x.to(self.device, self.dtype) * 2 - 1, labels.to(self.dtype))
        return ((out.float() + 1) / 2).clamp_(0, 1)
