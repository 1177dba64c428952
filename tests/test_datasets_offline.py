"""digits, photos, faces: real data from installed packages, fixed splits, the SR protocol."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

import zoo_core as zoo
from zoo_core.data import load_dataset
from zoo_core.datasets.offline import EVAL_PHOTOS, PHOTOS


def test_digits_split_and_sizes() -> None:
    train, test = load_dataset("digits", split="train"), load_dataset("digits", split="test")
    assert (len(train), len(test)) == (1442, 355)
    assert len(load_dataset("digits", split="all")) == 1797
    assert (train.channels, train.image_size) == (1, (8, 8))
    per_class = torch.bincount(load_dataset("digits", split="all").labels, minlength=10)
    assert torch.equal(torch.bincount(test.labels, minlength=10), per_class // 5)  # 20 % of each class
    assert train.images.max() == 255 and train.images.min() == 0
    big = load_dataset("digits", split="test", size=28)
    assert big.image_size == (28, 28) and torch.equal(big.labels, test.labels)
    # the resized digit is still the digit: its downsampled version correlates with the original
    small = torch.nn.functional.interpolate(big.tensors()[:50], size=(8, 8), mode="area")
    correlation = torch.corrcoef(torch.stack([small.flatten(), test.tensors()[:50].flatten()]))[0, 1]
    assert correlation > 0.9
    with pytest.raises(zoo.ZooError, match="sizes 8, 28 or 32"):
        load_dataset("digits", size=16)


def test_faces_are_the_hundred_faces() -> None:
    train, test = load_dataset("faces", split="train"), load_dataset("faces", split="test")
    assert (len(train), len(test), train.image_size, train.channels) == (80, 20, (25, 25), 1)
    import skimage.data

    faces = skimage.data.lfw_subset()[:100]
    assert np.allclose(test.tensors()[:, 0].numpy(), faces[80:], atol=1 / 255)


def test_photos_split_crops_and_bicubic_lr() -> None:
    train, test = load_dataset("photos", split="train"), load_dataset("photos", split="test")
    assert set(train.names) == set(PHOTOS) - set(EVAL_PHOTOS) and tuple(test.names) == EVAL_PHOTOS
    item = train[5]
    assert item["target"].shape == (3, 96, 96) and item["image"].shape == (3, 24, 24)
    assert torch.equal(train[5]["target"], item["target"])  # the same index, the same crop
    assert not torch.equal(train[6]["target"], item["target"])
    other_seed = load_dataset("photos", split="train", seed=1)
    assert not torch.equal(other_seed[5]["target"], item["target"])
    # LR is PIL's bicubic downscale of HR
    hr = (item["target"] * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()
    expected = np.asarray(Image.fromarray(hr).resize((24, 24), Image.BICUBIC))
    assert np.array_equal((item["image"] * 255).round().to(torch.uint8).permute(1, 2, 0).numpy(), expected)
    whole = test[0]  # chelsea, 300x451 cropped to a multiple of 4
    assert (
        whole["name"] == "chelsea" and whole["target"].shape == (3, 300, 448) and whole["image"].shape == (3, 75, 112)
    )
    plain = load_dataset("photos", split="train", scale=None, crop_size=64)
    assert set(plain[0]) == {"image", "name"} and plain[0]["image"].shape == (3, 64, 64)
    with pytest.raises(zoo.ZooError, match="multiple of the scale"):
        load_dataset("photos", crop_size=30, scale=4)


def test_every_dataset_is_listed(monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from click.testing import CliRunner

    from zoo_core.cli import cli

    listed = {d["name"] for d in json.loads(CliRunner().invoke(cli, ["datasets", "--json"]).output)}
    assert listed >= {
        "mnist5k",
        "digits",
        "photos",
        "faces",
        "imagefolder",
        "aligned",
        "unpaired",
        "captions",
        "torchvision-mnist",
        "torchvision-fashionmnist",
        "torchvision-cifar10",
        "torchvision-celeba",
        "torchvision-imagefolder",
    }
