"""Shared building blocks of pix2pix and CycleGAN, faithful to junyanz/pytorch-CycleGAN-and-pix2pix.

Module structure, state-dict keys, defaults and random draws follow the reference, so its
checkpoints load with ``strict=True`` and give the same outputs. Importing this package imports
torch; ``zoo_core`` itself never imports it (import it from model code only).

Each public name, its module, and what it reproduces (``models/networks.py`` unless named):

- ``get_norm_layer``, ``norm_uses_bias``, ``resolve_norm`` (``norms``): ``get_norm_layer`` and
  the ``use_bias`` rule every network applies.
- ``init_weights`` (``init``): ``init_weights`` / ``init_net``; ``dcgan_weights_init``, DCGAN's and StackGAN's.
- ``ResnetGenerator``, ``ResnetBlock`` (``resnet_generator``): the classes of the same names.
- ``UnetGenerator``, ``UnetSkipConnectionBlock`` (``unet_generator``): the classes of the same names.
- ``NLayerDiscriminator``, ``PixelDiscriminator`` (``discriminators``): the classes of the same names.
- ``define_generator``, ``define_discriminator`` (``factory``): ``define_G``, ``define_D``; ``parse_generator``,
  ``generator_name``, ``GENERATORS``, ``DISCRIMINATORS``: the one table of ``--netG`` / ``--netD`` names.
- ``GANLoss``, ``gradient_penalty`` (``gan_losses``): ``GANLoss``, ``cal_gradient_penalty``.
- ``ImagePool`` (``image_pool``): ``util/image_pool.py`` ``ImagePool``.
- ``LinearDecay``, ``linear_decay_scheduler`` (``schedules``): ``get_scheduler`` with ``lr_policy="linear"``.
- ``patch_instance_norm_state_dict``, ``legacy_instance_norm_keys`` (``legacy``):
  ``models/base_model.py`` ``__patch_instance_norm_state_dict``.

And the PixelCNN family's (van den Oord et al. 2016; Ramachandran et al. 2017):

- ``MaskedConv2d``, ``causal_mask``, ``channel_groups``, ``MASK_TYPES`` (``masked``): the mask A / mask B
  convolutions (grey, and RGB with the PixelRNN paper's channel groups); ``PixelCache``, ``RowCache``:
  a causal convolution run one pixel / one row at a time, for cached fast generation; ``conv1x1_as_linear``:
  a 1x1 convolution as ``F.linear``'s weights.

And the explicit models' Gaussians (the Bayes-classifier sampler, the GMM), imported from their module:

- ``gaussian_log_prob``, ``sample_gaussians``, ``covariance_scale``, ``kmeans_plusplus`` (``gaussians``):
  full / diagonal Gaussians held as Cholesky factors or variances, and k-means++ as scikit-learn draws it.

Example:
    >>> from zoo_core.layers import GANLoss, ImagePool, define_discriminator, define_generator
    >>> g = define_generator("resnet_9blocks", 3, 3, norm="instance")   # CycleGAN's G_A
    >>> d = define_discriminator("basic", 3, norm="instance")           # and D_A
    >>> criterion, pool = GANLoss("lsgan"), ImagePool(50)
"""

from __future__ import annotations

from .discriminators import NLayerDiscriminator, PixelDiscriminator
from .factory import (
    DISCRIMINATORS,
    GENERATORS,
    MAX_RESNET_BLOCKS,
    UNET_GENERATORS,
    GeneratorSpec,
    define_discriminator,
    define_generator,
    generator_name,
    parse_generator,
)
from .gan_losses import GAN_MODES, PENALTY_TYPES, GANLoss, gradient_penalty
from .image_pool import ImagePool
from .init import INIT_TYPES, dcgan_weights_init, init_weights
from .legacy import legacy_instance_norm_keys, patch_instance_norm_state_dict
from .masked import (
    MASK_TYPES,
    MaskedConv2d,
    PixelCache,
    RowCache,
    causal_mask,
    channel_groups,
    conv1x1_as_linear,
)
from .norms import NORM_TYPES, NormLayer, get_norm_layer, norm_uses_bias, resolve_norm
from .resnet_generator import PADDING_TYPES, ResnetBlock, ResnetGenerator
from .schedules import LinearDecay, linear_decay_scheduler
from .unet_generator import UnetGenerator, UnetSkipConnectionBlock

__all__ = [
    "DISCRIMINATORS",
    "GAN_MODES",
    "GENERATORS",
    "INIT_TYPES",
    "MASK_TYPES",
    "MAX_RESNET_BLOCKS",
    "NORM_TYPES",
    "PADDING_TYPES",
    "PENALTY_TYPES",
    "UNET_GENERATORS",
    "GANLoss",
    "GeneratorSpec",
    "ImagePool",
    "LinearDecay",
    "MaskedConv2d",
    "NLayerDiscriminator",
    "NormLayer",
    "PixelCache",
    "PixelDiscriminator",
    "ResnetBlock",
    "ResnetGenerator",
    "RowCache",
    "UnetGenerator",
    "UnetSkipConnectionBlock",
    "causal_mask",
    "channel_groups",
    "conv1x1_as_linear",
    "dcgan_weights_init",
    "define_discriminator",
    "define_generator",
    "generator_name",
    "get_norm_layer",
    "gradient_penalty",
    "init_weights",
    "legacy_instance_norm_keys",
    "linear_decay_scheduler",
    "norm_uses_bias",
    "parse_generator",
    "patch_instance_norm_state_dict",
    "resolve_norm",
]
