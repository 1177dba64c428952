"""``attribute-agreement``: how often a translated digit has the attributes it was asked for.

StarGAN's paper scores its translations with a classifier of the target domains (RaFD: a facial
expression classifier; the generated image should be classified as the requested expression). The
digits' attributes are computed from pixels (``zoo_stargan.data``), so the measurement itself is the
classifier: each translated digit is measured (``measure_attributes`` at 28x28; other sizes are resized
bilinearly first) and binarised with the train split's medians (``binarise``), and each of its binary
attributes is compared with the requested one.

Values: ``attribute-agreement``, the fraction of (translation, attribute) pairs that agree, over every
attribute (changed and kept); ``attribute-agreement-flipped``, the same over the attribute each
translation was asked to change (inputs ``flipped``: its index per translation, -1 for none). Chance is
0.5 for each; the identity (no translation) scores 0 on the flipped attributes.

Example:
    >>> metric = AttributeAgreement()
    >>> metric.update(translated=digits, requested=binarise(measure_attributes(digits), labels), label=labels)
    >>> metric.compute()["attribute-agreement"]
    1.0
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from zoo_core import ZooError
from zoo_core.metrics import Metric

from .data import binarise

__all__ = ["AttributeAgreement", "measure_binary"]


def measure_binary(images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """The binary attributes ``(N, 3)`` of grey digits in [0, 1] ``(N, 1, H, W)`` (resized to 28x28 first).

    Example:
        >>> measure_binary(load_mnist5k_attributes("test").images[:2].float() / 255, torch.tensor([0, 0]))
        tensor([[1., 0., 1.], [1., 1., 1.]])
    """
    from zoo_stackgan.captions import measure_attributes

    if not isinstance(images, torch.Tensor) or images.dim() != 4 or images.shape[1] != 1:
        shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise ZooError(f"attribute-agreement measures grey digits shaped (N, 1, H, W), not {shape}.")
    x = images.detach().float().cpu()
    if tuple(x.shape[-2:]) != (28, 28):
        x = F.interpolate(x, size=(28, 28), mode="bilinear", align_corners=False)
    return binarise(measure_attributes(x.clamp(0, 1)), labels.cpu())


class AttributeAgreement(Metric):
    """Agreement of the measured binary attributes of translated digits with the requested ones (module docstring).

    Example:
        >>> zoo.evaluate(model, ["attribute-agreement"], "mnist5k-attributes", dataset_options={"size": 32})
    """

    name = "attribute-agreement"
    inputs = ("translated", "requested", "flipped", "label")
    higher_is_better = True
    unit = "fraction"
    protocol = (
        "zoo_stackgan's measure_attributes (thickness, slant, width) on each translation resized to 28x28, binarised "
        "at the mnist5k train medians (width per digit), == the requested attribute; over all attributes, and over "
        "the flipped one (attribute-agreement-flipped)"
    )

    def reset(self) -> None:
        self.agree = self.count = 0
        self.flipped_agree = self.flipped_count = 0

    def update(
        self,
        translated: torch.Tensor,
        requested: torch.Tensor,
        label: torch.Tensor,
        flipped: torch.Tensor | None = None,
    ) -> None:
        requested = torch.as_tensor(requested).float().cpu()
        label = torch.as_tensor(label).long().cpu()
        if requested.dim() != 2 or requested.shape[0] != len(translated) or label.shape != (len(translated),):
            raise ZooError(
                f"attribute-agreement takes one requested attribute row and one digit label per translation, not "
                f"{tuple(requested.shape)} and {tuple(label.shape)} for {len(translated)} translation(s)."
            )
        got = measure_binary(translated, label)
        if got.shape != requested.shape:
            raise ZooError(
                f"The model's attributes {tuple(requested.shape)} are not the digits' three {tuple(got.shape)}."
            )
        same = got == (requested >= 0.5).float()
        self.agree += int(same.sum())
        self.count += same.numel()
        if flipped is not None:
            flipped = torch.as_tensor(flipped).long().cpu()
            rows = (flipped >= 0).nonzero().flatten()
            self.flipped_agree += int(same[rows, flipped[rows]].sum())
            self.flipped_count += len(rows)

    def compute(self) -> dict[str, float]:
        if self.count == 0:
            raise ZooError("attribute-agreement has seen no translations; call update(translated=..., ...) first.")
        out = {self.name: self.agree / self.count}
        if self.flipped_count:
            out[f"{self.name}-flipped"] = self.flipped_agree / self.flipped_count
        return out
