"""``l1``: mean absolute error between translations and their targets (pix2pix's L1 term, as a metric).

Per image, the mean of ``|prediction - target|`` over pixels and channels, in the images' own
range ([0, 1] for zoo images; the reference's loss is computed in [-1, 1], twice this); the
metric is the mean over images, like ``psnr``, so a large photo weighs as much as a small one.

Example:
    >>> m = L1()
    >>> m.update(prediction=torch.zeros(2, 3, 4, 4), target=torch.full((2, 3, 4, 4), 0.25))
    >>> m.compute()
    {'l1': 0.25}
"""

from __future__ import annotations

import torch

from zoo_core import ZooError
from zoo_core.metrics import Metric

__all__ = ["L1", "l1"]


def l1(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-image mean absolute difference of ``(N, C, H, W)`` (or ``(C, H, W)``) images, in float64.

    Example:
        >>> l1(torch.zeros(1, 1, 2, 2), torch.ones(1, 1, 2, 2))
        tensor([1.], dtype=torch.float64)
    """
    if prediction.dim() == 3:
        prediction, target = prediction[None], target[None]
    if prediction.dim() != 4 or prediction.shape != target.shape:
        raise ZooError(
            f"L1 compares images of one shape (N, C, H, W), not {tuple(prediction.shape)} and {tuple(target.shape)}."
        )
    diff = prediction.double() - target.to(prediction.device).double()
    return diff.abs().flatten(1).mean(1)


class L1(Metric):
    """Mean over images of the per-image mean absolute error (lower is better)."""

    name = "l1"
    inputs = ("prediction", "target")
    higher_is_better = False
    protocol = "mean |prediction - target| per image over pixels and channels, in [0, 1]; mean over images"

    def reset(self) -> None:
        self.values: list[torch.Tensor] = []

    def update(self, prediction: torch.Tensor, target: torch.Tensor) -> None:
        self.values.append(l1(prediction, target).cpu())

    def compute(self) -> dict[str, float]:
        if not self.values:
            raise ZooError("L1 has seen no images; call update(prediction=..., target=...) first.")
        return {self.name: float(torch.cat(self.values).mean())}
