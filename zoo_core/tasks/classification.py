"""Task ``classification``: class scores of images, and the features they are computed from."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    import torch

__all__ = ["Classification"]


@runtime_checkable
class Classification(Protocol):
    """The contract of an image classifier (``zoo_core.modeling.ImageClassifier``).

    Metrics such as FID-MNIST use ``features``; a classifier-based Inception Score uses ``classify``.
    Both verbs run in eval mode under ``torch.inference_mode()``.

    Example:
        >>> net = zoo.load("mnistnet.mnist5k")
        >>> net.classify(digits).argmax(1)  # digits (N, 1, 28, 28) in [0, 1]
    """

    def classify(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits ``(N, classes)`` of images ``(N, C, H, W)`` in [0, 1]."""
        ...

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The penultimate layer's activations ``(N, D)`` of images ``(N, C, H, W)`` in [0, 1]."""
        ...
