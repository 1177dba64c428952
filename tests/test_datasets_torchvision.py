"""torchvision adapters: any torchvision dataset as zoo items; missing files are one sentence (no download)."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import zoo_core as zoo
from zoo_core.data import load_dataset
from zoo_core.datasets.torchvision_adapters import TorchvisionDataset


def write_idx(folder: Path, prefix: str, images: np.ndarray, labels: np.ndarray) -> None:
    """MNIST's idx format: big-endian magic and sizes, then the uint8 data (uncompressed, as torchvision reads it)."""
    folder.mkdir(parents=True, exist_ok=True)
    n, h, w = images.shape
    (folder / f"{prefix}-images-idx3-ubyte").write_bytes(struct.pack(">IIII", 0x803, n, h, w) + images.tobytes())
    (folder / f"{prefix}-labels-idx1-ubyte").write_bytes(struct.pack(">II", 0x801, n) + labels.tobytes())


def test_fakedata_through_the_adapter() -> None:
    from torchvision.datasets import FakeData

    fake = FakeData(size=6, image_size=(3, 16, 20), num_classes=4, random_offset=0)
    data = TorchvisionDataset(fake, name="fake")
    item = data[2]
    assert item["image"].shape == (3, 16, 20) and item["image"].dtype == torch.float32
    assert item["image"].min() >= 0 and item["image"].max() <= 1 and 0 <= item["label"] < 4
    expected = torch.from_numpy(np.array(fake[2][0])).permute(2, 0, 1).float() / 255
    assert torch.equal(item["image"], expected) and data.image_size == (16, 20) and data.kind == "labelled"
    grey = TorchvisionDataset(fake, name="fake", channels=1)[2]["image"]
    assert grey.shape == (1, 16, 20)
    assert torch.equal(grey[0], torch.from_numpy(np.array(fake[2][0].convert("L"))).float() / 255)


@pytest.mark.parametrize(
    ("name", "folder"), [("torchvision-mnist", "MNIST"), ("torchvision-fashionmnist", "FashionMNIST")]
)
def test_mnist_files_through_the_adapter(name: str, folder: str, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    train_images, test_images = (rng.integers(0, 256, (n, 28, 28), dtype=np.uint8) for n in (5, 3))
    write_idx(tmp_path / folder / "raw", "train", train_images, np.array([3, 1, 4, 1, 5], dtype=np.uint8))
    write_idx(tmp_path / folder / "raw", "t10k", test_images, np.array([9, 2, 6], dtype=np.uint8))
    train, test = (load_dataset(name, split=s, root=tmp_path) for s in ("train", "test"))
    assert (len(train), len(test), train.channels, train.image_size) == (5, 3, 1, (28, 28))
    assert [test[i]["label"] for i in range(3)] == [9, 2, 6]
    assert torch.equal(test[1]["image"], torch.from_numpy(test_images[1]).float()[None] / 255)


def test_torchvision_imagefolder(tmp_path: Path) -> None:
    for split, value in (("train", 200), ("test", 50)):
        for cls in ("a", "b"):
            (tmp_path / split / cls).mkdir(parents=True)
            Image.fromarray(np.full((6, 6 + len(cls), 3), value, dtype=np.uint8)).save(tmp_path / split / cls / "0.png")
    data = load_dataset("torchvision-imagefolder", root=tmp_path)
    assert len(data) == 2 and data[1]["label"] == 1 and data.image_size is None
    assert torch.allclose(data[0]["image"], torch.full((3, 6, 7), 200 / 255))
    test = load_dataset("torchvision-imagefolder", split="test", root=tmp_path)
    assert torch.allclose(test[0]["image"], torch.full((3, 6, 7), 50 / 255))  # the test images, not train's
    with pytest.raises(zoo.ZooError, match=r"val is missing"):
        load_dataset("torchvision-imagefolder", split="val", root=tmp_path)
    (tmp_path / "empty" / "cls").mkdir(parents=True)
    with pytest.raises(zoo.ZooError, match="ImageFolder found no images in"):
        load_dataset("torchvision-imagefolder", root=tmp_path / "empty")


@pytest.mark.parametrize(
    ("name", "where"),
    [
        ("torchvision-mnist", "MNIST/raw/ (train-images-idx3-ubyte"),
        ("torchvision-fashionmnist", "FashionMNIST/raw/"),
        ("torchvision-cifar10", "cifar-10-batches-py/ (data_batch_1"),
        ("torchvision-celeba", "celeba/ (img_align_celeba/"),
    ],
)
def test_missing_files_say_where_to_put_them(name: str, where: str, tmp_path: Path) -> None:
    root = tmp_path / "data"  # beside $ZOO_CACHE (tmp_path/zoo-cache), where the listing index may be written
    root.mkdir()
    with pytest.raises(zoo.ZooError, match="zoo never downloads") as info:
        load_dataset(name, root=root)
    message = str(info.value)
    assert f"{root}/{where}" in message.replace("\\", "/") and "\n" not in message
    assert not list(root.iterdir())  # nothing was downloaded or created


def test_torchvision_errors() -> None:
    with pytest.raises(zoo.ZooError, match="no split 'val'; its splits are train, test"):
        load_dataset("torchvision-mnist", split="val", root="/nowhere")
    with pytest.raises(zoo.ZooError, match="pass root=FOLDER"):
        load_dataset("torchvision-cifar10")
