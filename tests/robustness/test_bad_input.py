"""Group 7 of issue 13: every bad input gets one sentence and exit 1 (2 for usage), never a traceback.

Config values are checked in one place (``ModelConfig``, through ``zoo_core._config.check_values``)
whichever way they come: a folder's ``config.json``, ``--config key=value`` or ``zoo.create(**config)``.
The image-file, output-path and ``ZOO_REGISTRY`` cases live in their own files.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Literal

import click
import pytest
from click.testing import CliRunner

import zoo_core as zoo
from conftest import assert_clean_failure, run_zoo, snapshot_tree, zoo_env
from zoo_core.cli import ZooGroup, cli
from zoo_core.modeling import ModelConfig

REPO_ROOT = Path(__file__).resolve().parents[2]
VAE_FOLDER = REPO_ROOT / "hub" / "zoo" / "vae-mnist"


def invoke(*args: str, env: dict[str, str] | None = None):
    """Run the CLI in-process (fast); a crash in zoo re-raises here instead of hiding in the result."""
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    return result


def clean_failure(result, code: int = 1, *, mentions: str = "") -> str:
    """``assert_clean_failure`` for a CliRunner result (its stderr is kept apart from stdout)."""
    completed = subprocess.CompletedProcess(["zoo"], result.exit_code, result.stdout, result.stderr)
    return assert_clean_failure(completed, code, mentions=mentions)


@pytest.fixture
def vae_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "vae-model"
    shutil.copytree(VAE_FOLDER, folder)
    return folder


def write_config(folder: Path, config: object) -> None:
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")


# -- config values: config.json, --config and zoo.create share one check -----------------------
BAD_VALUES = [
    ("hidden_dim", "400", "must be an integer, not '400' (a string)"),
    ("hidden_dim", None, "must be an integer, not null"),
    ("hidden_dim", True, "must be an integer, not true (a boolean)"),
    ("hidden_dim", 400.5, "must be an integer, not 400.5"),
    ("hidden_dim", [400], "must be an integer, not [400] (a list)"),
    ("hidden_dim", -3, "must be from 1 to 2147483647, not -3"),
    ("latent_dim", 0, "must be from 1 to 2147483647, not 0"),
    ("latent_dim", 10**30, "must be from 1 to 2147483647"),
]


@pytest.mark.parametrize(("key", "value", "message"), BAD_VALUES)
def test_config_json_values_are_checked_against_the_dataclass(
    vae_folder: Path, key: str, value: object, message: str
) -> None:
    config = json.loads((vae_folder / "config.json").read_text())
    write_config(vae_folder, {**config, key: value})
    before = snapshot_tree(vae_folder)
    result = invoke("load", str(vae_folder))
    text = clean_failure(result, mentions=key)
    assert message in text and "config.json" in text
    assert snapshot_tree(vae_folder) == before


@pytest.mark.parametrize(("key", "value", "message"), BAD_VALUES)
def test_zoo_create_gives_the_same_sentence(key: str, value: object, message: str) -> None:
    with pytest.raises(zoo.ZooError, match=r"Config key '(hidden|latent)_dim' of architecture 'vae'") as caught:
        zoo.create("vae", **{key: value})
    assert message in str(caught.value)


@pytest.mark.parametrize("config", [[1, 2, 3], None, "vae", 3])
def test_config_json_that_is_not_an_object_is_refused(vae_folder: Path, config: object) -> None:
    write_config(vae_folder, config)
    text = clean_failure(invoke("load", str(vae_folder)))
    assert "must hold a JSON object" in text


def test_unknown_config_key_names_the_closest_field(vae_folder: Path) -> None:
    config = json.loads((vae_folder / "config.json").read_text())
    write_config(vae_folder, {**config, "hiden_dim": 400})
    text = clean_failure(invoke("load", str(vae_folder)))
    assert "'hiden_dim'" in text and "did you mean 'hidden_dim'" in text
    with pytest.raises(zoo.ZooError, match="did you mean 'latent_dim'"):
        zoo.create("vae", latnet_dim=3)


def test_architecture_that_is_not_a_name_is_refused(vae_folder: Path) -> None:
    config = json.loads((vae_folder / "config.json").read_text())
    write_config(vae_folder, {**config, "architecture": ["vae"]})
    assert "architecture" in clean_failure(invoke("load", str(vae_folder)))


def test_absurd_size_is_refused_before_the_allocator(monkeypatch: pytest.MonkeyPatch) -> None:
    # 1e9 hidden units: 1.6e12 parameters, 6.5 TB; counted on the meta device, never allocated
    with pytest.raises(zoo.ZooError, match=r"hidden_dim=1000000000 would take 6,520\.0 GB .* more than"):
        zoo.create("vae", hidden_dim=1_000_000_000)
    # the limit is documented and can be set: a small model over a tiny limit is refused the same way
    monkeypatch.setenv("ZOO_MAX_MODEL_BYTES", "1000")
    with pytest.raises(zoo.ZooError, match=r"more than \$ZOO_MAX_MODEL_BYTES"):
        zoo.create("vae", latent_dim=2)
    monkeypatch.setenv("ZOO_MAX_MODEL_BYTES", "lots")
    with pytest.raises(zoo.ZooError, match="ZOO_MAX_MODEL_BYTES='lots' is not a positive number of bytes"):
        zoo.create("vae")
    monkeypatch.delenv("ZOO_MAX_MODEL_BYTES")
    assert zoo.create("vae", latent_dim=2).config.latent_dim == 2


def test_config_that_overflows_torch_is_one_sentence() -> None:
    # 2**31-1 pixels a side passes the int range but makes a layer torch cannot size
    with pytest.raises(zoo.ZooError, match=r"image_size=2147483647\) does not make a model"):
        zoo.create("vae", image_size=2**31 - 1)


def test_floats_accept_ints_and_refuse_nan() -> None:
    model = zoo.create("pixelcnnpp", image_size=8, channels=1, nr_resnet=1, nr_filters=4, nr_logistic_mix=1, dropout=0)
    assert model.config.dropout == 0.0 and isinstance(model.config.dropout, float)
    with pytest.raises(zoo.ZooError, match=r"'dropout' .* must be a finite number, not nan"):
        zoo.create("pixelcnnpp", dropout=float("nan"))
    with pytest.raises(zoo.ZooError, match=r"'dropout' .* must be a number, not '0.1' \(a string\)"):
        zoo.create("pixelcnnpp", dropout="0.1")


@dataclasses.dataclass
class Config(ModelConfig):
    norm: Literal["batch", "instance"] = "batch"
    size: tuple[int, int] = (8, 8)
    widths: list[int] = dataclasses.field(default_factory=lambda: [4, 8])
    note: str | None = None
    rate: float = dataclasses.field(default=0.5, metadata={"range": (0.0, 1.0)})
    offset: int = dataclasses.field(default=0, metadata={"range": None})


def test_every_kind_of_hint_is_checked() -> None:
    """Literal, tuples, lists, Optional and declared ranges, on a config class of its own."""
    config = Config.from_dict({"size": [16, 32], "rate": 1, "note": None, "offset": -4})
    assert config.size == (16, 32) and config.rate == 1.0 and isinstance(config.rate, float) and config.offset == -4
    bad = [
        ({"norm": "group"}, "'norm' of Config must be one of 'batch', 'instance', not 'group'"),
        ({"size": [16]}, "'size' of Config must be a list of 2 values (an integer, an integer), not [16]"),
        ({"widths": [4, "8"]}, "'widths'[1] of Config must be an integer, not '8'"),
        ({"widths": [4, 0]}, "'widths'[1] of Config must be from 1 to 2147483647, not 0"),
        ({"note": 3}, "'note' of Config must be a string or null, not 3"),
        ({"rate": 1.5}, "'rate' of Config must be from 0.0 to 1.0, not 1.5"),
        ({"rate": None}, "'rate' of Config must be a number, not null"),
    ]
    for values, message in bad:
        with pytest.raises(zoo.ZooError) as caught:
            Config.from_dict(values)
        assert message in str(caught.value), str(caught.value)
    with pytest.raises(zoo.ZooError, match="'norm' of Config must be one of"):
        Config(norm="group")  # the constructor checks too


def test_config_option_that_is_not_a_number(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = invoke("train", "vae", "--dataset", "mnist5k", "--out", str(out), "--config", "latent_dim=notanumber")
    text = clean_failure(result)
    assert "'latent_dim'" in text and "must be an integer" in text and "'notanumber'" in text
    result = invoke("train", "vae", "--dataset", "mnist5k", "--out", str(out), "--train-config", "lr=fast")
    text = clean_failure(result)
    assert "'lr'" in text and "must be a number" in text
    result = invoke("train", "vae", "--dataset", "mnist5k", "--out", str(out), "--config", "hidden_dim=1000000000")
    assert "would take" in clean_failure(result)
    assert not (out / "checkpoints").exists()


def test_convert_config_option_is_checked(tmp_path: Path) -> None:
    checkpoint = tmp_path / "weights.safetensors"
    shutil.copy(VAE_FOLDER / "model.safetensors", checkpoint)
    converter = "dcgan-huggan"
    before = snapshot_tree(tmp_path)
    result = invoke("convert", converter, str(checkpoint), "-o", str(tmp_path / "out"), "--config", "channels=many")
    text = clean_failure(result)
    assert "'channels'" in text and "'many'" in text
    assert snapshot_tree(tmp_path) == before


# -- seeds ------------------------------------------------------------------------------------
SEED_COMMANDS = [
    ["sample", "vae.mnist", "-o", "{tmp}/grid.png"],
    ["translate", "cyclegan.digits2mnist", "{tmp}/in.png", "-o", "{tmp}/out.png"],
    ["eval", "vae.mnist", "--metric", "fid-mnist", "--dataset", "mnist5k"],
    ["train", "vae", "--dataset", "mnist5k", "--out", "{tmp}/run"],
]


@pytest.mark.parametrize("seed", [str(2**64), "-1", "18446744073709551615", "1.5", "abc"])
@pytest.mark.parametrize("command", SEED_COMMANDS, ids=lambda c: c[0])
def test_seed_out_of_range_is_a_usage_error(tmp_path: Path, command: list[str], seed: str) -> None:
    args = [part.format(tmp=tmp_path) for part in command]
    before = snapshot_tree(tmp_path)
    result = invoke(*args, "--seed", seed)
    text = clean_failure(result, code=2, mentions="--seed")
    if seed.lstrip("-").isdigit():
        assert "0<=x<=9223372036854775807" in text
    assert snapshot_tree(tmp_path) == before


# -- dataset options ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("size=-3", "must be from 1 to"),
        ("size=100000", "must be from 1 to"),
        ("size=abc", "'abc'"),
        ("sise=32", "did you mean 'size'"),
    ],
)
def test_dataset_option_out_of_range(tmp_path: Path, option: str, message: str) -> None:
    out = tmp_path / "run"
    result = invoke("train", "vae", "--dataset", "mnist5k", "--out", str(out), "--dataset-option", option)
    assert message in clean_failure(result)
    assert not (out / "checkpoints").exists()


def test_dataset_options_are_typed_by_the_loader() -> None:
    from zoo_core.data import load_dataset

    with pytest.raises(zoo.ZooError, match="Option 'crop_size' of dataset 'photos' must be an integer, not 'x'"):
        load_dataset("photos", crop_size="x")
    with pytest.raises(zoo.ZooError, match="Option 'flip' of dataset 'photos' must be true or false"):
        load_dataset("photos", flip="yes")
    with pytest.raises(zoo.ZooError, match="crop_size must be from 1 to 427 pixels"):
        load_dataset("photos", crop_size=4000)
    with pytest.raises(zoo.ZooError, match="Option 'load_size' of dataset 'imagefolder' must be from 1 to 4096"):
        load_dataset("imagefolder", root="x", load_size=0)
    with pytest.raises(zoo.ZooError, match="has no option 'lod_size' \\(did you mean 'load_size'\\?\\)"):
        load_dataset("imagefolder", root="x", lod_size=3)


@pytest.mark.parametrize(
    ("option", "value", "wanted"),
    [
        ("--device", "foo", "Unknown device 'foo'"),
        ("--device", "cuda:99", "cuda:99"),
        ("--dtype", "int8", "Unknown dtype 'int8'; use a floating-point one"),
        ("--dtype", "float7", "Unknown dtype 'float7'"),
    ],
)
def test_device_and_dtype_are_checked(vae_folder: Path, option: str, value: str, wanted: str) -> None:
    assert wanted in clean_failure(invoke("load", str(vae_folder), option, value))


def test_train_device_is_checked(tmp_path: Path) -> None:
    result = invoke("train", "vae", "--dataset", "mnist5k", "--out", str(tmp_path / "run"), "--device", "foo")
    assert "Unknown device 'foo'" in clean_failure(result)


def test_metric_options_are_typed_by_the_metric() -> None:
    from zoo_core.metrics import create_metric

    with pytest.raises(zoo.ZooError, match="Option 'crop_border' of metric 'psnr-y' must be an integer, not 'abc'"):
        create_metric("psnr-y", crop_border="abc")
    assert create_metric("psnr-y", crop_border=2).crop_border == 2


def test_sample_count_zero_is_a_usage_error(tmp_path: Path) -> None:
    result = invoke("sample", "vae.mnist", "-n", "0", "-o", str(tmp_path / "g.png"))
    clean_failure(result, code=2, mentions="-n")
    # a grid of 2**64 images would never end: refused before the model loads
    result = invoke("sample", "vae.mnist", "-n", str(2**64), "-o", str(tmp_path / "g.png"))
    assert "1<=x<=10000" in clean_failure(result, code=2, mentions="-n")
    for n in ("0", str(2**64)):
        result = invoke("eval", "vae.mnist", "--metric", "fid-mnist", "--dataset", "mnist5k", "-n", n)
        clean_failure(result, code=2, mentions="-n")


# -- the last-resort handler --------------------------------------------------------------------
def _group_raising(exc: BaseException) -> ZooGroup:
    """A ZooGroup (the class of ``zoo`` and its sub-groups) with one command that raises ``exc``."""

    @click.group(cls=ZooGroup)
    def group() -> None:
        pass

    @group.command()
    def boom() -> None:
        raise exc

    return group


@pytest.mark.parametrize(
    ("exc", "wanted"),
    [
        (RuntimeError("tensor a (3) must match\nsecond line"), "zoo hit an internal error (RuntimeError: tensor a"),
        (KeyError("weights"), "zoo hit an internal error (KeyError: 'weights')"),
        (MemoryError(), "zoo ran out of memory"),
        (RuntimeError("[enforce fail] DefaultCPUAllocator: can't allocate memory: you tried 9 TB"), "zoo ran out of"),
        (PermissionError(13, "Permission denied", "/etc/x"), "Cannot access /etc/x: Permission denied"),
        (OSError(28, "No space left on device", "/tmp/x.png"), "Cannot write /tmp/x.png: No space left on device"),
    ],
)
def test_any_other_exception_is_one_sentence(exc: BaseException, wanted: str) -> None:
    result = CliRunner().invoke(_group_raising(exc), ["boom"], catch_exceptions=False)
    text = clean_failure(result)
    assert text.startswith(wanted), text
    if "internal error" in wanted:
        assert "this is a bug in zoo or a plugin" in text and "ZOO_DEBUG=1" in text
        assert "second line" not in text


def test_zoo_debug_shows_the_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZOO_DEBUG", "1")
    with pytest.raises(RuntimeError, match="boom"):
        CliRunner().invoke(_group_raising(RuntimeError("boom")), ["boom"], catch_exceptions=False)


def test_interrupt_exits_130() -> None:
    result = CliRunner().invoke(_group_raising(KeyboardInterrupt()), ["boom"], catch_exceptions=False)
    assert result.exit_code == 130 and "Interrupted." in result.stderr


def test_internal_error_and_debug_as_subprocess(tmp_path: Path) -> None:
    """As a user sees it: a plugin bug becomes one sentence; ZOO_DEBUG=1 brings the traceback back."""
    script = (
        "import sys, click\n"
        "from zoo_core.cli import cli\n"
        "@cli.command('boom')\n"
        "def boom():\n"
        "    raise ValueError('a plugin bug')\n"
        "cli.main(args=sys.argv[1:], prog_name='zoo')\n"
    )
    env = zoo_env(tmp_path / "home")
    result = subprocess.run([sys.executable, "-c", script, "boom"], env=env, capture_output=True, text=True)
    text = assert_clean_failure(result)
    assert text.startswith("zoo hit an internal error (ValueError: a plugin bug)")
    debug = subprocess.run(
        [sys.executable, "-c", script, "boom"], env={**env, "ZOO_DEBUG": "1"}, capture_output=True, text=True
    )
    assert debug.returncode == 1 and "Traceback (most recent call last)" in debug.stderr


def test_closed_pipe_is_quiet(tmp_path: Path) -> None:
    """``zoo list | head -1``: no BrokenPipeError, no traceback."""
    env = zoo_env(tmp_path / "home")
    command = f"{sys.executable} -m zoo_core list | head -1"
    result = subprocess.run(["bash", "-c", command], env=env, capture_output=True, text=True, timeout=120)
    assert result.stdout.startswith("NAME")
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr, result.stderr
    # a reader that closes at once: still nothing on stderr
    command = f"{sys.executable} -m zoo_core list --json | true"
    result = subprocess.run(["bash", "-c", command], env=env, capture_output=True, text=True, timeout=120)
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr, result.stderr


@pytest.mark.slow
def test_bad_config_json_as_subprocess(tmp_path: Path, vae_folder: Path) -> None:
    config = json.loads((vae_folder / "config.json").read_text())
    write_config(vae_folder, {**config, "hidden_dim": 1_000_000_000})
    result = run_zoo("load", str(vae_folder), env=zoo_env(tmp_path / "home"))
    text = assert_clean_failure(result)
    assert "hidden_dim" in text or "do not fit" in text
