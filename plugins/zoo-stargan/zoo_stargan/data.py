"""``mnist5k-attributes``: mnist5k's digits with three binary attributes measured on their pixels.

StarGAN learns from images labelled with binary attributes (CelebA's hair colours, gender, age). Digits
have none, but their look can be measured: ``zoo_stackgan.captions.measure_attributes`` (the measurements
``mnist5k-captions`` writes its captions from) gives each 28x28 digit its stroke thickness, its slant and
its deskewed width. Each is cut in two at the median of the train split (constants in ``MEDIANS``, checked
by the tests against ``fit_medians``), so each attribute is on for about half the digits:

- ``thick``: mean stroke width above 1.9344 pixels;
- ``right_slant``: slant above 7.956 degrees (the median digit already leans right: "right_slant" means
  leaning right more than most digits, "off" means upright or leaning left);
- ``wide``: deskewed width above the median of the digit's own class (a wide one is wide for a one).

Items are ``{"image": (1, S, S) in [0, 1], "label": digit, "attributes": (3,) float 0. / 1.}`` in
``ATTRIBUTES`` order; the attributes are always measured on the original 28x28 digits (``size`` only
resizes the images). The dataset's ``kind`` is ``"attributed"`` and ``attributes`` names the columns.

Example:
    >>> data = load_mnist5k_attributes("test", size=32)
    >>> data.attributes, data[0]["attributes"]
    (('thick', 'right_slant', 'wide'), tensor([1., 0., 1.]))
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from zoo_core import ZooError
from zoo_core.data import ImageDataset

__all__ = ["ATTRIBUTES", "MEDIANS", "AttributedDigits", "binarise", "fit_medians", "load_mnist5k_attributes"]

#: the binary attributes, in the order of an item's ``"attributes"``
ATTRIBUTES: tuple[str, ...] = ("thick", "right_slant", "wide")
#: medians of the mnist5k train split (4,500 digits) measured by ``measure_attributes`` (``fit_medians``):
#: thickness (pixels), slant (degrees), and width (pixels) per digit 0-9
MEDIANS: dict[str, Any] = {
    "thickness": 1.9344,
    "slant": 7.956,
    "width": (16.3938, 3.6985, 14.2486, 12.2401, 13.2904, 12.6947, 11.8192, 12.079, 10.8325, 10.8968),
}


def fit_medians(measurements: Mapping[str, torch.Tensor], labels: torch.Tensor) -> dict[str, Any]:
    """``MEDIANS`` computed from ``measurements`` (of the train split, for the constants), rounded to 4 decimals.

    Example:
        >>> from zoo_core.datasets import mnist5k
        >>> from zoo_stackgan.captions import measure_attributes
        >>> train = mnist5k.load("train")
        >>> fit_medians(measure_attributes(train.images), train.labels)["thickness"]
        1.9344
    """

    def median(values: torch.Tensor) -> float:
        return round(float(torch.quantile(values.double(), 0.5)), 4)

    labels = torch.as_tensor(labels)
    return {
        "thickness": median(measurements["thickness"]),
        "slant": median(measurements["slant"]),
        "width": tuple(median(measurements["width"][labels == d]) for d in range(10)),
    }


def binarise(
    measurements: Mapping[str, torch.Tensor], labels: torch.Tensor, medians: Mapping[str, Any] | None = None
) -> torch.Tensor:
    """The binary attributes ``(N, 3)`` (float 0. / 1., ``ATTRIBUTES`` order) of measured digits.

    Args:
        measurements: what ``zoo_stackgan.captions.measure_attributes`` returned.
        labels: ``(N,)`` digits 0-9 (width's median is per digit).
        medians: cut points as ``MEDIANS`` (the default).

    Example:
        >>> bar = torch.zeros(1, 1, 28, 28); bar[..., 4:24, 12:15] = 1  # upright, 3 pixels wide
        >>> binarise(measure_attributes(bar), torch.tensor([1]))
        tensor([[1., 0., 0.]])
    """
    medians = MEDIANS if medians is None else medians
    labels = torch.as_tensor(labels, dtype=torch.long)
    if labels.shape != measurements["thickness"].shape or bool(((labels < 0) | (labels > 9)).any()):
        raise ZooError(f"binarise takes one digit label 0-9 per measured image, not {labels.tolist()[:8]}...")
    width = torch.tensor(medians["width"], dtype=torch.float64)[labels]
    return torch.stack(
        [
            measurements["thickness"].double() > float(medians["thickness"]),
            measurements["slant"].double() > float(medians["slant"]),
            measurements["width"].double() > width,
        ],
        dim=1,
    ).float()


class AttributedDigits(ImageDataset):
    """Digits with their binary attributes (see the module docstring); ``kind`` ``"attributed"``.

    Example:
        >>> data = AttributedDigits(images, labels, binarise(measure_attributes(images), labels))
        >>> data[0]["attributes"]
        tensor([0., 1., 1.])
    """

    kind = "attributed"

    def __init__(
        self,
        images: torch.Tensor,
        labels: torch.Tensor,
        attributes: torch.Tensor,
        *,
        name: str = "mnist5k-attributes",
        split: str = "train",
    ) -> None:
        if images.dtype != torch.uint8 or images.dim() != 4:
            raise ZooError(
                f"AttributedDigits takes uint8 images (N, C, H, W), not {images.dtype} {tuple(images.shape)}."
            )
        if not len(images) == len(labels) == len(attributes) or attributes.dim() != 2:
            raise ZooError(
                f"{len(images)} images, {len(labels)} labels and {len(attributes)} attribute rows; they must match."
            )
        self.images, self.labels, self.attribute_values = images, labels.long(), attributes.float()
        self.attributes = ATTRIBUTES
        self.name, self.split = name, split
        self.channels = images.shape[1]
        self.image_size = (images.shape[2], images.shape[3])

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> dict[str, Any]:
        index = int(index)
        return {
            "image": self.images[index].float().div_(255.0),
            "label": int(self.labels[index]),
            "attributes": self.attribute_values[index].clone(),
        }


def load_mnist5k_attributes(split: str = "train", size: int = 28) -> AttributedDigits:
    """mnist5k's ``split`` (train 4,500, test 500, or all) with the binary attributes of ``ATTRIBUTES``.

    Args:
        split: train, test or all (mnist5k's splits).
        size: the side of the images (resized as mnist5k resizes them; 32 for a StarGAN whose
            discriminator halves it five times); the attributes are measured on the 28x28 originals.

    Example:
        >>> load_mnist5k_attributes("train").attribute_values.mean(0)  # about half of each
        tensor([0.5000, 0.5000, 0.5000])
    """
    from zoo_stackgan.captions import measure_attributes

    from zoo_core.datasets import mnist5k

    original = mnist5k.load(split, 28)
    values = binarise(measure_attributes(original.images), original.labels)
    images = original.images if size == 28 else mnist5k.load(split, size).images
    return AttributedDigits(images, original.labels, values, split=split)
