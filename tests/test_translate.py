"""``zoo translate`` / ``zoo upscale`` and ``zoo_core.translate``: files and folders of any size, grey and RGB, both
directions, super-resolution, and every failure in one sentence with nothing half-written.

Models: a tiny random pix2pix (zoo-pix2pix), the published ``pix2pix.colorize`` on real offline photos, and two
test-only architectures registered here: a two-way translator (as CycleGAN's ``translate(x, direction=...)``) and a
x2 super-resolution model with ``upscale``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from click.testing import CliRunner
from PIL import Image
from torch import nn

import zoo_core as zoo
from conftest import REPO_ROOT
from zoo_core._catalog import reset_catalog
from zoo_core._plugins import get_plugin_manager
from zoo_core.cli import cli
from zoo_core.modeling import ImageTranslator, ModelConfig, ZooModel
from zoo_core.translate import (
    pad_to_multiple,
    plan_jobs,
    prepare_jobs,
    read_image,
    translate_files,
    translate_images,
)

pix2pix = pytest.importorskip("zoo_pix2pix")
pytestmark = pytest.mark.usefixtures("one_blas_thread")


# -- test-only architectures ------------------------------------------------------------------------
@dataclass
class TwoWayConfig(ModelConfig):
    input_nc: int = 1
    output_nc: int = 3


class TwoWay(ImageTranslator, ZooModel):
    """A two-way translator: A (grey) -> B (RGB) halves the image into three channels, B -> A takes their mean."""

    architecture = "twoway"
    config_class = TwoWayConfig
    size_multiple = 4
    directions = ("AtoB", "BtoA")

    def __init__(self, config: TwoWayConfig) -> None:
        super().__init__(config)
        self.gain = nn.Parameter(torch.tensor(0.5))
        self.seen: list[tuple[str, tuple[int, ...]]] = []

    @property
    def input_channels(self) -> int:
        return self.config.input_nc

    @property
    def output_channels(self) -> int:
        return self.config.output_nc

    def translate(
        self, x: torch.Tensor, *, direction: str | None = None, seed: int | None = 0, progress: bool = False
    ) -> torch.Tensor:
        direction = direction or "AtoB"
        assert x.shape[-2] % 4 == 0 and x.shape[-1] % 4 == 0
        self.seen.append((direction, tuple(x.shape)))
        if direction == "AtoB":
            assert x.shape[1] == 1
            return x.expand(-1, 3, -1, -1) * self.gain
        assert x.shape[1] == 3
        return x.mean(1, keepdim=True)


@dataclass
class TinySRConfig(ModelConfig):
    channels: int = 3


class TinySR(ImageTranslator, ZooModel):
    """x2 nearest-neighbour "super-resolution"; declares min_size 4."""

    architecture = "tinysr"
    config_class = TinySRConfig
    min_size = 4
    scale = 2

    @property
    def input_channels(self) -> int:
        return self.config.channels

    output_channels = input_channels

    def __init__(self, config: TinySRConfig) -> None:
        super().__init__(config)
        self.gain = nn.Parameter(torch.tensor(1.0))

    def translate(
        self, x: torch.Tensor, *, direction: str | None = None, seed: int | None = 0, progress: bool = False
    ) -> torch.Tensor:
        return F.interpolate(x, scale_factor=2, mode="nearest") * self.gain


class TestModels:
    @zoo.hookimpl
    def register_architectures(self, register):
        register(zoo.Architecture("twoway", model=TwoWay, tasks=("image-to-image",)))
        register(zoo.Architecture("tinysr", model=TinySR, tasks=("image-to-image",)))


@pytest.fixture
def models(tmp_path: Path) -> dict[str, Path]:
    """Hub-layout folders: a tiny random pix2pix (RGB to RGB, unet_64: one level with dropout), two-way, x2 SR."""
    get_plugin_manager().register(TestModels(), name="test-models")
    reset_catalog()
    torch.manual_seed(0)
    folders = {}
    for name, model in (
        ("pix2pix", zoo.create("pix2pix", netG="unet_64", image_size=64, ngf=4, ndf=4, with_discriminator=False)),
        ("twoway", TwoWay(TwoWayConfig())),
        ("tinysr", TinySR(TinySRConfig())),
    ):
        folders[name] = model.save_pretrained(tmp_path / "models" / name)
    yield folders
    reset_catalog()


def photo(name: str = "chelsea") -> np.ndarray:
    from zoo_core.datasets.offline import load_photo

    return load_photo(name).permute(1, 2, 0).numpy()


def write(path: Path, array: np.ndarray, **options) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path, **options)
    return path


def pixels(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image)


def invoke(*args: str):
    return CliRunner().invoke(cli, [str(a) for a in args])


def one_line(result) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    return lines[0]


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


# -- tensors ----------------------------------------------------------------------------------------
def test_pad_to_multiple_reflects_or_repeats() -> None:
    x = torch.arange(12.0).view(1, 1, 3, 4)
    padded = pad_to_multiple(x, 4)
    assert padded.shape == (1, 1, 4, 4) and torch.equal(padded[..., 3, :], x[..., 1, :])  # reflection
    wide = pad_to_multiple(x, 8)  # a reflection cannot be wider than the image: the edge is repeated
    assert wide.shape == (1, 1, 8, 8) and torch.equal(wide[..., 7, 7], x[..., 2, 3])
    assert pad_to_multiple(x, 1) is x


def test_translate_images_pads_matches_channels_and_crops_back(models) -> None:
    twoway = zoo.load(str(models["twoway"]))
    grey = torch.rand(1, 1, 9, 14)
    out = translate_images(twoway, grey)
    assert out.shape == (1, 3, 9, 14) and twoway.seen == [("AtoB", (1, 1, 12, 16))]
    torch.testing.assert_close(out, grey.expand(-1, 3, -1, -1) * 0.5)
    rgb = torch.rand(3, 10, 10)  # one image, RGB, to the grey-input direction: its luma is taken
    assert translate_images(twoway, rgb).shape == (3, 10, 10)
    back = translate_images(twoway, rgb, direction="BtoA")  # BtoA reads output_nc = 3 channels
    torch.testing.assert_close(back, rgb.mean(0, keepdim=True))
    sr = zoo.load(str(models["tinysr"]))
    assert translate_images(sr, torch.rand(1, 1, 5, 7), verb="upscale").shape == (1, 3, 10, 14)
    with pytest.raises(zoo.ZooError, match="at least 4x4 pixels, got 3x7"):
        translate_images(sr, torch.rand(1, 3, 3, 7))
    with pytest.raises(zoo.ZooError, match="takes RGB images \\(3 channels\\), got 2 channels"):
        translate_images(sr, torch.rand(1, 2, 8, 8))
    with pytest.raises(zoo.ZooError, match="translates in one direction only"):
        translate_images(sr, torch.rand(1, 3, 8, 8), direction="BtoA")
    with pytest.raises(zoo.ZooError, match="is not a super-resolution model"):
        translate_images(twoway, grey, verb="upscale")


def test_translate_images_seeds_in_a_forked_generator(models) -> None:
    model = zoo.load(str(models["pix2pix"]))  # test-time dropout on
    x = torch.rand(1, 3, 32, 32)
    state = torch.get_rng_state()
    first = translate_images(model, x, seed=3)
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.equal(translate_images(model, x, seed=3), first)
    assert not torch.equal(translate_images(model, x, seed=4), first)


# -- the command, on real photos ------------------------------------------------------------------------
def test_tiny_random_pix2pix_on_a_real_photo(models, tmp_path: Path) -> None:
    source = write(tmp_path / "in" / "chelsea.png", photo())
    out = tmp_path / "out.png"
    result = invoke("translate", models["pix2pix"], source, "-o", out)
    assert result.exit_code == 0, result.output
    assert f"Wrote 1 image(s) from {models['pix2pix']} to {out}" in result.output
    written = pixels(out)
    assert written.shape == (300, 451, 3)  # any size: padded to 320x512 for unet_64, cropped back
    model = zoo.load(str(models["pix2pix"]))
    expected = model.translate(read_image(source, 3), seed=0)
    expected = (expected.clamp(0, 1) * 255 + 0.5).to(torch.uint8).permute(1, 2, 0).numpy()
    assert np.array_equal(written, expected)
    grey = write(tmp_path / "in" / "grey.png", np.asarray(Image.fromarray(photo("coffee")).convert("L")))
    result = invoke("translate", models["pix2pix"], grey, "-o", tmp_path / "grey-out.jpg", "--seed", "1")
    assert result.exit_code == 0, result.output  # grey into an RGB model; written as JPEG, by the suffix
    with Image.open(tmp_path / "grey-out.jpg") as image:
        assert image.format == "JPEG" and image.size == (600, 400) and image.mode == "RGB"


def test_the_published_colorize_model_on_held_out_photos(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`zoo translate pix2pix.colorize` on colour photos it never saw: read as grey, coloured closer than grey is."""
    monkeypatch.setenv("ZOO_HUB_DIR", str(REPO_ROOT / "hub"))
    folder = tmp_path / "held-out"
    for name in ("chelsea", "coffee"):
        write(folder / f"{name}.jpg", photo(name), quality=98)
    result = invoke("translate", "pix2pix.colorize", folder, "-o", tmp_path / "coloured")
    assert result.exit_code == 0, result.output
    assert files_under(tmp_path / "coloured") == ["chelsea.png", "coffee.png"]
    for name in ("chelsea", "coffee"):
        colour = photo(name).astype(np.float64)
        out = pixels(tmp_path / "coloured" / f"{name}.png").astype(np.float64)
        grey = np.asarray(Image.fromarray(photo(name)).convert("L"), dtype=np.float64)[..., None]
        assert out.shape == colour.shape
        assert np.abs(out - colour).mean() < np.abs(grey - colour).mean(), name  # closer than the grey input


