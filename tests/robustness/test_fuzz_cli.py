"""Property-based fuzzing of the ``zoo`` command line (issue 13): whatever the input, zoo answers.

Over CLI arguments (model names, option values, seeds, -n counts, KEY=VALUE strings), config
values (``config.json`` of a local model folder, ``zoo.create(**config)``) and input files
(embeddings, foreign checkpoints), every example must end with exit code 0, 1 or 2, no traceback
and no "internal error" (the CLI's last-resort handler hides nothing from these tests), and no file
changed outside the outputs the command was asked to write.

Most examples run in-process with click's ``CliRunner`` (a subprocess costs 2-4 s of imports);
a few run as a subprocess, as a user would. Examples are derandomized, so CI sees the same ones.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import zoo_core as zoo
from conftest import TRACEBACK_MARKERS, assert_clean_failure, snapshot_tree, zoo_env
from zoo_core.cli import cli

REPO_ROOT = Path(__file__).resolve().parents[2]
HUB = REPO_ROOT / "hub"
VAE_FOLDER = HUB / "zoo" / "vae-mnist"
#: the Hub repositories the examples may load (copied: vae.mnist, dcgan.mnist, stackgan.mnist, mnistnet.mnist5k)
FUZZ_REPOS = ("zoo/vae-mnist", "zoo/dcgan-mnist", "zoo/stackgan-mnist", "zoo/mnistnet-mnist5k")
#: what no message may ever suggest (issue 13, group 4)
UNSAFE_ADVICE = ("weights_only=False", "trust_remote_code", "force_download", "allow_pickle")
#: a model zoo may build in these tests: anything bigger is refused by the size check, not allocated
MAX_MODEL_BYTES = str(16 * 2**20)


def fuzz(examples: int) -> settings:
    """Derandomized (CI sees the same examples every run), no deadline (a first torch import is slow)."""
    return settings(
        max_examples=examples,
        derandomize=True,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        database=None,
    )


# -- what is generated --------------------------------------------------------------------
def json_scalars() -> st.SearchStrategy[Any]:
    """JSON scalars a config could hold: the usual, and wrong types, huge and negative ints, NaN."""
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-5, max_value=600),
        st.sampled_from([0, -1, 2**31, 2**63, 10**30, 1_000_000_000]),
        st.floats(allow_nan=True, allow_infinity=True),
        st.sampled_from([0.5, 1.0, 28.0, -0.0]),
        st.text(max_size=12),
        st.sampled_from(["28", "unet_256", "instance", "AtoB", "both", "", "NaN"]),
    )


def json_values() -> st.SearchStrategy[Any]:
    """Mostly scalars (where the edges are), sometimes a list or an object of them."""
    nested = st.recursive(
        json_scalars(),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
        max_leaves=4,
    )
    return st.one_of(json_scalars(), json_scalars(), json_scalars(), nested)


def key_value_text() -> st.SearchStrategy[str]:
    """``--config`` / ``--dataset-option`` / ``--train-config`` items, well-formed or not."""
    keys = st.sampled_from(["latent_dim", "hidden_dim", "image_size", "channels", "size", "lr", "seed", "x", ""])
    values = st.one_of(
        st.sampled_from(["notanumber", "-3", "0", "1", "100000", "1e999", "NaN", "true", "null", "[1,2]", "{}", ""]),
        st.integers(min_value=-(2**70), max_value=2**70).map(str),
        st.text(alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=8),
    )
    return st.one_of(
        st.builds(lambda k, v: f"{k}={v}", keys, values), st.text(max_size=10).filter(lambda t: "\x00" not in t)
    )


def int_text() -> st.SearchStrategy[str]:
    """What a user might type for a count or a seed."""
    return st.one_of(
        st.integers(min_value=-3, max_value=40).map(str),
        st.sampled_from([str(2**64), str(2**63), str(2**63 - 1), "-1", "1.5", "abc", "", "0x10", "1e3", " 3"]),
    )


NAMES = st.sampled_from(
    ["vae.mnist", "vae", "vae.mnsit", "dcgan.mnist", "nothing", "", ".", "..", "vae.*", "local-dir:/nonexistent", "a/b"]
)


# -- helpers ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A working folder (the commands' cwd) with a copy of vae-mnist: examples must change nothing in it."""
    root = tmp_path_factory.mktemp("fuzz")
    shutil.copytree(VAE_FOLDER, root / "vae-model")
    hub = root.parent / (root.name + "-hub")  # ZOO_HUB_DIR: a copy, so that no example can touch the project's
    for repo in FUZZ_REPOS:
        shutil.copytree(HUB / repo, hub / repo)
    hub_before = snapshot_tree(hub)
    previous = Path.cwd()
    os.chdir(root)
    # huggingface_hub reads HF_HUB_OFFLINE once, at import: env_for's value only reaches it through its constant
    from huggingface_hub import constants

    offline = constants.HF_HUB_OFFLINE
    constants.HF_HUB_OFFLINE = True
    try:
        yield root
    finally:
        constants.HF_HUB_OFFLINE = offline
        os.chdir(previous)
    assert snapshot_tree(hub) == hub_before, "an example changed the Hub folder it reads"


