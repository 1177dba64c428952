"""The papers' folder formats: image folder, pix2pix aligned pairs, CycleGAN unpaired, captions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import zoo_core as zoo
from zoo_core.data import load_dataset
from zoo_core.datasets.transforms import CenterCrop, RandomCrop, pix2pix_test_transform, pix2pix_train_transform


def save(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def gradient(h: int, w: int, channel: int) -> np.ndarray:
    image = np.zeros((h, w, 3), dtype=np.uint8)
    image[..., channel] = np.linspace(0, 255, w, dtype=np.uint8)[None, :]
    return image


def noise(h: int, w: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def as_uint8(image: torch.Tensor) -> np.ndarray:
    return (image * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()


@pytest.fixture
def aligned_root(tmp_path: Path) -> Path:
    """pix2pix layout: train/ holds three A|B images, A a red ramp (marked), B a blue ramp."""
    for i in range(3):
        a, b = gradient(40, 40, 0), gradient(40, 40, 2)
        a[0, 0] = [i, i, i]
        save(tmp_path / "train" / f"{i}.png", np.concatenate([a, b], axis=1))
    return tmp_path


# -- image folder --------------------------------------------------------------------------
def test_image_folder_with_and_without_classes(tmp_path: Path) -> None:
    for cls in ("cats", "dogs"):
        for i in range(2):
            save(tmp_path / "classes" / cls / f"{i}.png", gradient(10, 12, 1))
    save(tmp_path / "classes" / "dogs" / "puppies" / "p.png", gradient(10, 12, 1))  # deeper: still a dog
    save(tmp_path / "classes" / ".ipynb_checkpoints" / "x.png", gradient(10, 12, 1))  # hidden: not a class
    (tmp_path / "classes" / "cats" / "notes.txt").write_text("not an image, skipped")
    labelled = load_dataset("imagefolder", root=tmp_path / "classes")
    assert labelled.kind == "labelled" and labelled.classes == ["cats", "dogs"]
    assert [labelled[i]["label"] for i in range(len(labelled))] == [0, 0, 1, 1, 1]
    assert labelled[0]["image"].shape == (3, 10, 12) and labelled.image_size is None
    save(tmp_path / "flat" / "a.png", gradient(10, 12, 1))
    flat = load_dataset(f"imagefolder:{tmp_path / 'flat'}", channels=1)
    assert flat.kind == "images" and flat[0]["image"].shape == (1, 10, 12) and "label" not in flat[0]
    assert torch.equal(
        flat[0]["image"][0], torch.from_numpy(np.array(Image.open(tmp_path / "flat" / "a.png").convert("L"))) / 255
    )


def test_image_folder_splits_never_fall_back_to_the_training_images(tmp_path: Path) -> None:
    save(tmp_path / "flat" / "a.png", gradient(8, 8, 0))
    assert len(load_dataset("imagefolder", split="train", root=tmp_path / "flat")) == 1
    assert len(load_dataset("imagefolder", split="all", root=tmp_path / "flat")) == 1
    with pytest.raises(zoo.ZooError, match=r"has no test/ folder, so it has no held-out images"):
        load_dataset("imagefolder", split="test", root=tmp_path / "flat")
    for split, n in (("train", 3), ("test", 1)):
        for i in range(n):
            save(tmp_path / "split" / split / ("cat" if i % 2 else "dog") / f"{i}.png", gradient(8, 8, 0))
    train, test = (load_dataset("imagefolder", split=s, root=tmp_path / "split") for s in ("train", "test"))
    assert (len(train), len(test)) == (3, 1) and train.classes == ["cat", "dog"] and test.classes == ["dog"]
    everything = load_dataset("imagefolder", split="all", root=tmp_path / "split")
    assert len(everything) == 4 and everything.classes == ["cat", "dog"]  # not the classes "train" and "test"
    with pytest.raises(zoo.ZooError, match=r"split[/\\]val is missing: .* is split into train/, test/"):
        load_dataset("imagefolder", split="val", root=tmp_path / "split")


def test_image_folder_resize_and_crop(tmp_path: Path) -> None:
    root = tmp_path / "images"  # not tmp_path itself, which holds $ZOO_CACHE
    root.mkdir()
    save(root / "a.png", noise(30, 50, 0))
    data = load_dataset("imagefolder", root=root, load_size=40, crop_size=32, seed=3)
    assert data.image_size == (32, 32) and data[0]["image"].shape == (3, 32, 32)
    assert torch.equal(
        data[0]["image"], load_dataset("imagefolder", root=root, load_size=40, crop_size=32, seed=3)[0]["image"]
    )


# -- transforms ------------------------------------------------------------------------------
def test_pix2pix_transform_resizes_crops_flips_and_keeps_pairs_aligned() -> None:
    a = torch.rand(3, 300, 300)
    b = 1 - a
    transform = pix2pix_train_transform(286, 256)
    for seed in range(4):
        out_a, out_b = transform([a, b], torch.Generator().manual_seed(seed))
        assert out_a.shape == out_b.shape == (3, 256, 256)
        again, _ = transform([a, b], torch.Generator().manual_seed(seed))
        assert torch.equal(again, out_a)  # the same seed, the same crop and flip
    # load 256 = crop 256: the crop is the whole image, so each output is the image or its mirror
    image = torch.rand(3, 256, 256)
    outcomes = set()
    for seed in range(12):
        (out,) = pix2pix_train_transform(256, 256)([image], torch.Generator().manual_seed(seed))
        mirrored = torch.equal(out, image.flip(-1))
        assert mirrored or torch.equal(out, image)
        outcomes.add(mirrored)
    assert outcomes == {True, False}  # flips are drawn, and do mirror
    (no_flip,) = pix2pix_train_transform(256, 256, flip=False)([image], torch.Generator().manual_seed(0))
    assert torch.equal(no_flip, image)
    assert pix2pix_test_transform(256)([torch.rand(3, 300, 500)])[0].shape == (3, 256, 256)


def test_resize_matches_pil_bicubic_and_crops_fail_clearly() -> None:
    picture = noise(40, 60, 1)
    (ours,) = pix2pix_test_transform(32)([torch.from_numpy(picture).permute(2, 0, 1).float() / 255])
    pil = np.asarray(Image.fromarray(picture).resize((32, 32), Image.BICUBIC)).astype(int)
    assert np.abs(as_uint8(ours).astype(int) - pil).mean() < 1.5  # within about a grey level of PIL
    with pytest.raises(zoo.ZooError, match="Cannot crop 64x64 from a 40x60 image"):
        RandomCrop(64)([torch.rand(3, 40, 60)])
    with pytest.raises(zoo.ZooError, match="one size"):
        CenterCrop(8)([torch.rand(3, 40, 60), torch.rand(3, 40, 40)])


# -- aligned pairs -----------------------------------------------------------------------------
def test_aligned_pairs_split_into_halves_and_direction(aligned_root: Path) -> None:
    pairs = load_dataset("aligned", root=aligned_root, load_size=None)
    assert (len(pairs), pairs.kind, pairs.image_size) == (3, "paired", None)
    item = pairs[1]
    assert item["image"].shape == item["target"].shape == (3, 40, 40)
    assert item["image"][0].max() == 1 and item["image"][2, 1:].max() == 0  # A is the red half
    assert item["target"][2].max() == 1 and item["target"][0].max() == 0  # B the blue one
    assert torch.allclose(item["image"][:, 0, 0], torch.full((3,), 1 / 255))  # image 1's marker pixel
    reverse = load_dataset("aligned", root=aligned_root, load_size=None, direction="BtoA")[1]
    assert torch.equal(reverse["image"], item["target"]) and torch.equal(reverse["target"], item["image"])


def test_aligned_pair_built_from_two_known_images(tmp_path: Path) -> None:
    a, b = noise(48, 48, 1), noise(48, 48, 2)
    save(tmp_path / "val" / "pair.png", np.concatenate([a, b], axis=1))
    item = load_dataset("aligned", split="val", root=tmp_path, load_size=None)[0]
    assert np.array_equal(as_uint8(item["image"]), a) and np.array_equal(as_uint8(item["target"]), b)
    # training crops and flips A and B together: with B = 255 - A, target stays 1 - image
    save(tmp_path / "train" / "inv.png", np.concatenate([a, 255 - a], axis=1))
    train = load_dataset("aligned", root=tmp_path, load_size=48, crop_size=40, seed=0)
    assert train.image_size == (40, 40)
    crops = []
    for epoch in range(3):
        train.set_epoch(epoch)
        pair = train[0]
        assert pair["image"].shape == (3, 40, 40) and torch.allclose(pair["target"], 1 - pair["image"], atol=1e-6)
        crops.append(pair["image"])
    assert not torch.equal(crops[0], crops[1]) or not torch.equal(crops[1], crops[2])  # epochs draw anew
    train.set_epoch(0)
    assert torch.equal(train[0]["image"], crops[0])  # and are reproducible
    val = load_dataset("aligned", split="val", root=tmp_path, crop_size=32)[0]  # evaluation: resize, no crop
    assert val["image"].shape == (3, 32, 32)


# -- unpaired ------------------------------------------------------------------------------------
def test_unpaired_domains(tmp_path: Path) -> None:
    for i in range(3):
        save(tmp_path / "trainA" / f"{i}.png", np.full((20, 20, 3), i, dtype=np.uint8))
    for i in range(5):
        save(tmp_path / "trainB" / f"{i}.png", np.full((30, 30, 3), 100 + i, dtype=np.uint8))
    data = load_dataset("unpaired", root=tmp_path, load_size=None)
    assert len(data) == 5 and data.kind == "unpaired"
    assert data[0]["image"].shape == (3, 20, 20) and data[0]["target"].shape == (3, 30, 30)

    def b_of(dataset: object, i: int) -> int:
        return round(float(dataset[i]["target"][0, 0, 0]) * 255) - 100  # type: ignore[index]

    def a_of(dataset: object, i: int) -> int:
        return round(float(dataset[i]["image"][0, 0, 0]) * 255)  # type: ignore[index]

    assert [a_of(data, i) for i in range(5)] == [0, 1, 2, 0, 1]  # A in order, wrapping around
    drawn = [b_of(data, i) for i in range(5)]
    assert drawn == [b_of(load_dataset("unpaired", root=tmp_path, load_size=None), i) for i in range(5)]  # seeded
    others = {tuple(b_of(load_dataset("unpaired", root=tmp_path, load_size=None, seed=s), i) for i in range(5))
              for s in range(1, 6)}  # fmt: skip
    assert len(others | {tuple(drawn)}) > 1  # B is drawn at random, not in order
    serial = load_dataset("unpaired", root=tmp_path, load_size=None, serial=True)
    assert [b_of(serial, i) for i in range(5)] == [0, 1, 2, 3, 4]
    swapped = load_dataset("unpaired", root=tmp_path, load_size=None, direction="BtoA", serial=True)
    assert swapped[0]["image"].shape == (3, 30, 30) and round(float(swapped[4]["target"][0, 0, 0]) * 255) == 1


def test_unpaired_transforms_a_and_b_independently(tmp_path: Path) -> None:
    save(tmp_path / "trainA" / "a.png", noise(40, 40, 3))
    save(tmp_path / "trainB" / "b.png", noise(40, 40, 3))  # the same picture in both domains
    data = load_dataset("unpaired", root=tmp_path, load_size=40, crop_size=24)
    item = data[0]
    assert item["image"].shape == item["target"].shape == (3, 24, 24)
    assert not torch.equal(item["image"], item["target"])  # different crops of one picture


# -- captions ------------------------------------------------------------------------------------
def test_captions(tmp_path: Path) -> None:
    save(tmp_path / "a.png", gradient(8, 8, 0))
    (tmp_path / "a.txt").write_text("a red ramp\n\nanother caption\n")
    data = load_dataset("captions", root=tmp_path)
    assert data.kind == "captioned" and data.pick == "random"
    seen = set()
    for epoch in range(12):
        data.set_epoch(epoch)
        seen.add(data[0]["caption"])
    assert seen == {"a red ramp", "another caption"}  # blank lines are not captions
    assert load_dataset("captions", root=tmp_path, pick="first")[0]["caption"] == "a red ramp"
    save(tmp_path / "b.png", gradient(8, 8, 0))
    with pytest.raises(zoo.ZooError, match=r"b\.png has no caption file .*b\.txt"):
        load_dataset("captions", root=tmp_path)
    (tmp_path / "b.txt").write_text("\n  \n")
    with pytest.raises(zoo.ZooError, match=r"b\.txt is empty"):
        load_dataset("captions", root=tmp_path)


def test_captions_in_a_parallel_text_folder(tmp_path: Path) -> None:
    """StackGAN's birds layout: images/<split>/<class>/<name>.jpg, text_c10/<split>/<class>/<name>.txt."""
    for split, n in (("train", 2), ("test", 1)):
        for i in range(n):
            save(tmp_path / "images" / split / "001.Albatross" / f"{i}.png", gradient(8, 8, i % 3))
            text = tmp_path / "text_c10" / split / "001.Albatross" / f"{i}.txt"
            text.parent.mkdir(parents=True, exist_ok=True)
            text.write_text(f"bird {split} {i}, first\nbird {split} {i}, second\n")
    test = load_dataset("captions", split="test", root=tmp_path / "images", text_root=tmp_path / "text_c10")
    assert len(test) == 1 and test.pick == "first" and test[0]["caption"] == "bird test 0, first"
    train = load_dataset("captions", split="train", root=tmp_path / "images", text_root=tmp_path / "text_c10")
    assert [train[i]["caption"].split(",")[0] for i in range(2)] == ["bird train 0", "bird train 1"]


