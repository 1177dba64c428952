"""Classification accuracy: how a classifier (e.g. FID-MNIST's ``mnistnet.mnist5k``) is scored.

Example:
    >>> m = Accuracy()
    >>> m.update(prediction=torch.tensor([[2.0, 0.1], [0.3, 0.9]]), target=torch.tensor([0, 0]))
    >>> m.compute()
    {'accuracy': 0.5}
"""

from __future__ import annotations

import torch

from .._errors import ZooError
from . import Metric

__all__ = ["Accuracy"]


class Accuracy(Metric):
    """Top-1 accuracy: ``prediction`` is class scores ``(N, classes)`` or labels ``(N,)``, ``target`` labels."""

    name = "accuracy"
    inputs = ("prediction", "target")
    higher_is_better = True
    unit = "fraction"
    protocol = "top-1 accuracy of the arg-max class"

    def reset(self) -> None:
        self.correct = 0
        self.count = 0

    def update(self, prediction: torch.Tensor, target: torch.Tensor) -> None:
        labels = prediction.argmax(dim=1) if prediction.dim() == 2 else prediction
        target = torch.as_tensor(target, device=labels.device)
        if labels.shape != target.shape:
            raise ZooError(f"Accuracy compares {tuple(labels.shape)} predictions with {tuple(target.shape)} labels.")
        self.correct += int((labels == target).sum())
        self.count += target.numel()

    def compute(self) -> dict[str, float]:
        if self.count == 0:
            raise ZooError("Accuracy has seen no images; call update(prediction=..., target=...) first.")
        return {self.name: self.correct / self.count}
