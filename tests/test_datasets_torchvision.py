"""torchvision adapters: any torchvision dataset as zoo items; missing files are one sentence (no download)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import zoo_core as zoo
from zoo_core.data import load_dataset
from zoo_core.datasets.torchvision_adapters import TorchvisionDataset


def test_fakedata_through_the_adapter() -> None:
    from torchvision.datasets import FakeData

    fake = FakeData(size=6, image_size=(3, 16, 20), num_classes=4, random_offset=0)
    data = TorchvisionDataset(fake, name="fake")
    item = data[2]
    assert item["image"].shape == (3, 16, 20) and item["image"].dtype == torch.float32
    assert item["image"].min() >= 0 and item["image"].max() <= 1 and 0 <= item["label"] < 4
    expected = torch.from_numpy(np.array(fake[2][0])).permute(2, 0, 1).float() / 255
    assert torch.equal(item["image"], expected) and data.image_size == (16, 20)


def test_torchvision_imagefolder(tmp_path: Path) -> None:
    for cls in ("a", "b"):
        (tmp_path / "train" / cls).mkdir(parents=True)
        Image.fromarray(np.full((6, 6, 3), 200, dtype=np.uint8)).save(tmp_path / "train" / cls / "0.png")
    data = load_dataset("torchvision-imagefolder", root=tmp_path)
    assert (
        len(data) == 2 and data[1]["label"] == 1 and torch.allclose(data[0]["image"], torch.full((3, 6, 6), 200 / 255))
    )


@pytest.mark.parametrize("name", ["torchvision-mnist", "torchvision-cifar10", "torchvision-fashionmnist"])
def test_missing_files_are_one_sentence(name: str, tmp_path: Path) -> None:
    with pytest.raises(zoo.ZooError, match="zoo never downloads") as info:
        load_dataset(name, root=tmp_path)
    assert str(tmp_path) in str(info.value) and "\n" not in str(info.value)