# -- bad data ----------------------------------------------------------------------------------------
def test_bad_data_errors(tmp_path: Path, aligned_root: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(zoo.ZooError, match=r"empty holds no images; put .*\.png"):
        load_dataset("imagefolder", root=tmp_path / "empty")
    (tmp_path / "texts").mkdir()
    (tmp_path / "texts" / "readme.md").write_text("hello")
    with pytest.raises(zoo.ZooError, match=r"holds no images \(it holds 1 other file\(s\), e\.g\. readme\.md\)"):
        load_dataset("imagefolder", root=tmp_path / "texts")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "x.png").write_bytes(b"this is not a png")
    with pytest.raises(zoo.ZooError, match=r"x\.png is not an image that can be read"):
        load_dataset("imagefolder", root=tmp_path / "broken")[0]
    save(tmp_path / "mixed" / "loose.png", gradient(8, 8, 0))
    save(tmp_path / "mixed" / "cls" / "in.png", gradient(8, 8, 0))
    with pytest.raises(zoo.ZooError, match=r"holds both images \(e\.g\. loose\.png\) and class subfolders"):
        load_dataset("imagefolder", root=tmp_path / "mixed")
    save(aligned_root / "train" / "odd.png", gradient(10, 21, 0))
    pairs = load_dataset("aligned", root=aligned_root, load_size=None)
    with pytest.raises(zoo.ZooError, match=r"odd\.png is 21 pixels wide: an aligned pair must be two images"):
        pairs[pairs.files.index(aligned_root / "train" / "odd.png")]
    with pytest.raises(zoo.ZooError, match=r"test is missing: pix2pix data keeps its A\|B images"):
        load_dataset("aligned", split="test", root=aligned_root)
    with pytest.raises(zoo.ZooError, match="direction must be 'AtoB' or 'BtoA'"):
        load_dataset("aligned", root=aligned_root, direction="AB")
    (tmp_path / "cyc" / "trainA").mkdir(parents=True)
    with pytest.raises(zoo.ZooError, match=r"trainB is missing: unpaired \(CycleGAN\) data needs trainA/ and trainB/"):
        load_dataset("unpaired", root=tmp_path / "cyc")
    with pytest.raises(zoo.ZooError, match=r"testA is missing"):
        load_dataset("unpaired", split="test", root=tmp_path / "cyc")
    with pytest.raises(zoo.ZooError, match="pass root=FOLDER"):
        load_dataset("aligned")
    with pytest.raises(zoo.ZooError, match="is not a folder"):
        load_dataset("imagefolder", root=tmp_path / "nowhere")
    with pytest.raises(zoo.ZooError, match="no split 'valid'"):
        load_dataset("aligned", split="valid", root=aligned_root)
    with pytest.raises(zoo.UnknownNameError, match="did you mean aligned"):
        load_dataset("alinged")
