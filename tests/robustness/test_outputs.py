"""Issue 13, groups 1, 7 and 8 for the commands that write images (``zoo translate``, ``zoo upscale``, ``zoo sample``):
an output never overwrites an input (unless ``--in-place``), every output is written atomically (a full disk, a refused
rename or Ctrl-C leaves no partial or temporary file), an output path that cannot be written and an input that is not a
readable image of a sane size each get one sentence and exit code 1 before the model loads, and a run shows a progress
bar on a terminal only.

Every case runs the CLI in a fresh process. Faults that cannot be made for real here (a full disk; a read-only folder,
since the suite runs as root, for whom a chmod-ed folder stays writable) are injected by a small harness that patches
``os.fsync`` / ``os.replace`` for files under the output folder only, then runs the real ``zoo`` entry point.
"""

from __future__ import annotations

import os
import re
import signal
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import zoo_core as zoo
from conftest import assert_clean_failure, snapshot_tree, zoo_env
from conftest import run_zoo as _run_zoo

pytest.importorskip("zoo_pix2pix")

REPO_ROOT = Path(__file__).resolve().parents[2]

HARNESS = """
import errno, os, signal, sys, time

# Ctrl-C as a terminal delivers it: a process started in the background of a non-interactive shell (`cmd &`, as CI
# runners may start the tests) inherits SIGINT ignored, and Python then never raises KeyboardInterrupt.
signal.signal(signal.SIGINT, signal.default_int_handler)

under = os.path.realpath(os.environ["FAULT_UNDER"]) + os.sep
fault, at = os.environ["FAULT"], int(os.environ.get("FAULT_AT", "1"))
seen = [0]
real_fsync, real_replace = os.fsync, os.replace


def fsync(fd):
    if os.readlink(f"/proc/self/fd/{fd}").startswith(under):
        seen[0] += 1
        if seen[0] == at and fault == "enospc":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        if seen[0] == at and fault == "wait":  # a temporary file exists now: tell the test, wait for its SIGINT
            open(os.environ["FAULT_MARKER"], "w").close()
            time.sleep(300)
    return real_fsync(fd)


def replace(src, dst, *args, **kwargs):
    if fault == "eacces" and os.path.realpath(dst).startswith(under):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(dst))
    return real_replace(src, dst, *args, **kwargs)


os.fsync, os.replace = fsync, replace
sys.argv[0] = "zoo"
from zoo_core.cli import main

main()
"""

linux_only = pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="the harness finds files by /proc/self/fd")


