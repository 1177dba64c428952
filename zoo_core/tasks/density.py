"""Task ``density``: the likelihood of images under the model."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    import torch

__all__ = ["Density"]


@runtime_checkable
class Density(Protocol):
    """The contract of a density model (``zoo_core.modeling.DensityModel``, which derives ``bits_per_dim``).

    Both verbs run in eval mode under ``torch.inference_mode()`` (no dropout, no gradients).

    ``pixel_levels`` says which images ``log_prob`` is a likelihood of: 2 for binary pixels (values
    exactly 0. or 1., e.g. ``mnist5k`` with ``binarize="stochastic"``; scored in nats by the metric
    ``nll-binarized``), 256 for 8-bit grey levels k/255 (scored in bits per dimension by ``bpd``).
    A verb given images the model has no likelihood for (non-binary pixels to a binary model, the
    wrong size) fails in one sentence (``zoo_core.modeling.check_density_images``).

    Example:
        >>> model = zoo.load("pixelcnnpp.mnist")
        >>> model.pixel_levels
        256
        >>> model.bits_per_dim(images).mean()  # images (N, 1, 28, 28) in [0, 1]
    """

    #: the pixel values log_prob is defined on: 2 (binary, {0, 1}) or 256 (8-bit grey levels k/255)
    pixel_levels: int

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """Log-likelihood in nats of each image ``(N, C, H, W)`` in [0, 1]: ``(N,)``."""
        ...

    def bits_per_dim(self, x: torch.Tensor) -> torch.Tensor:
        """``-log_prob(x) / (D ln 2)`` of each image, D = C x H x W: ``(N,)`` (8.0 is a uniform 8-bit model)."""
        ...
