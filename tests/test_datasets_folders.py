"""The papers' folder formats: image folder, pix2pix aligned pairs, CycleGAN unpaired, captions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import zoo_core as zoo
from zoo_core.data import load_dataset
from zoo_core.datasets.transforms import pix2pix_train_transform


def save(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def gradient(h: int, w: int, channel: int) -> np.ndarray:
    image = np.zeros((h, w, 3), dtype=np.uint8)
    image[..., channel] = np.linspace(0, 255, w, dtype=np.uint8)[None, :]
    return image


@pytest.fixture
def aligned_root(tmp_path: Path) -> Path:
    for i in range(3):
        a, b = gradient(40, 40, 0), gradient(40, 40, 2)
        a[0, 0] = [i, i, i]
        save(tmp_path / "train" / f"{i}.png", np.concatenate([a, b], axis=1))
    return tmp_path


def test_image_folder_with_and_without_classes(tmp_path: Path) -> None:
    for cls in ("cats", "dogs"):
        for i in range(2):
            save(tmp_path / "classes" / cls / f"{i}.png", gradient(10, 12, 1))
    labelled = load_dataset("imagefolder", root=tmp_path / "classes")
    assert len(labelled) == 4 and [labelled[i]["label"] for i in range(4)] == [0, 0, 1, 1]
    assert labelled.classes == ["cats", "dogs"] and labelled[0]["image"].shape == (3, 10, 12)
    save(tmp_path / "flat" / "a.png", gradient(10, 12, 1))
    flat = load_dataset(f"imagefolder:{tmp_path / 'flat'}", channels=1)
    assert flat[0]["image"].shape == (1, 10, 12) and "label" not in flat[0]


def test_aligned_pairs_split_into_halves_and_direction(aligned_root: Path) -> None:
    pairs = load_dataset("aligned", root=aligned_root, load_size=None)
    item = pairs[1]
    assert item["image"].shape == item["target"].shape == (3, 40, 40)
    assert item["image"][0].max() == 1 and item["image"][2, 1:].max() == 0  # A is the red half
    assert item["target"][2].max() == 1 and item["target"][0].max() == 0  # B the blue one
    assert torch.allclose(item["image"][:, 0, 0], torch.full((3,), 1 / 255))  # image 1's marker pixel
    reverse = load_dataset("aligned", root=aligned_root, load_size=None, direction="BtoA")[1]
    assert torch.equal(reverse["image"], item["target"]) and torch.equal(reverse["target"], item["image"])


def test_pix2pix_transform_crops_flips_and_keeps_pairs_aligned() -> None:
    a = torch.rand(3, 300, 300)
    b = a.clone()
    transform = pix2pix_train_transform(286, 256)
    flips = 0
    for seed in range(8):
        out_a, out_b = transform([a, b], torch.Generator().manual_seed(seed))
        assert out_a.shape == (3, 256, 256) and torch.equal(out_a, out_b)  # the same crop and flip
        again, _ = transform([a, b], torch.Generator().manual_seed(seed))
        assert torch.equal(again, out_a)
        ramp = torch.linspace(0, 1, 300).expand(3, 300, 300)
        (r,) = transform([ramp], torch.Generator().manual_seed(seed))
        flips += int(r[0, 0, 0] > r[0, 0, -1])  # a mirrored ramp decreases
    assert 0 < flips < 8


def test_aligned_training_items_are_256(aligned_root: Path) -> None:
    item = load_dataset("aligned", root=aligned_root, load_size=64, crop_size=48)[0]
    assert item["image"].shape == (3, 48, 48) and item["target"].shape == (3, 48, 48)


def test_unpaired_domains(tmp_path: Path) -> None:
    for i in range(3):
        save(tmp_path / "trainA" / f"{i}.png", gradient(20, 20, 0))
    for i in range(5):
        save(tmp_path / "trainB" / f"{i}.png", gradient(30, 30, 2))
    data = load_dataset("unpaired", root=tmp_path, load_size=None)
    assert len(data) == 5 and data.kind == "unpaired"
    assert data[0]["image"].shape == (3, 20, 20) and data[0]["target"].shape == (3, 30, 30)
    serial = load_dataset("unpaired", root=tmp_path, load_size=None, serial=True)
    assert torch.equal(serial[4]["image"], data[1]["image"])  # A wraps around


def test_captions(tmp_path: Path) -> None:
    save(tmp_path / "a.png", gradient(8, 8, 0))
    (tmp_path / "a.txt").write_text("a red ramp\n\nanother caption\n")
    data = load_dataset("captions", root=tmp_path)
    assert data[0]["caption"] in {"a red ramp", "another caption"}
    save(tmp_path / "b.png", gradient(8, 8, 0))
    with pytest.raises(zoo.ZooError, match=r"b\.png has no caption file b\.txt"):
        load_dataset("captions", root=tmp_path)


def test_bad_data_errors(tmp_path: Path, aligned_root: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(zoo.ZooError, match="holds no images"):
        load_dataset("imagefolder", root=tmp_path / "empty")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "x.png").write_bytes(b"this is not a png")
    with pytest.raises(zoo.ZooError, match=r"x\.png is not an image"):
        load_dataset("imagefolder", root=tmp_path / "broken")[0]
    save(aligned_root / "train" / "odd.png", gradient(10, 21, 0))
    pairs = load_dataset("aligned", root=aligned_root, load_size=None)
    with pytest.raises(zoo.ZooError, match=r"odd\.png is 21 pixels wide"):
        pairs[pairs.files.index(aligned_root / "train" / "odd.png")]
    (tmp_path / "cyc" / "trainA").mkdir(parents=True)
    with pytest.raises(zoo.ZooError, match=r"trainB is missing"):
        load_dataset("unpaired", root=tmp_path / "cyc")
    with pytest.raises(zoo.ZooError, match="pass root=FOLDER"):
        load_dataset("aligned")
    with pytest.raises(zoo.UnknownNameError, match="did you mean aligned"):
        load_dataset("alinged")
