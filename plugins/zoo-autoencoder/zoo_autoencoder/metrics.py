"""``recon-mse``: how well a latent model gives its inputs back, ``mean((decode(encode(x)) - x)^2)``.

Fed by the core's ``likelihood`` protocol (``model`` and the split's ``images``), so it scores any
model of task ``latent``: the autoencoder, the VAE (through its posterior mean).

Example:
    >>> metric = ReconstructionMSE()
    >>> metric.update(model=zoo.load("autoencoder.mnist"), images=test_digits)
    >>> metric.compute()
    {'recon-mse': 0.004}
"""

from __future__ import annotations

from typing import Any

import torch

from zoo_core import ZooError
from zoo_core.metrics import Metric

__all__ = ["ReconstructionMSE"]


class ReconstructionMSE(Metric):
    """Mean squared error per pixel of ``decode(encode(x))`` against ``x`` (images in [0, 1]), over every image."""

    name = "recon-mse"
    inputs = ("model", "images")
    higher_is_better = False
    protocol = "mean squared error per pixel between each image and decode(encode(image)), images in [0, 1]"

    def reset(self) -> None:
        self.total = 0.0
        self.count = 0

    def update(self, model: Any, images: torch.Tensor, **_: Any) -> None:
        if not callable(getattr(model, "encode", None)) or not callable(getattr(model, "decode", None)):
            raise ZooError(f"recon-mse needs a model with encode() and decode(); {type(model).__name__} has none.")
        recon = model.decode(model.encode(images)).to(images.dtype)
        if recon.shape != images.shape:
            raise ZooError(f"decode(encode(x)) gave {tuple(recon.shape)} for images {tuple(images.shape)}.")
        self.total += float((recon - images).double().pow(2).sum())
        self.count += images.numel()

    def compute(self) -> dict[str, float]:
        if self.count == 0:
            raise ZooError("recon-mse has seen no images; call update(model=..., images=...) first.")
        return {self.name: self.total / self.count}
