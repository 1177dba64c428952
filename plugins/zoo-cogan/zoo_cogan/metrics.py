"""``pair-agreement``: the paper's "average pixel agreement ratio" of generated pairs (Liu & Tuzel 2016, Sec. 5).

For each generated pair (domain-1 image ``first``, domain-2 image ``second``) the domain transform
is applied to ``first`` (``edges``: ``dilate(x, 3x3) - x``; ``negative``: ``1 - x``), both images
are binarized (pixel > ``threshold``, 0.5: images in [0, 1]) and the pair's score is the fraction
of pixels whose binary values agree; the metric is the mean over the pairs. A perfect pair
scores 1.0, two independent uniform-noise images about 0.5, and real digits against the transform
of *unrelated* real digits about 0.80 (edges) / 0.82 (negatives) on mnist5k's test digits (mostly
background: ``zoo_cogan.evaluation.reference_values``): the floor a model without correspondence
reaches. The paper draws 10,000 pairs and reports about 0.952 (digits / edges) and 0.967 (digits /
negatives) for its best weight sharing (values as the brief gives them; the paper's text was not
reachable here to check the digits, nor its binarization). Here the transform is
applied to the grey values and both images are then thresholded at 0.5 (said in every record's
protocol text).

The transform comes from the ``transform`` input of each batch (the ``pairs`` protocol passes the
model's ``config.pair``) unless the metric was built with one (``--metric-option
pair-agreement:transform=negative``).

Example:
    >>> metric = PairAgreement(transform="negative")
    >>> x = (torch.rand(4, 1, 28, 28) > 0.5).float()
    >>> metric.update(first=x, second=1 - x)
    >>> metric.compute()
    {'pair-agreement': 1.0}
"""

from __future__ import annotations

from typing import Any

import torch

from zoo_core import ZooError
from zoo_core.metrics import Metric

from .transforms import apply_pair_transform, check_pair

__all__ = ["PairAgreement", "pair_agreement"]


def pair_agreement(first: torch.Tensor, second: torch.Tensor, transform: str, threshold: float = 0.5) -> torch.Tensor:
    """The per-pair agreement ratios ``(N,)``: ``mean(bin(T(first)) == bin(second))`` over each pair's pixels.

    Example:
        >>> x = torch.zeros(1, 1, 4, 4); x[..., 1:3, 1:3] = 1
        >>> pair_agreement(x, x, "edges").item()  # a 2x2 block's edge image is its complement here
        0.0
        >>> pair_agreement(x, x, "negative").item()
        0.0
    """
    if first.shape != second.shape or first.dim() != 4:
        raise ZooError(
            f"pair-agreement compares two batches of the same (N, C, H, W) shape, not {tuple(first.shape)} "
            f"and {tuple(second.shape)}."
        )
    mapped = apply_pair_transform(first.float(), transform) > threshold
    return (mapped == (second.float() > threshold)).float().flatten(1).mean(1)


class PairAgreement(Metric):
    """Streaming mean of ``pair_agreement`` over batches of generated pairs (``first``, ``second``).

    Example:
        >>> PairAgreement(transform="edges").inputs
        ('first', 'second')
    """

    name = "pair-agreement"
    inputs = ("first", "second")
    higher_is_better = True
    unit = ""

    def __init__(self, transform: str | None = None, threshold: float = 0.5) -> None:
        self.transform = check_pair(transform) if transform is not None else None
        if not 0.0 < threshold < 1.0:
            raise ZooError(f"pair-agreement's threshold must be between 0 and 1 (images in [0, 1]), not {threshold}.")
        self.threshold = float(threshold)
        self.protocol = self._describe(self.transform or "the model config's pair")
        super().__init__()

    def _describe(self, transform: str) -> str:
        return (
            "average pixel agreement ratio of generated pairs (Liu & Tuzel 2016): the domain transform "
            f"({transform}) of the first image against the second, both binarized at > {self.threshold:g}, "
            "averaged over the pairs"
        )

    def reset(self) -> None:
        self.total = 0.0
        self.count = 0

    def update(self, **inputs: Any) -> None:
        transform = self.transform or inputs.get("transform")
        if transform is None:
            raise ZooError(
                "pair-agreement needs the domain transform: build it with transform=edges or transform=negative "
                "(--metric-option pair-agreement:transform=edges)."
            )
        if self.transform is None:
            self.protocol = self._describe(transform)  # the record names the transform it used
        scores = pair_agreement(inputs["first"], inputs["second"], transform, self.threshold)
        self.total += float(scores.double().sum())
        self.count += len(scores)

    def compute(self) -> dict[str, float]:
        if self.count == 0:
            raise ValueError("pair-agreement has seen no pairs")
        return {self.name: self.total / self.count}
