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


def test_mnist5k_binarize_stochastic_is_one_fixed_draw_over_the_whole_file() -> None:
    import numpy as np

    from zoo_core.datasets.mnist5k import BINARIZE_SEED, _arrays, split_indices

    grey = load_dataset("mnist5k", split="all")
    binary = load_dataset("mnist5k", split="all", binarize="stochastic")
    values = binary.tensors()
    assert values.dtype == torch.float32 and sorted(values.unique().tolist()) == [0.0, 1.0]
    # each pixel ~ Bernoulli(grey / 255), with the uniforms of one PCG64 stream, digit after digit
    images, labels = _arrays()
    uniforms = np.random.Generator(np.random.PCG64(BINARIZE_SEED)).random((len(images), 784))
    expected = uniforms < images.reshape(len(images), 784) / 255.0
    assert np.array_equal(values.flatten(1).numpy() == 1, expected)
    assert torch.equal(binary.labels, grey.labels)
    assert abs(values.mean().item() - grey.tensors().mean().item()) < 2e-3  # the mean grey value, as it should
    assert (values[grey.images == 0] == 0).all() and (values[grey.images == 255] == 1).all()
    # every split sees the same binary digits as the whole file, in every call
    for split in ("train", "test"):
        part = load_dataset("mnist5k", split=split, binarize="stochastic")
        assert torch.equal(part.images, binary.images[torch.from_numpy(split_indices(labels, split))])
    again = load_dataset("mnist5k", split="test", binarize="stochastic")
    assert torch.equal(again.images, load_dataset("mnist5k", split="test", binarize="stochastic").images)


def test_mnist5k_binarize_threshold_and_errors() -> None:
    grey = load_dataset("mnist5k", split="test")
    threshold = load_dataset("mnist5k", split="test", binarize="threshold")
    assert torch.equal(threshold.tensors(), (grey.tensors() > 0.5).float())
    assert torch.equal(load_dataset("mnist5k", split="test", binarize="none").images, grey.images)
    resized = load_dataset("mnist5k", split="test", size=14, binarize="stochastic").tensors()
    assert resized.shape == (500, 1, 14, 14) and sorted(resized.unique().tolist()) == [0.0, 1.0]
    with pytest.raises(zoo.ZooError, match=r"binarize must be one of none, stochastic, threshold, not 'yes'"):
        load_dataset("mnist5k", split="test", binarize="yes")
    with pytest.raises(zoo.ZooError, match="binarize"):
        load_dataset("mnist5k", split="test", binarize=1)