# -- folders, names, formats --------------------------------------------------------------------------------
def test_folders_keep_their_structure_as_png(models, tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    write(folder / "a.jpg", photo("chelsea")[:64, :80])
    write(folder / "sub" / "b.png", photo("coffee")[:40, :48])
    (folder / "notes.txt").write_text("not an image")
    write(folder / ".hidden" / "c.png", photo("coffee")[:40, :48])
    single = write(tmp_path / "single.bmp", photo("coffee")[:32, :32])
    result = invoke("translate", models["pix2pix"], folder, single, "-o", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert files_under(tmp_path / "out") == ["a.png", "single.png", "sub/b.png"]
    assert pixels(tmp_path / "out" / "sub" / "b.png").shape == (40, 48, 3)


def test_plan_refuses_collisions_and_a_file_for_many_images(tmp_path: Path) -> None:
    one = write(tmp_path / "a" / "x.png", photo()[:32, :32])
    two = write(tmp_path / "b" / "x.jpg", photo()[:32, :32])
    with pytest.raises(zoo.ZooError, match="would both be written to"):
        plan_jobs([one, two], tmp_path / "out")
    with pytest.raises(zoo.ZooError, match="names a file, but there are 2 images to write; give a folder with -o"):
        plan_jobs([one, tmp_path / "b"], tmp_path / "out.png")
    with pytest.raises(zoo.ZooError, match="does not end in a suffix zoo writes images in"):
        plan_jobs([one], tmp_path / "out.gif")
    with pytest.raises(zoo.ZooError, match="holds no images"):
        plan_jobs([tmp_path / "empty"], tmp_path / "out") if (tmp_path / "empty").mkdir() is None else None
    assert plan_jobs([one], tmp_path / "y.webp")[0].target == tmp_path / "y.webp"


# -- failures: one sentence, nothing half-written -----------------------------------------------------------
def test_a_missing_input_fails_before_the_model_is_loaded(tmp_path: Path) -> None:
    line = one_line(invoke("translate", "no.such-model", tmp_path / "missing.png", "-o", tmp_path / "o"))
    assert line == f"Error: {tmp_path / 'missing.png'} does not exist; give image files or folders."


def test_unreadable_too_small_and_transparent_images(models, tmp_path: Path) -> None:
    write(tmp_path / "in" / "good.png", photo()[:64, :64])
    bad = tmp_path / "in" / "broken.png"
    bad.write_text("this is not a PNG")
    out = tmp_path / "out"
    line = one_line(invoke("translate", models["pix2pix"], tmp_path / "in", "-o", out))
    assert f"{bad} is not an image that can be read" in line and "remove or replace it" in line
    assert files_under(out) == []  # checked before the first image is translated
    bad.unlink()
    small = write(tmp_path / "in" / "small.png", photo()[:10, :40])
    line = one_line(invoke("translate", models["pix2pix"], tmp_path / "in", "-o", out))
    assert f"{small} is 10x40 pixels, smaller than the 16x16 that {models['pix2pix']} takes" in line
    assert files_under(out) == []
    small.unlink()
    rgba = np.dstack([photo()[:32, :32], np.full((32, 32), 255, np.uint8)])
    write(tmp_path / "in" / "opaque.png", rgba)  # an alpha channel that hides nothing is dropped
    assert invoke("translate", models["pix2pix"], tmp_path / "in", "-o", out).exit_code == 0
    assert files_under(out) == ["good.png", "opaque.png"]
    rgba[0, 0, 3] = 0
    clear = write(tmp_path / "clear.png", rgba)
    line = one_line(invoke("translate", models["pix2pix"], clear, "-o", tmp_path / "clear-out.png"))
    assert f"{clear} has transparent pixels (an alpha channel)" in line and "flatten it onto a background" in line
    assert not (tmp_path / "clear-out.png").exists()


def test_a_file_that_breaks_while_decoding_leaves_only_complete_outputs(models, tmp_path: Path) -> None:
    write(tmp_path / "in" / "a.png", photo()[:64, :64])
    data = (write(tmp_path / "b.png", photo()[:200, :200])).read_bytes()
    (tmp_path / "in" / "b.png").write_bytes(data[: len(data) // 2])  # the header is fine, the pixels are cut off
    result = invoke("translate", models["pix2pix"], tmp_path / "in", "-o", tmp_path / "out")
    assert "b.png is not an image that can be read" in one_line(result)
    assert files_under(tmp_path / "out") == []  # every file is decoded once before the first is translated
    (tmp_path / "in" / "b.png").write_bytes(data)
    jobs = prepare_jobs([tmp_path / "in"], tmp_path / "out")  # checked whole, then cut off before its turn
    (tmp_path / "in" / "b.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(zoo.ZooError, match=r"b\.png is not an image that can be read"):
        translate_files(zoo.load(str(models["pix2pix"])), [tmp_path / "in"], tmp_path / "out", jobs=jobs)
    assert files_under(tmp_path / "out") == ["a.png"]  # written whole; no temporary file left behind
    assert pixels(tmp_path / "out" / "a.png").shape == (64, 64, 3)


def test_channels_the_files_cannot_hold(tmp_path: Path) -> None:
    model = TinySR(TinySRConfig(channels=4))
    with pytest.raises(zoo.ZooError, match="takes 4-channel images, which image files do not hold"):
        translate_files(model, [write(tmp_path / "a.png", photo()[:8, :8])], tmp_path / "o")


def test_sixteen_bit_grey_is_scaled_not_clipped(tmp_path: Path) -> None:
    values = (np.arange(64 * 64, dtype=np.uint16).reshape(64, 64) * 16).astype(np.uint16)
    path = tmp_path / "deep.png"
    Image.fromarray(values).save(path)
    grey = read_image(path, 1)
    torch.testing.assert_close(grey[0], torch.from_numpy(values.astype(np.float32) / 65535.0))
    assert read_image(path, 3).shape == (3, 64, 64)


# -- directions and super-resolution ---------------------------------------------------------------------
def test_direction_goes_to_two_way_models_only(models, tmp_path: Path) -> None:
    rgb = write(tmp_path / "rgb.png", photo()[:20, :30])
    result = invoke("translate", models["twoway"], rgb, "-o", tmp_path / "a.png", "--direction", "BtoA")
    assert result.exit_code == 0, result.output
    assert pixels(tmp_path / "a.png").shape == (20, 30)  # RGB read for B -> A, grey written
    result = invoke("translate", models["twoway"], rgb, "-o", tmp_path / "b.png")
    assert result.exit_code == 0 and pixels(tmp_path / "b.png").shape == (20, 30, 3)  # read as grey for A -> B
    line = one_line(invoke("translate", models["pix2pix"], rgb, "-o", tmp_path / "c.png", "--direction", "BtoA"))
    assert line == f"Error: {models['pix2pix']} translates in one direction only; drop --direction."
    assert CliRunner().invoke(cli, ["translate", "x", str(rgb), "-o", "y", "--direction", "up"]).exit_code == 2


def test_zoo_upscale(models, tmp_path: Path) -> None:
    source = write(tmp_path / "small.png", photo()[:25, :31])
    result = invoke("upscale", models["tinysr"], source, "-o", tmp_path / "big.png")
    assert result.exit_code == 0, result.output
    big = pixels(tmp_path / "big.png")
    assert big.shape == (50, 62, 3) and np.array_equal(big[::2, ::2], photo()[:25, :31])
    line = one_line(invoke("upscale", models["pix2pix"], source, "-o", tmp_path / "x.png"))
    assert "is not a super-resolution model (its scale is 1); use `zoo translate`." in line
    tiny = write(tmp_path / "tiny.png", photo()[:3, :3])
    assert "smaller than the 4x4" in one_line(invoke("upscale", models["tinysr"], tiny, "-o", tmp_path / "t.png"))


def test_exif_orientation_is_applied(models, tmp_path: Path) -> None:
    """A camera JPEG stored sideways with EXIF orientation 6 is translated as viewers show it (upright)."""
    image = Image.fromarray(photo()[:40, :64])
    exif = image.getexif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to view
    source = tmp_path / "camera.jpg"
    image.save(source, exif=exif.tobytes())
    assert read_image(source, 3).shape == (3, 64, 40)
    result = invoke("translate", models["pix2pix"], source, "-o", tmp_path / "upright.png")
    assert result.exit_code == 0, result.output
    assert pixels(tmp_path / "upright.png").shape == (64, 40, 3)