def run_zoo(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return _run_zoo(*args, env=env, timeout=300)


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A tiny random pix2pix (unet_64, RGB to RGB) saved as a local model folder."""
    import torch

    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("models") / "pix2pix"
    tiny = zoo.create("pix2pix", netG="unet_64", image_size=64, ngf=4, ndf=4, with_discriminator=False)
    return str(tiny.save_pretrained(folder))


def image(path: Path, height: int = 40, width: int = 48, seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)
    return path


def photos(folder: Path, n: int = 3) -> Path:
    for i in range(n):
        image(folder / f"{chr(ord('a') + i)}.png", seed=i)
    return folder


def png_header(width: int, height: int) -> bytes:
    """A PNG whose header declares ``width`` x ``height`` grey pixels (a decompression bomb's shape), little data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 100)) + chunk(b"IEND", b"")
    )


def files(folder: Path) -> list[str]:
    """Every entry under ``folder``, hidden temporary files included."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


def readable(path: Path) -> tuple[int, int]:
    with Image.open(path) as opened:
        opened.load()
        return opened.size


def harness(tmp_path: Path, fault: str, under: Path, *args: str, at: int = 1, **extra: str):
    script = tmp_path / "harness.py"
    script.write_text(HARNESS)
    env = zoo_env(tmp_path / "home", FAULT=fault, FAULT_UNDER=str(under), FAULT_AT=str(at), **extra)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    return [sys.executable, str(script), *args], env


# -- 1. an output never overwrites an input ---------------------------------------------------------------------------
def test_an_output_that_is_an_input_is_refused_before_anything_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same path, same folder, a hard link, a symlink, a symlinked folder: one sentence each, nothing changed.
    The model name does not exist: the refusal comes before any model is looked up."""
    photo = image(tmp_path / "photo.png")
    folder = photos(tmp_path / "in")
    (tmp_path / "out").mkdir()
    os.link(folder / "a.png", tmp_path / "out" / "a.png")
    (tmp_path / "link.png").symlink_to(photo)
    (tmp_path / "linked-in").symlink_to(folder, target_is_directory=True)
    before = snapshot_tree(tmp_path)
    env = zoo_env(tmp_path / "home")
    cases = {
        ("translate", "photo.png", "-o", "photo.png"): "is the input photo.png",
        ("upscale", "photo.png", "-o", "photo.png"): "--in-place",
        ("translate", "in", "-o", "in"): "is the input folder in",
        ("translate", "in", "-o", "linked-in"): "is the input folder in",
        ("translate", "in", "-o", "out"): "is the input in/a.png",  # out/a.png is a hard link to in/a.png
        ("translate", "photo.png", "-o", "link.png"): "is the input photo.png",
    }
    monkeypatch.chdir(tmp_path)  # the messages name the paths as given
    for (verb, source, _, output), named in cases.items():
        assert_clean_failure(run_zoo(verb, "no.such-model", source, "-o", output, env=env), mentions=named)
    assert snapshot_tree(tmp_path) == before
    assert files(tmp_path / "out") == ["a.png"]


@pytest.mark.slow
def test_in_place_replaces_each_input_atomically(model: str, tmp_path: Path) -> None:
    """With --in-place the input is replaced where it really lies (through a symlink), whole, nothing else left."""
    photo = image(tmp_path / "data" / "photo.png")
    (tmp_path / "link.png").symlink_to(photo)
    before = photo.read_bytes()
    result = run_zoo(
        "translate",
        model,
        str(tmp_path / "link.png"),
        "-o",
        str(tmp_path / "link.png"),
        "--in-place",
        env=zoo_env(tmp_path / "home"),
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "link.png").is_symlink() and photo.read_bytes() != before
    assert readable(photo) == (48, 40)
    assert files(tmp_path / "data") == ["photo.png"]  # no temporary file beside it


def test_an_output_folder_inside_the_input_folder_is_not_read_as_input(tmp_path: Path) -> None:
    from zoo_core.translate import plan_jobs

    folder = photos(tmp_path / "in", 2)
    image(folder / "out" / "a.png")  # the outputs of an earlier run
    jobs = plan_jobs([folder], folder / "out")
    assert [(j.source.name, j.target.relative_to(folder).as_posix()) for j in jobs] == [
        ("a.png", "out/a.png"),
        ("b.png", "out/b.png"),
    ]


# -- 2. atomic outputs: a full disk, a refused rename, Ctrl-C --------------------------------------------------------
@linux_only
@pytest.mark.slow
def test_a_full_disk_mid_folder_leaves_only_complete_outputs(model: str, tmp_path: Path) -> None:
    folder = photos(tmp_path / "in")
    before = snapshot_tree(folder)
    out = tmp_path / "out"
    command, env = harness(tmp_path, "enospc", out, "translate", model, str(folder), "-o", str(out), at=2)
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    message = assert_clean_failure(result, mentions="the disk is full")
    assert str(out / "b.png") in message
    assert files(out) == ["a.png"]  # the first output, whole; no temporary file of the second
    assert readable(out / "a.png") == (48, 40)
    assert snapshot_tree(folder) == before


@pytest.mark.slow
@linux_only
def test_a_refused_write_is_one_sentence_and_leaves_nothing(model: str, tmp_path: Path) -> None:
    """EACCES at the rename (what a read-only folder gives a user who is not root): one sentence, no file, and the
    folders the run created are removed again."""
    source = image(tmp_path / "photo.png")
    out = tmp_path / "new" / "deeper"
    command, env = harness(tmp_path, "eacces", tmp_path / "new", "translate", model, str(source), "-o", str(out))
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert_clean_failure(result, mentions="permission denied")
    assert not (tmp_path / "new").exists()


@linux_only
@pytest.mark.slow
def test_ctrl_c_while_an_output_is_being_written_leaves_no_partial_file(model: str, tmp_path: Path) -> None:
    """A real SIGINT to a running `zoo translate` over a folder, delivered while the second output's temporary file
    exists: exit 130, "Interrupted." and no traceback, the first output whole, no temporary file, inputs unchanged."""
    folder = photos(tmp_path / "in")
    before = snapshot_tree(folder)
    out, marker = tmp_path / "out", tmp_path / "writing"
    command, env = harness(
        tmp_path, "wait", out, "translate", model, str(folder), "-o", str(out), at=2, FAULT_MARKER=str(marker)
    )
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 240  # a guard against a hang, not a timing assertion
        while not marker.exists():
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the run never reached its second output"
            time.sleep(0.05)
        assert any(name.endswith(".tmp") for name in files(out))  # the signal lands mid-write
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    result = subprocess.CompletedProcess(command, process.returncode, stdout, stderr)
    assert assert_clean_failure(result, code=130) == "Interrupted."
    assert files(out) == ["a.png"] and readable(out / "a.png") == (48, 40)
    assert snapshot_tree(folder) == before


@linux_only
@pytest.mark.slow
def test_zoo_sample_on_a_full_disk_writes_no_grid(tmp_path: Path) -> None:
    out = tmp_path / "grids"
    out.mkdir()
    command, env = harness(
        tmp_path,
        "enospc",
        out,
        "sample",
        "vae.mnist",
        "-n",
        "4",
        "-o",
        str(out / "grid.png"),
        ZOO_HUB_DIR=str(REPO_ROOT / "hub"),
    )
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert_clean_failure(result, mentions="the disk is full")
    assert files(out) == []


# -- 7. output paths that cannot be written ---------------------------------------------------------------------------
def test_output_paths_that_cannot_be_written(tmp_path: Path) -> None:
    """Under a file, a folder or a pipe where a file goes: one sentence, exit 1, before any model is looked up."""
    photo = image(tmp_path / "photo.png")
    (tmp_path / "notes.txt").write_text("a file")
    (tmp_path / "taken.png").mkdir()
    os.mkfifo(tmp_path / "pipe.png")
    before = snapshot_tree(tmp_path)
    env = zoo_env(tmp_path / "home")
    cases = [
        (("translate", "no.such-model", str(photo), "-o", str(tmp_path / "photo.png" / "out.png")), "is a file"),
        (("upscale", "no.such-model", str(photo), "-o", str(tmp_path / "notes.txt" / "out")), "is a file"),
        (("translate", "no.such-model", str(photo), "-o", str(tmp_path / "pipe.png")), "not a regular file"),
        (("sample", "no.such-model", "-o", str(tmp_path / "notes.txt" / "grid.png")), "is a file"),
        (("sample", "no.such-model", "-o", str(tmp_path / "pipe.png")), "not a regular file"),
    ]
    for args, named in cases:
        assert_clean_failure(run_zoo(*args, env=env), mentions=named)
    assert snapshot_tree(tmp_path) == before and (tmp_path / "taken.png").is_dir()
    embedding = tmp_path / "e.npy"
    np.save(embedding, np.zeros(8, np.float32))
    result = run_zoo("sample", "no.such-model", "--embedding", str(embedding), "-o", str(embedding), env=env)
    assert_clean_failure(result, mentions="the grid would destroy it")
    assert np.load(embedding).shape == (8,)


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes in a read-only (0555) folder")
def test_a_read_only_folder_is_refused_before_the_model_loads(tmp_path: Path) -> None:
    photo = image(tmp_path / "photo.png")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    try:
        result = run_zoo(
            "translate", "no.such-model", str(photo), "-o", str(locked / "out.png"), env=zoo_env(tmp_path / "home")
        )
        assert_clean_failure(result, mentions="permission denied or read-only")
        assert files(locked) == []
    finally:
        locked.chmod(0o755)


# -- 7. input files that are not images of a sane size --------------------------------------------------------------
@pytest.mark.slow
def test_bad_image_files_are_one_sentence_before_the_model_loads(tmp_path: Path) -> None:
    """Not an image, truncated (PNG and JPEG: a JPEG's truncation shows only when decoding), a header that declares
    more than 8192x8192 pixels, one that PIL itself calls a decompression bomb. The model name does not exist, so each
    sentence proves the file was checked before a model was looked up."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "text.png").write_text("not an image at all")
    whole = image(tmp_path / "whole.png", 200, 200).read_bytes()
    (folder / "cut.png").write_bytes(whole[: len(whole) // 2])
    Image.open(tmp_path / "whole.png").convert("RGB").save(tmp_path / "whole.jpg", quality=90)
    jpeg = (tmp_path / "whole.jpg").read_bytes()
    (folder / "cut.jpg").write_bytes(jpeg[: len(jpeg) // 2])
    (folder / "large.png").write_bytes(png_header(9000, 9000))
    (folder / "bomb.png").write_bytes(png_header(30000, 30000))
    before = snapshot_tree(tmp_path)
    env = zoo_env(tmp_path / "home")
    cases = {
        "text.png": "is not an image that can be read",
        "cut.png": "is not an image that can be read",
        "cut.jpg": "is not an image that can be read",
        "large.png": "is 9000x9000 pixels, more than the 67,108,864 (8192x8192) zoo reads",
        "bomb.png": "more than the 67,108,864 (8192x8192) zoo reads (a decompression bomb",
    }
    for name, named in cases.items():
        for verb in ("translate", "upscale"):
            result = run_zoo(verb, "no.such-model", str(folder / name), "-o", str(tmp_path / "out"), env=env)
            assert str(folder / name) in assert_clean_failure(result, mentions=named)
    assert snapshot_tree(tmp_path) == before and not (tmp_path / "out").exists()


@pytest.mark.slow
def test_an_upscale_whose_output_would_be_too_large_is_refused_before_translating(tmp_path: Path) -> None:
    big = tmp_path / "big.png"
    Image.fromarray(np.zeros((2100, 2100), np.uint8)).save(big)
    result = run_zoo(
        "upscale",
        "srgan.x4_photos",
        str(big),
        "-o",
        str(tmp_path / "out.png"),
        env=zoo_env(tmp_path / "home", ZOO_HUB_DIR=str(REPO_ROOT / "hub")),
    )
    assert_clean_failure(result, mentions="its x4 output, 8400x8400, would be more than the 67,108,864 pixels")
    assert not (tmp_path / "out.png").exists()


# -- 8. progress on a terminal only ------------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_a_folder_shows_a_progress_bar_on_a_terminal_only(model: str, tmp_path: Path) -> None:
    import fcntl
    import pty
    import termios

    folder = photos(tmp_path / "in")
    env = zoo_env(tmp_path / "home")
    command = [sys.executable, "-m", "zoo_core", "translate", model, str(folder), "-o", str(tmp_path / "tty")]
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # 100 columns (tqdm needs a width)
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=follower)
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal closed: the process is gone
            break
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    assert process.wait(timeout=300) == 0, seen
    terminal = seen.decode(errors="replace")
    assert "translate: 100%" in terminal and "image/s]" in terminal, terminal
    assert re.search(r"[1-3]/3 \[\d\d:\d\d<\d\d:\d\d", terminal), terminal  # elapsed<remaining (the ETA)
    piped = run_zoo("translate", model, str(folder), "-o", str(tmp_path / "piped"), env=env)
    assert piped.returncode == 0 and "%|" not in piped.stderr and "image/s" not in piped.stderr, piped.stderr
    assert files(tmp_path / "tty") == files(tmp_path / "piped") == ["a.png", "b.png", "c.png"]


def test_a_model_that_tiles_gets_progress_on_a_terminal(tmp_path: Path) -> None:
    """The tiles of one large image: ``progress`` reaches ``translate``, only when asked for."""
    import torch
    import torch.nn.functional as F

    from zoo_core.modeling import ImageTranslator, ModelConfig, ZooModel
    from zoo_core.translate import translate_files

    class Tiled(ImageTranslator, ZooModel):
        architecture, config_class = "tiled", ModelConfig
        scale, input_channels, output_channels = 2, 3, 3

        def __init__(self, config: ModelConfig) -> None:
            super().__init__(config)
            self.calls: list[bool] = []

        def translate(
            self, x: torch.Tensor, *, direction: str | None = None, seed: int | None = 0, progress: bool = False
        ) -> torch.Tensor:
            self.calls.append(progress)
            return F.interpolate(x, scale_factor=2, mode="nearest")

    sr = Tiled(ModelConfig())
    source = image(tmp_path / "a.png", 30, 20)
    translate_files(sr, [source], tmp_path / "b.png", verb="upscale", progress=True)
    translate_files(sr, [source], tmp_path / "c.png", verb="upscale", progress=False)
    assert sr.calls == [True, False]
    assert readable(tmp_path / "b.png") == (40, 60)