def env_for(workdir: Path) -> dict[str, str]:
    return {
        "HF_HOME": str(workdir.parent / (workdir.name + "-hf")),
        "ZOO_CACHE": str(workdir.parent / (workdir.name + "-cache")),
        "ZOO_HUB_DIR": str(workdir.parent / (workdir.name + "-hub")),
        "HF_HUB_OFFLINE": "1",
        "ZOO_MAX_MODEL_BYTES": MAX_MODEL_BYTES,
    }


def check_answer(result: Any, allowed: tuple[int, ...] = (0, 1, 2)) -> None:
    """Exit 0/1/2 through SystemExit (no other exception escaped), one sentence, no traceback, no internal error."""
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # a crash: let hypothesis shrink it and show its traceback
    assert result.exit_code in allowed, (result.exit_code, result.stderr)
    for marker in TRACEBACK_MARKERS:
        assert marker not in result.stderr, result.stderr
    assert "internal error" not in result.stderr, result.stderr
    for unsafe in UNSAFE_ADVICE:
        assert unsafe not in result.output, result.output
    if result.exit_code:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert lines, "failed without saying why"


def run_cli(args: list[str], env: dict[str, str]) -> Any:
    return CliRunner().invoke(cli, args, env=env, catch_exceptions=True)


def changed_files(before: dict[str, Any], after: dict[str, Any], allowed: set[str]) -> list[str]:
    return sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k) and k not in allowed)


# -- config values ---------------------------------------------------------------------------
VAE_KEYS = ["image_size", "channels", "hidden_dim", "latent_dim"]


@st.composite
def configs(draw: st.DrawFn) -> Any:
    base = json.loads((VAE_FOLDER / "config.json").read_text())
    kind = draw(st.sampled_from(["values", "values", "values", "extra", "not-an-object"]))
    if kind == "not-an-object":
        return draw(st.one_of(st.none(), st.lists(json_scalars(), max_size=3), json_scalars()))
    config = dict(base)
    for key in draw(st.lists(st.sampled_from([*VAE_KEYS, "architecture"]), max_size=3, unique=True)):
        config[key] = draw(json_values())
    if kind == "extra":
        config[draw(st.text(min_size=1, max_size=10))] = draw(json_scalars())
    return config


@pytest.mark.slow
@fuzz(100)
@given(config=configs())
def test_fuzz_config_json_of_a_local_model(workdir: Path, config: Any) -> None:
    folder = workdir / "vae-model"
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    before = snapshot_tree(workdir)
    result = run_cli(["load", str(folder)], env_for(workdir))
    check_answer(result, (0, 1))
    if result.exit_code == 0:  # only the published values load the published weights
        base = json.loads((VAE_FOLDER / "config.json").read_text())
        assert isinstance(config, dict) and all(
            config.get(k) == base[k] and type(config.get(k)) is int for k in VAE_KEYS
        ), config
    assert changed_files(before, snapshot_tree(workdir), set()) == []


#: small valid configs the create fuzz starts from (so that a value that passes builds a model quickly)
SMALL = {
    "vae": {"hidden_dim": 16, "latent_dim": 2},
    "dcgan": {"image_size": 32, "channels": 1, "nz": 8, "ngf": 4, "ndf": 4},
    "pixelcnnpp": {"image_size": 8, "channels": 1, "nr_resnet": 1, "nr_filters": 4, "nr_logistic_mix": 1},
    "srgan": {"upscale_factor": 2, "width": 8, "num_rcb": 1, "d_width": 4},
    "cyclegan": {"ngf": 4, "ndf": 4, "netG": "resnet_6blocks", "image_size": 32},
    "pix2pix": {"ngf": 4, "ndf": 4, "netG": "unet_128", "image_size": 128},
}


