"""The card's metrics of an image-editing model (registered in ``plugin.py``, fed by ``zoo_icgan.evaluation``).

- ``edit-agreement``: the fraction of edited digits that ``mnistnet.mnist5k`` reads as the class
  they were edited to (inputs ``edited``, ``target``); chance is 0.1.
- ``reconstruction-l1``: the mean absolute difference, per pixel in [0, 1], between each image and its
  edit to its own class, ``edit(x, y_true) = G(E_z(x), y_true)`` (inputs ``image``, ``reconstruction``).

Example:
    >>> metric = ReconstructionL1()
    >>> metric.update(image=torch.zeros(1, 1, 2, 2), reconstruction=torch.full((1, 1, 2, 2), 0.5))
    >>> metric.compute()
    {'reconstruction-l1': 0.5}
"""

from __future__ import annotations

import torch

from zoo_core import ZooError
from zoo_core.builtin.mnistnet import DigitAgreement
from zoo_core.metrics.translation import CycleL1

__all__ = ["EditAgreement", "ReconstructionL1"]


class EditAgreement(DigitAgreement):
    """How often ``mnistnet.mnist5k`` reads an edited digit as the class it was edited to.

    Example:
        >>> zoo.evaluate("icgan.mnist", ["edit-agreement"], "mnist5k", dataset_options={"size": 32})
    """

    name = "edit-agreement"
    inputs = ("edited", "target")
    protocol = (
        "argmax of mnistnet.mnist5k (28x28 grey, bilinear resize) on edit(x, t) == t, for every test digit x "
        "and every class t other than its own"
    )

    def update(self, edited: torch.Tensor, target: torch.Tensor) -> None:  # type: ignore[override]
        super().update(fake=edited, label=target)

    def compute(self) -> dict[str, float]:
        if self.count == 0:
            raise ZooError("edit-agreement has seen no edits; call update(edited=..., target=...) first.")
        return {self.name: self.agree / self.count}


class ReconstructionL1(CycleL1):
    """Mean absolute pixel difference (images in [0, 1]) between images and their reconstructions (the core's
    ``cycle-l1`` computation, over every pixel of every image, under IcGAN's name and protocol).

    Example:
        >>> zoo.evaluate("icgan.mnist", ["reconstruction-l1"], "mnist5k", dataset_options={"size": 32})
    """

    name = "reconstruction-l1"
    unit = ""
    protocol = "mean |x - edit(x, y)| per pixel in [0, 1], y the digit's own label: |x - G(E_z(x), y)|"
