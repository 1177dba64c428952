"""The built-in mnist5k dataset (real digits, a fixed stratified split) and the dataset contract."""

from __future__ import annotations

import pytest
import torch

import zoo_core as zoo
from zoo_core.data import ImageDataset, TensorImageDataset, load_dataset


def test_mnist5k_split_is_fixed_stratified_and_disjoint() -> None:
    train, test = load_dataset("mnist5k", split="train"), load_dataset("mnist5k", split="test")
    assert (len(train), len(test)) == (4500, 500)
    assert torch.bincount(test.labels, minlength=10).tolist() == [50] * 10
    assert torch.bincount(train.labels, minlength=10).tolist() == [450] * 10
    everything = load_dataset("mnist5k", split="all")
    rows = {bytes(img.numpy()) for img in everything.images}
    assert len(rows) > 4990  # real, distinct digits (a handful of MNIST duplicates at most)
    assert not {bytes(img.numpy()) for img in test.images} & {bytes(img.numpy()) for img in train.images}
    again = load_dataset("mnist5k", split="test")
    assert torch.equal(again.images, test.images)


def test_items_follow_the_contract() -> None:
    data = load_dataset("mnist5k", split="test")
    item = data[0]
    assert item["image"].shape == (1, 28, 28) and item["image"].dtype == torch.float32
    assert item["image"].min() >= 0.0 and item["image"].max() <= 1.0 and item["image"].max() > 0.5
    assert isinstance(item["label"], int)
    assert (data.channels, data.image_size, data.kind) == (1, (28, 28), "labelled")


def test_dataset_errors() -> None:
    with pytest.raises(zoo.UnknownNameError, match="Unknown dataset 'mnist6k': did you mean mnist5k"):
        load_dataset("mnist6k")
    with pytest.raises(zoo.ZooError, match="no split 'validation'"):
        load_dataset("mnist5k", split="validation")
    with pytest.raises(zoo.ZooError, match="uint8 images"):
        TensorImageDataset(torch.zeros(2, 1, 4, 4))


def test_mnist5k_split_partitions_the_file() -> None:
    from collections import Counter

    def rows(split: str) -> Counter[bytes]:
        data = load_dataset("mnist5k", split=split)
        return Counter(bytes(img.numpy()) + bytes([int(y)]) for img, y in zip(data.images, data.labels, strict=True))

    assert rows("train") + rows("test") == rows("all")  # disjoint, and nothing left out


def test_item_seeds_are_per_item_and_epoch() -> None:
    from zoo_core.data import RandomItemsDataset, item_seed

    seeds = {item_seed(s, e, i) for s in range(3) for e in range(3) for i in range(50)}
    assert len(seeds) == 3 * 3 * 50  # (seed, epoch, index) never collide, unlike seed + index
    assert item_seed(0, 0, 1) == item_seed(0, 0, 1) and item_seed(0, 0, 1, stream=1) != item_seed(0, 0, 1)

    class Noise(RandomItemsDataset):
        def __len__(self) -> int:
            return 4

        def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
            return {"image": torch.rand(1, 2, 2, generator=self.generator(index))}

    data = Noise()
    first = data[2]["image"]
    assert torch.equal(data[2]["image"], first) and not torch.equal(data[3]["image"], first)
    data.set_epoch(1)
    assert not torch.equal(data[2]["image"], first)
    assert ImageDataset.image_size is None  # the contract's default: sizes vary unless a dataset says otherwise
