"""Task ``latent``: a map from images to latent codes and back."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    import torch

__all__ = ["Latent"]


@runtime_checkable
class Latent(Protocol):
    """The contract of a latent-variable model (``zoo_core.modeling.LatentModel``).

    Both verbs run in eval mode under ``torch.inference_mode()``.

    Example:
        >>> vae = zoo.load("vae.mnist")
        >>> vae.decode(vae.encode(images)).shape  # images (N, 1, 28, 28) in [0, 1]
        torch.Size([N, 1, 28, 28])
    """

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Latent codes ``(N, ...)`` of images ``(N, C, H, W)`` in [0, 1] (a VAE: the posterior mean)."""
        ...

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Images ``(N, C, H, W)`` in [0, 1] of latent codes ``(N, ...)``."""
        ...
