"""digits, photos, faces: real data from installed packages, fixed splits, the SR protocol."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest
import torch
from PIL import Image

import zoo_core as zoo
from zoo_core.data import TensorImageDataset, load_dataset
from zoo_core.datasets.offline import EVAL_PHOTOS, PHOTOS, load_photo, load_photos
from zoo_core.datasets.transforms import bicubic_downscale


def rows(data: TensorImageDataset) -> Counter[bytes]:
    """Each image (with its label) as bytes, counted: a multiset to compare splits with."""
    labels = data.labels if data.labels is not None else torch.zeros(len(data), dtype=torch.long)
    return Counter(bytes(img.numpy()) + bytes([int(label)]) for img, label in zip(data.images, labels, strict=True))


def assert_partition(name: str, sizes: tuple[int, int]) -> None:
    """train and test are the given sizes, and together are exactly `all` (no overlap, nothing lost)."""
    train, test, everything = (load_dataset(name, split=s) for s in ("train", "test", "all"))
    assert (len(train), len(test)) == sizes and len(everything) == sum(sizes)
    assert rows(train) + rows(test) == rows(everything)
    again = load_dataset(name, split="test")
    assert torch.equal(again.images, test.images)  # deterministic order


def test_digits_split_and_sizes() -> None:
    assert_partition("digits", (1442, 355))
    train, test = load_dataset("digits", split="train"), load_dataset("digits", split="test")
    assert (train.channels, train.image_size, train.kind) == (1, (8, 8), "labelled")
    per_class = torch.bincount(load_dataset("digits", split="all").labels, minlength=10)
    assert torch.equal(torch.bincount(test.labels, minlength=10), per_class // 5)  # 20 % of each class
    assert train.images.max() == 255 and train.images.min() == 0  # 0..16 scaled to the full 8-bit range
    big = load_dataset("digits", split="test", size=28)
    assert big.image_size == (28, 28) and torch.equal(big.labels, test.labels)
    # the resized digit is still the digit: its downsampled version correlates with the original
    small = torch.nn.functional.interpolate(big.tensors()[:50], size=(8, 8), mode="area")
    correlation = torch.corrcoef(torch.stack([small.flatten(), test.tensors()[:50].flatten()]))[0, 1]
    assert correlation > 0.9
    with pytest.raises(zoo.ZooError, match="size from 8 to 256"):
        load_dataset("digits", size=4)


def test_digits_margin_frames_them_like_mnist() -> None:
    framed = load_dataset("digits", split="test", size=28, margin=4).tensors()
    assert framed.shape[-2:] == (28, 28)
    border = framed.clone()
    border[..., 4:24, 4:24] = 0
    assert border.max() == 0  # nothing outside the 20x20 box
    assert framed[..., 4:24, 4:24].amax(dim=(1, 2, 3)).min() > 0.5  # every digit has ink inside it
    with pytest.raises(zoo.ZooError, match="margin"):
        load_dataset("digits", size=28, margin=11)


def test_faces_are_the_hundred_faces() -> None:
    assert_partition("faces", (80, 20))
    train, test = load_dataset("faces", split="train"), load_dataset("faces", split="test")
    assert (train.image_size, train.channels, train.kind) == ((25, 25), 1, "images")
    import skimage.data

    faces = skimage.data.lfw_subset()[:100]
    assert np.allclose(test.tensors()[:, 0].numpy(), faces[80:], atol=0.5 / 255 + 1e-6)
    assert "label" not in test[0] and float(test[0]["image"].min()) >= 0 and float(test[0]["image"].max()) <= 1


def test_photos_splits_are_fixed_and_disjoint() -> None:
    train, test = load_dataset("photos", split="train"), load_dataset("photos", split="test")
    assert train.names == [n for n in PHOTOS if n not in EVAL_PHOTOS] and len(train.names) == 7
    assert tuple(test.names) == EVAL_PHOTOS and not set(train.names) & set(test.names)
    assert all(load_photo(n).shape[0] == 3 for n in PHOTOS)  # every photo is RGB
    shapes = {n: tuple(load_photo(n).shape[1:]) for n in PHOTOS}
    assert shapes["chelsea"] == (300, 451) and shapes["grace_hopper"] == (600, 512) and shapes["china"] == (427, 640)
    with pytest.raises(zoo.ZooError, match="no split 'val'"):
        load_photos("val")


def test_photo_crops_are_seeded_per_item_and_epoch() -> None:
    train = load_dataset("photos", split="train")
    assert (train.image_size, train.target_size, train.kind, len(train)) == ((24, 24), (96, 96), "paired", 1000)
    item = train[5]
    assert item["target"].shape == (3, 96, 96) and item["image"].shape == (3, 24, 24)
    assert float(item["target"].min()) >= 0 and float(item["target"].max()) <= 1
    assert torch.equal(load_dataset("photos", split="train")[5]["target"], item["target"])  # same seed, same crop
    assert not torch.equal(train[6]["target"], item["target"])
    assert not torch.equal(load_dataset("photos", split="train", seed=1)[5]["target"], item["target"])
    train.set_epoch(1)
    assert not torch.equal(train[5]["target"], item["target"])  # a new epoch, new crops
    train.set_epoch(0)
    assert torch.equal(train[5]["target"], item["target"])
    # photos are picked uniformly (not by area: the 1411x1411 retina would take half the crops)
    counts = Counter(train[i]["name"] for i in range(350))
    assert set(counts) == set(train.names) and max(counts.values()) < 80


def test_photo_crops_are_windows_of_the_photo() -> None:
    plain = load_dataset("photos", split="train", scale=None, crop_size=64, flip=False, crops_per_epoch=3)
    assert plain.kind == "images" and plain.image_size == (64, 64)
    for i in range(3):
        item = plain[i]
        assert set(item) == {"image", "name"}
        crop = (item["image"] * 255).round().to(torch.uint8)
        photo = load_photo(item["name"])
        h, w = photo.shape[1:]
        # candidate corners: where the photo has the crop's first two pixels; then compare whole windows
        first, second = crop[:, 0, 0, None, None], crop[:, 0, 1, None, None]
        hits = (photo[:, : h - 63, : w - 63] == first).all(0) & (photo[:, : h - 63, 1 : w - 62] == second).all(0)
        found = [(int(t), int(x)) for t, x in torch.nonzero(hits)[:2000]]
        assert any(torch.equal(photo[:, t : t + 64, x : x + 64], crop) for t, x in found)


def test_sr_lr_is_pil_bicubic_of_hr() -> None:
    item = load_dataset("photos", split="train")[7]
    hr = (item["target"] * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()
    expected = np.asarray(Image.fromarray(hr).resize((24, 24), Image.BICUBIC))
    assert np.array_equal((item["image"] * 255).round().to(torch.uint8).permute(1, 2, 0).numpy(), expected)
    test = load_dataset("photos", split="test")
    assert test.image_size is None and len(test) == 3
    whole = test[0]  # chelsea, 300x451 cropped at the right to a multiple of 4
    assert (
        whole["name"] == "chelsea" and whole["target"].shape == (3, 300, 448) and whole["image"].shape == (3, 75, 112)
    )
    assert torch.equal(whole["target"], load_photo("chelsea")[:, :, :448].float() / 255)
    assert torch.equal(whole["image"], bicubic_downscale(whole["target"], 4))
    x2 = load_dataset("photos", split="test", scale=2)[2]  # grace_hopper 600x512
    assert x2["target"].shape == (3, 600, 512) and x2["image"].shape == (3, 300, 256)
    with pytest.raises(zoo.ZooError, match="multiple of the scale"):
        load_dataset("photos", crop_size=30, scale=4)


def test_unknown_option_is_one_sentence() -> None:
    with pytest.raises(zoo.ZooError, match=r"Dataset 'digits' has no option 'sise'"):
        load_dataset("digits", sise=28)
    with pytest.raises(zoo.ZooError, match=r"Dataset 'photos' has no option 'crop'"):
        load_dataset("photos", crop=64)


def test_every_dataset_is_listed() -> None:
    from click.testing import CliRunner

    from zoo_core.cli import cli

    result = CliRunner().invoke(cli, ["datasets", "--json"])
    assert result.exit_code == 0, result.output
    listed = {d["name"]: d for d in json.loads(result.output)}
    assert set(listed) >= {
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
    assert listed["digits"]["image_size"] == [8, 8] and listed["photos"]["image_size"] is None
    assert listed["photos"]["channels"] == 3 and listed["faces"]["channels"] == 1
    assert listed["aligned"]["splits"] == ["train", "val", "test"]
    for name in ("digits", "photos", "faces", "aligned", "torchvision-mnist"):
        entry = listed[name]
        assert entry["description"] and entry["license"] and entry["plugin"] == "zoo_core.builtin.datasets"
