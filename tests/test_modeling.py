"""The model base: config round trip, Hub-layout save/load, strict meta-device loading, task verbs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file
from torch import nn

import zoo_core as zoo
from zoo_core._atomic import atomic_write_bytes
from zoo_core._images import make_grid, save_grid
from zoo_core.modeling import (
    LatentModel,
    ModelConfig,
    UnconditionalGenerator,
    ZooModel,
    check_images,
    load_weights_into,
)


@dataclass
class TinyConfig(ModelConfig):
    latent_dim: int = 4
    channels: int = 1
    size: int = 8


class Tiny(UnconditionalGenerator, LatentModel, ZooModel):
    architecture = "tiny"
    config_class = TinyConfig

    def __init__(self, config: TinyConfig) -> None:
        super().__init__(config)
        self.fc = nn.Linear(config.latent_dim, config.channels * config.size**2)
        self.norm = nn.BatchNorm1d(config.channels * config.size**2)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        c = self.config
        return torch.sigmoid(self.norm(self.fc(z))).reshape(-1, c.channels, c.size, c.size)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1)[:, : self.config.latent_dim]

    def sample_batch(self, n: int, generator: torch.Generator) -> torch.Tensor:
        return self.decode(torch.randn(n, self.config.latent_dim, generator=generator))


@pytest.fixture
def saved(tmp_path: Path) -> tuple[Tiny, Path]:
    torch.manual_seed(0)
    model = Tiny(TinyConfig()).eval()
    with torch.no_grad():
        model.norm.running_mean.uniform_(-0.1, 0.1)  # buffers must round-trip too
    return model, model.save_pretrained(tmp_path / "tiny")


def test_config_round_trip_and_unknown_keys() -> None:
    config = TinyConfig.from_dict({"latent_dim": 3})
    assert config.to_dict() == {"latent_dim": 3, "channels": 1, "size": 8}
    with pytest.raises(zoo.ZooError, match=r"Unknown config key 'latnet_dim'.*valid keys: channels, latent_dim"):
        TinyConfig.from_dict({"latnet_dim": 3})
    assert Tiny.from_config(latent_dim=2).config.latent_dim == 2


def test_tasks_come_from_the_mixins() -> None:
    assert Tiny.task_names() == ("unconditional", "latent")


def test_save_pretrained_writes_hub_layout(saved: tuple[Tiny, Path]) -> None:
    model, folder = saved
    assert sorted(p.name for p in folder.iterdir()) == ["README.md", "config.json", "model.safetensors"]
    assert json.loads((folder / "config.json").read_text()) == {
        "architecture": "tiny",
        **model.config.to_dict(),
    }
    stored = load_file(folder / "model.safetensors")
    assert set(stored) == set(model.state_dict())
    assert oct((folder / "config.json").stat().st_mode & 0o777) != oct(0o600)  # not mkstemp's private mode


def test_from_pretrained_is_exact_and_on_no_meta(saved: tuple[Tiny, Path]) -> None:
    model, folder = saved
    loaded = Tiny.from_pretrained(folder)
    assert not loaded.training
    for (name, a), (_, b) in zip(model.state_dict().items(), loaded.state_dict().items(), strict=True):
        assert torch.equal(a, b), name
    assert not any(t.is_meta for t in [*loaded.parameters(), *loaded.buffers()])
    assert torch.equal(model.sample(5, seed=3), loaded.sample(5, seed=3))


def test_loading_pays_for_no_random_init(saved: tuple[Tiny, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """Init functions may run on meta tensors only: no real memory is ever randomly initialised."""
    real_inits: list[tuple[int, ...]] = []
    original = nn.init.kaiming_uniform_

    def spy(tensor: torch.Tensor, *args, **kwargs):
        if not tensor.is_meta:
            real_inits.append(tuple(tensor.shape))
        return original(tensor, *args, **kwargs)

    monkeypatch.setattr(nn.init, "kaiming_uniform_", spy)
    _, folder = saved
    Tiny.from_pretrained(folder)
    assert real_inits == []
    Tiny(TinyConfig())  # the spy does see a normal build
    assert real_inits


def test_dtype_and_device_arguments(saved: tuple[Tiny, Path]) -> None:
    _, folder = saved
    model = Tiny.from_pretrained(folder, dtype="bfloat16", device="cpu")
    assert model.dtype == torch.bfloat16 and model.device.type == "cpu"
    with pytest.raises(zoo.ZooError, match="Unknown dtype 'float7'"):
        Tiny.from_pretrained(folder, dtype="float7")


def test_strict_loading_catches_missing_and_unexpected_keys(saved: tuple[Tiny, Path]) -> None:
    _, folder = saved
    state = load_file(folder / "model.safetensors")
    missing = dict(state)
    del missing["norm.running_var"]
    save_file(missing, folder / "model.safetensors")
    with pytest.raises(zoo.ZooError, match=r"missing 1 key\(s\) such as 'norm.running_var'"):
        Tiny.from_pretrained(folder)
    with pytest.raises(zoo.ZooError, match=r"unexpected key\(s\) such as 'extra'"):
        load_weights_into(Tiny(TinyConfig()), {**state, "extra": torch.zeros(1)})


def test_wrong_shapes_and_corrupt_files_fail_clearly(saved: tuple[Tiny, Path]) -> None:
    _, folder = saved
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "latent_dim": 5}))
    with pytest.raises(zoo.ZooError, match="do not fit Tiny's config"):
        Tiny.from_pretrained(folder)
    (folder / "model.safetensors").write_bytes(b"\x00" * 64)
    with pytest.raises(zoo.ZooError, match="not a readable safetensors file"):
        Tiny.from_pretrained(folder)
    with pytest.raises(zoo.ZooError, match="holds a 'other' model"):
        (folder / "config.json").write_text(json.dumps({**config, "architecture": "other"}))
        Tiny.from_pretrained(folder)
    with pytest.raises(zoo.ZooError, match=r"has no model\.safetensors"):
        (folder / "model.safetensors").unlink()
        Tiny.from_pretrained(folder)


def test_sampling_is_seeded_batched_and_in_unit_range(saved: tuple[Tiny, Path]) -> None:
    model = Tiny.from_pretrained(saved[1])
    model.sample_batch_size = 3
    a, b = model.sample(7, seed=1), model.sample(7, seed=1)
    assert a.shape == (7, 1, 8, 8) and torch.equal(a, b)
    assert not torch.equal(a, model.sample(7, seed=2))
    assert a.min() >= 0 and a.max() <= 1
    assert torch.equal(model.sample(3, seed=1), a[:3])  # batches continue the same random stream
    with pytest.raises(zoo.ZooError, match="at least 1"):
        model.sample(0)


def test_check_images_names_the_problem() -> None:
    with pytest.raises(zoo.ZooError, match="1 channel\\(s\\), got 3"):
        check_images(torch.zeros(2, 3, 28, 28), channels=1, size=(28, 28), what="VAE")
    with pytest.raises(zoo.ZooError, match="28x28 images, got 32x32"):
        check_images(torch.zeros(2, 1, 32, 32), channels=1, size=(28, 28))
    with pytest.raises(zoo.ZooError, match="shaped \\(N, C, H, W\\), not \\(28, 28\\)"):
        check_images(torch.zeros(28, 28), channels=1)


def test_grid_layout_and_png(tmp_path: Path) -> None:
    images = torch.zeros(5, 1, 4, 4)
    images[1] = 1.0
    grid = make_grid(images, nrow=3, padding=2)
    assert grid.shape == (2 * 6 + 2, 3 * 6 + 2, 1)
    assert grid[2:6, 8:12].min() == 255 and grid[2:6, 2:6].max() == 0
    from PIL import Image

    save_grid(torch.rand(4, 3, 5, 5), tmp_path / "g.png")
    assert np.asarray(Image.open(tmp_path / "g.png")).shape == (2 * 7 + 2, 2 * 7 + 2, 3)


def test_atomic_write_keeps_the_old_file_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "file.bin"
    atomic_write_bytes(target, b"old")

    class Boom(Exception):
        pass

    from zoo_core._atomic import atomic_write

    with pytest.raises(Boom), atomic_write(target) as handle:
        handle.write(b"half")
        raise Boom
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["file.bin"]  # no temporary left behind
