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

    Example:
        >>> model = zoo.load("pixelcnnpp.mnist")
        >>> model.bits_per_dim(images).mean()  # images (N, 1, 28, 28) in [0, 1]
    """

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """Log-likelihood in nats of each image ``(N, C, H, W)`` in [0, 1]: ``(N,)``."""
        ...

    def bits_per_dim(self, x: torch.Tensor) -> torch.Tensor:
        """``-log_prob(x) / (D ln 2)`` of each image, D = C x H x W: ``(N,)`` (8.0 is a uniform 8-bit model)."""
        ...