@st.composite
def create_calls(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    from zoo_core._factory import model_class

    architecture = draw(st.sampled_from(sorted(SMALL)))
    fields = model_class(architecture).config_class.__dataclass_fields__
    config = dict(SMALL[architecture])
    for key in draw(st.lists(st.sampled_from([*fields, "latnet_dim"]), min_size=1, max_size=2, unique=True)):
        default = fields[key].default if key in fields else None
        config[key] = draw(json_values() if draw(st.booleans()) else values_like(default))
    return architecture, config


def values_like(default: Any) -> st.SearchStrategy[Any]:
    """Values of the field's own type, near and far from the usual ones (where a plugin's own checks are tested)."""
    if isinstance(default, bool):
        return st.booleans()
    if isinstance(default, int):
        return st.one_of(st.integers(min_value=-2, max_value=70), st.sampled_from([0, 127, 257, 2**31 - 1]))
    if isinstance(default, float):
        return st.one_of(st.floats(min_value=-2, max_value=2), st.sampled_from([0.0, 1.0, float("nan"), 1e300]))
    if isinstance(default, str):
        words = ["unet_256", "unet_128", "unet_32", "resnet_6blocks", "resnet_0blocks", "resnet_xblocks", "basic"]
        words += ["n_layers", "pixel", "batch", "instance", "none", "both", "AtoB", "BtoA", "rgb", "lab", ""]
        return st.one_of(st.sampled_from(words), st.text(max_size=8))
    return json_values()


@fuzz(120)
@given(call=create_calls())
def test_fuzz_zoo_create(call: tuple[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> None:
    """``zoo.create(arch, **config)``: a model, or one ZooError sentence; never another exception."""
    monkeypatch.setenv("ZOO_MAX_MODEL_BYTES", MAX_MODEL_BYTES)
    architecture, config = call
    try:
        model = zoo.create(architecture, **config)
    except zoo.ZooError as exc:
        message = str(exc)
        assert message and "\n" not in message.strip(), message
        return
    for key, value in config.items():  # what was accepted is what the model holds
        held = getattr(model.config, key)
        assert held == value or (isinstance(value, list) and tuple(value) == tuple(held)), (key, value, held)
        if isinstance(held, float):
            assert math.isfinite(held)


# -- CLI arguments ---------------------------------------------------------------------------
@st.composite
def command_lines(draw: st.DrawFn) -> tuple[list[str], set[str]]:
    """A command line and the files it may write (relative to the working folder)."""
    command = draw(st.sampled_from(["info", "list", "sample", "sample", "eval", "train", "train", "load", "cache"]))
    name = draw(st.one_of(st.just("vae.mnist"), NAMES))
    if command == "info":
        return ["info", name, *draw(st.sampled_from([[], ["--json"]]))], set()
    if command == "list":
        return [
            "list",
            *draw(st.lists(st.sampled_from(["vae.*", "--json", "--task", "latent", "x", "*"]), max_size=3)),
        ], set()
    if command == "load":
        dtype = draw(st.sampled_from([[], ["--dtype", "float7"], ["--dtype", "bfloat16"], ["--dtype", "int8"]]))
        device = draw(st.sampled_from([[], ["--device", "cpu"], ["--device", "foo"], ["--device", "meta"]]))
        device = draw(st.sampled_from([device, ["--device", "cuda:99"], ["--device", ""], ["--device", "cpu:0"]]))
        return ["load", name, *dtype, *device], set()
    if command == "cache":
        return ["cache", draw(st.sampled_from(["ls", "verify", "rm"])), *draw(st.lists(NAMES, max_size=2))], set()
    if command == "sample":
        args = ["sample", name, "-o", "out/grid.png", "-n", draw(int_text()), "--seed", draw(int_text())]
        if draw(st.booleans()):
            args += ["--nrow", draw(int_text())]
        return args, {"out/grid.png"}
    if command == "eval":
        args = ["eval", name, "--metric", draw(st.sampled_from(["fid-mnist", "nll", "fid", ""]))]
        args += ["--dataset", draw(st.sampled_from(["mnist5k", "digits", "nope", "mnist5k:nowhere"]))]
        args += ["-n", draw(int_text()), "--seed", draw(int_text()), "--batch-size", draw(int_text())]
        for item in draw(st.lists(key_value_text(), max_size=2)):
            args += ["--dataset-option", item]
        # evaluation of a valid command line is measured elsewhere: here every line must fail fast
        args += ["--metric", "no-such-metric"]
        return args, set()
    args = ["train", draw(st.sampled_from(["vae", "vae", "vea"])), "--dataset", "mnist5k", "--out", "run"]
    args += ["--steps", "1", "--no-eval", "--batch-size", "8", "--seed", draw(int_text())]
    for option in ("--config", "--dataset-option", "--train-config"):
        for item in draw(st.lists(key_value_text(), max_size=2)):
            args += [option, item]
    return args, {"run"}


@pytest.mark.slow
@fuzz(150)
@given(line=command_lines())
def test_fuzz_cli_arguments(workdir: Path, line: tuple[str, list[str]]) -> None:
    args, outputs = line
    before = snapshot_tree(workdir)
    result = run_cli(args, env_for(workdir))
    check_answer(result)
    after = snapshot_tree(workdir)
    changed = [k for k in changed_files(before, after, set()) if not any(k.startswith(o) for o in outputs)]
    assert changed == [], changed
    for output in outputs:  # leave the next example a clean folder
        path = workdir / output
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


# -- input files ----------------------------------------------------------------------------
FILE_BYTES = st.one_of(
    st.binary(max_size=200),
    st.sampled_from([b"", b"{}", b"PK\x03\x04", b"\x80\x02}q\x00.", b"<html>not a checkpoint</html>"]),
    st.builds(lambda n, body: n.to_bytes(8, "little") + body, st.integers(0, 2**64 - 1), st.binary(max_size=64)),
)


@fuzz(80)
@given(
    data=FILE_BYTES,
    suffix=st.sampled_from([".safetensors", ".npy", ".pth", ".bin"]),
    config=st.lists(key_value_text(), max_size=2),
)
def test_fuzz_input_files(workdir: Path, data: bytes, suffix: str, config: list[str]) -> None:
    """Garbage given as an embedding (``zoo sample --embedding``) or a checkpoint (``zoo convert``)."""
    inputs = workdir / "inputs"
    inputs.mkdir(exist_ok=True)
    path = inputs / f"file{suffix}"
    path.write_bytes(data)
    before = snapshot_tree(workdir)
    env = env_for(workdir)
    result = run_cli(["sample", "stackgan.mnist", "--embedding", str(path), "-n", "2", "-o", "out/e.png"], env)
    check_answer(result, (0, 1))
    options = [part for item in config for part in ("--config", item)]
    result = run_cli(["convert", "dcgan-huggan", str(path), "-o", "out/converted", *options], env)
    check_answer(result, (1, 2))  # garbage is never converted, whatever the config
    assert not (workdir / "out" / "converted" / "model.safetensors").exists()
    changed = [k for k in changed_files(before, snapshot_tree(workdir), set()) if not k.startswith("out/")]
    assert changed == [], changed
    shutil.rmtree(workdir / "out", ignore_errors=True)
    shutil.rmtree(inputs)


# -- a handful as a user runs them ----------------------------------------------------------
SUBPROCESS_CASES = [
    (["sample", "vae.mnist", "--seed", str(2**64), "-o", "g.png"], 2),
    (["sample", "vae.mnist", "-n", "-5", "-o", "g.png"], 2),
    (["train", "vae", "--dataset", "mnist5k", "--out", "run", "--config", "latent_dim=notanumber"], 1),
    (["train", "vae", "--dataset", "mnist5k", "--out", "run", "--dataset-option", "size=100000"], 1),
    (["load", "local-dir:vae-model"], 1),
]


@pytest.mark.slow
@pytest.mark.parametrize(("args", "code"), SUBPROCESS_CASES, ids=lambda a: " ".join(a) if isinstance(a, list) else "")
def test_bad_input_as_a_subprocess(tmp_path: Path, args: list[str], code: int) -> None:
    shutil.copytree(VAE_FOLDER, tmp_path / "vae-model")
    (tmp_path / "vae-model" / "config.json").write_text('{"architecture": "vae", "hidden_dim": NaN}')
    env = zoo_env(tmp_path / "home", ZOO_HUB_DIR=str(HUB), ZOO_MAX_MODEL_BYTES=MAX_MODEL_BYTES)
    before = snapshot_tree(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "zoo_core", *args], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert_clean_failure(result, code)
    assert "internal error" not in result.stderr
    after = {k: v for k, v in snapshot_tree(tmp_path).items() if not k.startswith("home/")}
    assert after == {k: v for k, v in before.items() if not k.startswith("home/")}


def test_the_fuzz_would_see_a_crash() -> None:
    """The checks above are not vacuous: an exception that escapes the CLI fails ``check_answer``."""
    import click

    from zoo_core.cli import ZooGroup

    @click.group(cls=ZooGroup)
    def group() -> None:
        pass

    @group.command()
    def boom() -> None:
        raise RuntimeError("a bug")

    result = CliRunner().invoke(group, ["boom"], catch_exceptions=True)
    with pytest.raises(AssertionError, match="internal error"):
        check_answer(result)
    with tempfile.TemporaryDirectory() as tmp:  # and a changed file is seen
        Path(tmp, "a").write_text("1")
        before = snapshot_tree(Path(tmp))
        Path(tmp, "a").write_text("2")
        assert changed_files(before, snapshot_tree(Path(tmp)), set()) == ["a"]
