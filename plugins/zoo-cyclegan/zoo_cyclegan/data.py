"""``digits-mnist``: two real, unpaired domains of handwritten digits, available offline, for CycleGAN.

- Domain A: scikit-learn's handwritten digits (``digits``: 8x8 scans of UCI optdigits, 16 grey
  levels), upscaled bilinearly to ``size`` with ``margin`` black pixels around them (default
  28x28 with a margin of 4: the digit fills a 20x20 box, as MNIST's do), so they are blurry and
  blocky;
- Domain B: MNIST digits (``mnist5k``: 28x28, resized to ``size`` when it is not 28), sharp pen
  strokes of other writers.

Same format as the ``unpaired`` folder dataset and the reference's ``unaligned_dataset``: items
``{"image": A, "target": B}``, the length is the larger domain's (``mnist5k``'s), item ``i``
takes ``A[i % len(A)]`` and a ``B`` drawn at random from the item's seeded generator
(``seed``, ``set_epoch``), or ``B[i % len(B)]`` with ``serial=True``; ``direction="BtoA"`` swaps
the domains. No crops or flips (a flipped digit is another glyph, and the digits are already at
the training size). Splits are the two datasets' own: train 1,442 A / 4,500 B, test 355 A /
500 B; ``domain_a`` and ``domain_b`` hold each domain whole (for evaluation, each held-out
image once).

Example:
    >>> pairs = load_dataset("digits-mnist", split="train")
    >>> len(pairs), pairs.kind, pairs[0]["image"].shape, pairs[0]["target"].shape
    (4500, 'unpaired', torch.Size([1, 28, 28]), torch.Size([1, 28, 28]))
"""

from __future__ import annotations

from typing import Any

import torch

from zoo_core import ZooError
from zoo_core.data import RandomItemsDataset, TensorImageDataset, load_dataset

__all__ = ["DigitsMnistDataset", "load_digits_mnist"]


class DigitsMnistDataset(RandomItemsDataset):
    """Unpaired scikit-learn digits (A) and MNIST digits (B); see the module docstring.

    Example:
        >>> DigitsMnistDataset("test").domain_a.image_size
        (28, 28)
    """

    kind = "unpaired"
    channels = 1

    def __init__(
        self,
        split: str = "train",
        *,
        size: int = 28,
        margin: int = 4,
        direction: str = "AtoB",
        serial: bool = False,
        seed: int = 0,
    ) -> None:
        if direction not in ("AtoB", "BtoA"):
            raise ZooError(f"digits-mnist's direction must be 'AtoB' or 'BtoA', not {direction!r}.")
        if split not in ("train", "test"):
            raise ZooError(f"Dataset 'digits-mnist' has no split {split!r}; its splits are train, test.")
        self.name, self.split, self.seed = "digits-mnist", split, seed
        self.size, self.margin, self.direction, self.serial = size, margin, direction, serial
        digits = load_dataset("digits", split=split, size=size, margin=margin)
        mnist = load_dataset("mnist5k", split=split, size=size)
        self.domain_a: TensorImageDataset = digits if direction == "AtoB" else mnist
        self.domain_b: TensorImageDataset = mnist if direction == "AtoB" else digits
        self.image_size = (size, size)

    def __len__(self) -> int:
        return max(len(self.domain_a), len(self.domain_b))

    def __getitem__(self, index: int) -> dict[str, Any]:
        if not 0 <= index < len(self):
            raise IndexError(index)
        n_b = len(self.domain_b)
        if self.serial:
            b_index = index % n_b
        else:
            b_index = int(torch.randint(0, n_b, (1,), generator=self.generator(index, stream=2)))
        return {
            "image": self.domain_a[index % len(self.domain_a)]["image"],
            "target": self.domain_b[b_index]["image"],
        }


def load_digits_mnist(split: str = "train", **options: Any) -> DigitsMnistDataset:
    """``digits-mnist``; options ``size`` (28), ``margin`` (4, around the sklearn digits), ``direction``, ``serial``.

    Example:
        >>> load_digits_mnist("test", size=32).image_size
        (32, 32)
    """
    return DigitsMnistDataset(split, **options)
