"""Image-to-image translation metrics: L1 to the target, cycle-consistency L1 and per-pixel accuracy.

- ``L1``: per image, the mean of ``|prediction - target|`` over pixels and channels, in the
  images' own range ([0, 1] for zoo images; pix2pix's L1 loss is computed in [-1, 1], twice
  this); the metric is the mean over images, like ``psnr``, so a large photo weighs as much as
  a small one.
- ``CycleL1``: mean absolute difference between images and their reconstructions after a
  round trip through both generators (CycleGAN's cycle loss, Zhu et al. 2017), over every
  pixel, channel and image, in the images' own range ([0, 1] for zoo images).
- ``PixelAccuracy``: the fraction of labelled pixels whose predicted class equals the
  target's (the "per-pixel acc." of the pix2pix / CycleGAN FCN scores); pixels whose target
  is ``ignore_index`` (255 by default, Cityscapes' void label) are not counted. Predictions
  are integer maps ``(N, H, W)`` / ``(N, 1, H, W)`` or class scores ``(N, classes, H, W)``
  (the arg-max is taken).

Example:
    >>> m = PixelAccuracy()
    >>> m.update(prediction=torch.tensor([[0, 1], [2, 2]]), target=torch.tensor([[0, 1], [2, 255]]))
    >>> m.compute()
    {'pixel-accuracy': 1.0}
"""

from __future__ import annotations

import torch

from .._errors import ZooError
from . import Metric

__all__ = ["L1", "CycleL1", "PixelAccuracy", "l1"]


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
    """Mean over images of the per-image mean absolute error (lower is better).

    Example:
        >>> m = L1()
        >>> m.update(prediction=torch.zeros(2, 3, 4, 4), target=torch.full((2, 3, 4, 4), 0.25))
        >>> m.compute()
        {'l1': 0.25}
    """

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


class CycleL1(Metric):
    """Mean absolute difference between ``image`` and ``reconstruction`` (e.g. F(G(x)) for x).

    Any reconstruction error of this kind subclasses it with its own ``name`` and ``protocol`` (IcGAN's
    ``reconstruction-l1``: ``|x - G(E_z(x), y)|``).

    Example:
        >>> m = CycleL1()
        >>> m.update(image=torch.zeros(1, 3, 4, 4), reconstruction=torch.full((1, 3, 4, 4), 0.25))
        >>> m.compute()
        {'cycle-l1': 0.25}
    """

    name = "cycle-l1"
    inputs = ("image", "reconstruction")
    higher_is_better = False
    protocol = "mean |x - F(G(x))| over pixels, channels and images"

    def __init__(self, *, direction: str | None = None) -> None:
        """``direction``: the round trip ``zoo eval`` feeds, ``"AtoB"`` (F(G(x))) or ``"BtoA"`` (G(F(y)))."""
        if direction not in (None, "AtoB", "BtoA"):
            raise ZooError(f"The cycle-l1 direction is AtoB or BtoA, not {direction!r}.")
        self.direction = direction
        super().__init__()

    def reset(self) -> None:
        self.total = 0.0
        self.count = 0

    def update(self, image: torch.Tensor, reconstruction: torch.Tensor) -> None:
        if image.shape != reconstruction.shape:
            raise ZooError(
                f"{self.name} compares images and reconstructions of one shape, not {tuple(image.shape)} "
                f"and {tuple(reconstruction.shape)}."
            )
        self.total += float((image.double() - reconstruction.to(image.device).double()).abs().sum())
        self.count += image.numel()

    def compute(self) -> dict[str, float]:
        if self.count == 0:
            raise ZooError(f"{self.name} has seen no images; call update(image=..., reconstruction=...) first.")
        return {self.name: self.total / self.count}


def _label_map(x: torch.Tensor, what: str) -> torch.Tensor:
    if x.dim() == 4 and x.shape[1] > 1:
        x = x.argmax(dim=1)  # class scores
    elif x.dim() == 4:
        x = x[:, 0]
    elif x.dim() == 2:
        x = x.unsqueeze(0)
    if x.dim() != 3:
        raise ZooError(f"{what} must be label maps (N, H, W) or scores (N, classes, H, W), not {tuple(x.shape)}.")
    if x.is_floating_point():
        if not torch.equal(x, x.round()):
            raise ZooError(f"{what} holds fractional labels; give integer class indices.")
        x = x.long()
    return x


class PixelAccuracy(Metric):
    """Fraction of labelled pixels where the predicted class is the target's; ``ignore_index`` pixels skipped.

    Example:
        >>> m = PixelAccuracy(ignore_index=None)
        >>> m.update(prediction=torch.tensor([[1, 1]]), target=torch.tensor([[1, 0]]))
        >>> m.compute()
        {'pixel-accuracy': 0.5}
    """

    name = "pixel-accuracy"
    inputs = ("prediction", "target")
    higher_is_better = True
    unit = "fraction"

    def __init__(self, ignore_index: int | None = 255) -> None:
        self.ignore_index = ignore_index
        ignored = f"target {ignore_index} ignored" if ignore_index is not None else "no label ignored"
        self.protocol = f"correct / labelled pixels over all images ({ignored})"
        super().__init__()

    def reset(self) -> None:
        self.correct = 0
        self.labelled = 0

    def update(self, prediction: torch.Tensor, target: torch.Tensor) -> None:
        prediction, target = _label_map(prediction, "Predictions"), _label_map(target, "Targets")
        if prediction.shape != target.shape:
            raise ZooError(f"Predictions {tuple(prediction.shape)} and targets {tuple(target.shape)} differ in shape.")
        target = target.to(prediction.device)
        valid = target != self.ignore_index if self.ignore_index is not None else torch.ones_like(target, dtype=bool)
        self.correct += int(((prediction == target) & valid).sum())
        self.labelled += int(valid.sum())

    def compute(self) -> dict[str, float]:
        if self.labelled == 0:
            raise ZooError("Pixel accuracy has seen no labelled pixel; check ignore_index and the targets.")
        return {self.name: self.correct / self.labelled}
