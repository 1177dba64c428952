"""``mnist-edges`` and ``mnist-negative``: the two unpaired digit domains of the paper's digit tasks, from mnist5k.

As ``cogan/tools/prepare_mnist.edge.cogan.py`` (and ``cogan_pytorch/src/dataset_mnistedge.py``
``create_two_domains``) builds them: the digits of a split are shuffled once and cut into two
disjoint halves; domain 1 is the first half as it is, domain 2 the second half transformed
(``edges``: ``dilate(x, 3x3) - x``; ``negative``: ``1 - x``). No digit is in both domains, so no
corresponding pair is ever shown. Here the split is mnist5k's (train 4,500 -> 2,250 + 2,250
digits; test 500 -> 250 + 250) and the shuffle is a fixed ``torch.randperm`` seeded with
``split_seed`` (default 0), so the halves are the same on every machine.

Items are ``{"image": domain 1, "target": domain 2}`` (kind ``unpaired``): item ``i`` takes
domain 1's digit ``i`` and a domain-2 digit drawn at random (the reference's
``index_2 = np.random.randint(...)``) from the item's seeded generator (``seed``,
``set_epoch``). ``domain_a`` / ``domain_b`` hold each domain whole and ``indices_a`` /
``indices_b`` the mnist5k indices (within the split) of its digits.

Example:
    >>> data = load_mnist_pair("train", pair="edges")
    >>> len(data), data.kind, data[0]["image"].shape, data[0]["target"].shape
    (2250, 'unpaired', torch.Size([1, 28, 28]), torch.Size([1, 28, 28]))
"""

from __future__ import annotations

from typing import Any

import torch

from zoo_core import ZooError
from zoo_core.data import RandomItemsDataset, TensorImageDataset, load_dataset

from .transforms import apply_pair_transform, check_pair

__all__ = ["DATASET_NAMES", "MnistPairDataset", "load_mnist_edges", "load_mnist_negative", "load_mnist_pair"]

#: the registered dataset of each pair
DATASET_NAMES = {"edges": "mnist-edges", "negative": "mnist-negative"}


class MnistPairDataset(RandomItemsDataset):
    """Two unpaired domains of mnist5k digits (disjoint halves, the second transformed); see the module docstring.

    Example:
        >>> data = MnistPairDataset("test", pair="negative")
        >>> len(data.domain_a), len(data.domain_b)
        (250, 250)
    """

    kind = "unpaired"
    channels = 1
    image_size = (28, 28)

    def __init__(self, split: str = "train", *, pair: str = "edges", split_seed: int = 0, seed: int = 0) -> None:
        self.pair = check_pair(pair)
        self.name, self.split, self.seed = DATASET_NAMES[pair], split, seed
        if split not in ("train", "test"):
            raise ZooError(f"Dataset {self.name!r} has no split {split!r}; its splits are train, test.")
        mnist = load_dataset("mnist5k", split=split)
        if not isinstance(mnist, TensorImageDataset) or mnist.labels is None:
            raise ZooError("mnist5k did not load as labelled digits in memory; reinstall zoo-core.")
        order = torch.randperm(len(mnist), generator=torch.Generator().manual_seed(split_seed))
        half = len(order) // 2
        self.indices_a, self.indices_b = order[:half], order[half:]
        images, labels = mnist.images, mnist.labels
        self.domain_a = TensorImageDataset(
            images[self.indices_a], labels[self.indices_a], name=f"{self.name}:domain1", split=split
        )
        self.domain_b = TensorImageDataset(
            apply_pair_transform(images[self.indices_b], pair),
            labels[self.indices_b],
            name=f"{self.name}:domain2",
            split=split,
        )

    def __len__(self) -> int:
        return len(self.domain_a)

    def __getitem__(self, index: int) -> dict[str, Any]:
        if not 0 <= index < len(self):
            raise IndexError(index)
        b_index = int(torch.randint(0, len(self.domain_b), (1,), generator=self.generator(index, stream=2)))
        return {"image": self.domain_a[index]["image"], "target": self.domain_b[b_index]["image"]}


def load_mnist_pair(split: str = "train", **options: Any) -> MnistPairDataset:
    """A digit pair dataset; options ``pair`` (``edges`` or ``negative``), ``split_seed`` (0), ``seed`` (0).

    Example:
        >>> load_mnist_pair("test", pair="negative").name
        'mnist-negative'
    """
    return MnistPairDataset(split, **options)


def load_mnist_edges(split: str = "train", *, split_seed: int = 0, seed: int = 0) -> MnistPairDataset:
    """``mnist-edges``: mnist5k digits (domain 1) and the edge images of the other half (domain 2).

    Example:
        >>> load_mnist_edges("test").pair
        'edges'
    """
    return MnistPairDataset(split, pair="edges", split_seed=split_seed, seed=seed)


def load_mnist_negative(split: str = "train", *, split_seed: int = 0, seed: int = 0) -> MnistPairDataset:
    """``mnist-negative``: mnist5k digits (domain 1) and the negatives ``1 - x`` of the other half (domain 2).

    Example:
        >>> load_mnist_negative("test").pair
        'negative'
    """
    return MnistPairDataset(split, pair="negative", split_seed=split_seed, seed=seed)
