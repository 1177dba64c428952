"""The kit for plugin authors: the conformance checks (each can fail), `zoo plugin check / new`, `zoo architectures`.

Throwaway plugins are installed as pip leaves them (a package plus a ``*.dist-info`` with the entry point) in a
folder on the PYTHONPATH of a ``zoo`` subprocess: nothing is installed into the virtual environment.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from conftest import assert_clean_failure, run_zoo, write_dist_info, zoo_env
from zoo_core import Architecture
from zoo_core.modeling import DensityModel, ModelConfig, UnconditionalGenerator, ZooModel, check_density_images
from zoo_core.testing import check_architecture
from zoo_core.training import InputSpec, TrainingStep


# -- a toy architecture, and one broken copy per check -------------------------------------------------
@dataclass
class ToyConfig(ModelConfig):
    size: int = 8
    hidden: int = 4


class Toy(UnconditionalGenerator, ZooModel):
    architecture = "toy"
    config_class = ToyConfig

    def __init__(self, config: ToyConfig) -> None:
        super().__init__(config)
        self.net = nn.Sequential(
            nn.Linear(3, config.hidden),
            nn.BatchNorm1d(config.hidden),
            nn.Linear(config.hidden, config.size * config.size),
            nn.Sigmoid(),
        )

    def sample_batch(self, n: int, generator: torch.Generator) -> torch.Tensor:
        return self.net(torch.randn(n, 3, generator=generator)).view(n, 1, self.config.size, self.config.size)


class ToyStep(TrainingStep):
    def input_spec(self) -> InputSpec:
        return InputSpec(1, (self.model.config.size,) * 2, ("images",))

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"adam": torch.optim.Adam(self.model.parameters(), lr=1e-3)}

    def train_step(self, batch: dict[str, Any], step: int) -> dict[str, Any]:
        self.opts["adam"].zero_grad()
        fake = self.model.net(torch.randn(len(batch["image"]), 3)).view_as(batch["image"])
        loss = (fake - batch["image"]).pow(2).mean()
        loss.backward()
        self.opts["adam"].step()
        return {"loss": loss.detach()}


@dataclass
class ForgetfulConfig(ToyConfig):  # to_dict drops a field: the round trip changes the config
    def to_dict(self) -> dict[str, Any]:
        values = super().to_dict()
        values.pop("hidden")
        return values


class BadConfigToy(Toy):
    config_class = ForgetfulConfig


class AllocatesOnCpuToy(Toy):  # a tensor created with device="cpu" escapes the meta device
    def __init__(self, config: ToyConfig) -> None:
        super().__init__(config)
        self.register_buffer("table", torch.zeros(3, device="cpu"))


class FlatToy(Toy):  # flat vectors, not images
    def sample_batch(self, n: int, generator: torch.Generator) -> torch.Tensor:
        return super().sample_batch(n, generator).view(n, -1)


class CountingToy(Toy):  # a verb that writes to a buffer: the model changes when it is used
    def __init__(self, config: ToyConfig) -> None:
        super().__init__(config)
        self.register_buffer("calls", torch.zeros(()))

    def sample_batch(self, n: int, generator: torch.Generator) -> torch.Tensor:
        self.calls.add_(1)
        return super().sample_batch(n, generator)


class DriftingToy(Toy):  # each call draws other images for the same seed
    def __init__(self, config: ToyConfig) -> None:
        super().__init__(config)
        self.drift = 0

    def sample_batch(self, n: int, generator: torch.Generator) -> torch.Tensor:
        self.drift += 1
        out = self.net(torch.randn(n, 3, generator=generator) + self.drift)
        return out.view(n, 1, self.config.size, self.config.size)


class UnsavedToy(Toy):  # a random tensor that save_pretrained does not write
    def __init__(self, config: ToyConfig) -> None:
        super().__init__(config)
        self.register_buffer("offset", torch.rand(1), persistent=False)


class UnusedParameterToy(Toy):  # a layer no loss reaches
    def __init__(self, config: ToyConfig) -> None:
        super().__init__(config)
        self.unused = nn.Linear(2, 2)


class NanStep(ToyStep):
    def train_step(self, batch: dict[str, Any], step: int) -> dict[str, Any]:
        super().train_step(batch, step)
        return {"loss": torch.tensor(float("nan"))}


def toy_spec(model: type = Toy, step: type = ToyStep) -> Architecture:
    return Architecture("toy", model=model, tasks=("unconditional",), training_step=step, test_config={"hidden": 6})


def toy_entry(**changes: Any) -> dict[str, Any]:
    """A registry entry of the toy, from the shipped vae.mnist entry."""
    from zoo_core._registry import load_registry

    entry = copy.deepcopy(load_registry(Path(__file__).resolve().parents[1] / "registry.json")["models"]["vae.mnist"])
    entry.update(architecture="toy", plugin="toy", tasks=["unconditional"], config={"hidden": 6})
    entry.update(changes)
    return entry


def test_a_correct_architecture_passes_every_check() -> None:
    report = check_architecture(toy_spec(), entries={"toy.digits": toy_entry()})
    assert report.ok, report.text()
    assert [r.name for r in report.results] == [
        "config",
        "meta",
        "task:unconditional",
        "eval-mode",
        "determinism",
        "save-load",
        "training-step",
        "registry",
    ]
    assert all(r.status == "ok" for r in report.results), report.text()


@pytest.mark.parametrize(
    ("spec", "entries", "check", "words"),
    [
        (toy_spec(BadConfigToy), None, "config", "from_dict (field 'hidden')"),
        (toy_spec(AllocatesOnCpuToy), None, "meta", "allocated on a real device"),
        (toy_spec(FlatToy), None, "task:unconditional", "not (2, C, H, W)"),
        (toy_spec(CountingToy), None, "eval-mode", "changed the buffer 'calls'"),
        (toy_spec(DriftingToy), None, "determinism", "different outputs for the same seed"),
        (toy_spec(UnsavedToy), None, "save-load", "offset"),
        (toy_spec(UnusedParameterToy), None, "training-step", "No gradient reached 2 of"),
        (toy_spec(step=NanStep), None, "training-step", "not finite"),
        (toy_spec(), {"toy.digits": toy_entry(tasks=["unconditional", "latent"])}, "registry", "'latent'"),
        (toy_spec(), {"other.digits": toy_entry()}, "registry", "must have architecture 'other'"),
    ],
    ids=["config", "meta", "task", "eval-mode", "determinism", "save-load", "no-gradient", "nan-loss", "tasks", "name"],
)
def test_a_broken_architecture_fails_the_right_check(
    spec: Architecture, entries: dict | None, check: str, words: str
) -> None:
    report = check_architecture(spec, entries=entries, only=(check.partition(":")[0],))
    result = report.result(check)
    assert result.status == "failed", report.text()
    assert words in result.message, result.message
    assert "\n" not in result.message


def test_a_model_class_that_is_not_a_zoo_model_fails_the_config_check() -> None:
    spec = Architecture("toy", model=nn.Linear, tasks=("unconditional",))
    report = check_architecture(spec)
    assert not report.ok
    assert report.results[0].name == "config"
    assert report.results[0].status == "failed" and "no verb sample" in report.results[0].message


def test_an_architecture_without_a_training_step_skips_that_check_only() -> None:
    spec = Architecture("toy", model=Toy, tasks=("unconditional",), test_config={"hidden": 6})
    report = check_architecture(spec)
    assert report.ok, report.text()
    assert report.result("training-step").status == "skipped"
    assert report.result("save-load").status == "ok"


def test_a_registered_architecture_passes_with_its_registry_entries() -> None:
    report = check_architecture("vae")
    assert report.ok, report.text()
    assert report.result("registry").status == "ok"  # vae.mnist: the entry and its card
    assert "entr" in report.result("registry").message


def test_every_registered_architecture_runs_the_kit() -> None:
    """zoo's own architectures pass the kit here; each first-party plugin's tests run it on each of its architectures
    (one test per check), so that it is not paid twice: this checks that none is left out."""
    import re

    from zoo_core._catalog import get_catalog

    catalog = get_catalog()
    names = sorted(catalog.architectures)
    assert {"vae", "dcgan", "pixelcnnpp", "pix2pix", "cyclegan", "srgan", "stackgan", "stackgan-text"} <= set(names)
    builtin = [name for name in names if catalog.owners[("architecture", name)].startswith("zoo_core.")]
    failed = [report.text() for report in map(check_architecture, builtin) if not report.ok]
    assert not failed, "\n".join(failed)
    conformance = "".join(
        path.read_text() for path in (Path(__file__).resolve().parents[1] / "plugins").glob("*/tests/*conformance*.py")
    )
    covered = set(re.findall(r'conformance_tests\("([^"]+)"\)', conformance))
    first_party = {n for n in names if catalog.owners[("architecture", n)].startswith("zoo-")}
    assert first_party <= covered, f"no conformance test runs the kit on {sorted(first_party - covered)}"


# -- zoo plugin check / zoo architectures ---------------------------------------------------------------
BROKEN_PLUGIN = """\
from dataclasses import dataclass

from zoo_core import Architecture, hookimpl


@hookimpl
def register_architectures(register):
    register(Architecture("broken-toy", model="broken_toy_model:BrokenToy", tasks=("unconditional",),
                          test_config={"size": 4}))
"""

BROKEN_MODEL = """\
from dataclasses import dataclass

import torch
from torch import nn

from zoo_core.modeling import ModelConfig, UnconditionalGenerator, ZooModel


@dataclass
class BrokenToyConfig(ModelConfig):
    size: int = 8


class BrokenToy(UnconditionalGenerator, ZooModel):
    architecture = "broken-toy"
    config_class = BrokenToyConfig

    def __init__(self, config):
        super().__init__(config)
        self.net = nn.Linear(2, config.size * config.size)

    def sample_batch(self, n, generator):
        return self.net(torch.randn(n, 2, generator=generator))  # (n, size * size): not images
"""


def install_fake_plugin(site: Path, dist_name: str, modules: dict[str, str], entry_point: str, target: str) -> Path:
    """Modules plus a ``dist-info`` whose entry point (group ``zoo``) is ``target``, in ``site``."""
    site.mkdir(parents=True, exist_ok=True)
    for module, source in modules.items():
        (site / f"{module}.py").write_text(source)
    write_dist_info(site, dist_name, {entry_point: target}, version="0.1.0")
    return site


@pytest.mark.slow
def test_zoo_plugin_check_reports_each_check_and_fails_in_one_sentence(tmp_path: Path) -> None:
    site = install_fake_plugin(
        tmp_path / "site",
        "broken-toy",
        {"broken_toy_plugin": BROKEN_PLUGIN, "broken_toy_model": BROKEN_MODEL},
        "broken-toy",
        "broken_toy_plugin",
    )
    env = zoo_env(tmp_path / "home", PYTHONPATH=str(site), ZOO_LOAD_PLUGINS="broken-toy")
    result = run_zoo("plugin", "check", "broken-toy", env=env)
    lines = result.stdout.splitlines()
    assert lines[0].startswith("architecture broken-toy (plugin broken-toy)"), result.stdout
    assert any(line.split() == ["ok", "config:", *line.split()[2:]] for line in lines), result.stdout
    failed = [line for line in lines if line.strip().startswith("FAILED")]
    assert failed and failed[0].split()[1] == "task:unconditional:", result.stdout
    assert "not (2, C, H, W)" in failed[0]
    assert "skipped  training-step" in result.stdout  # it registers no training step
    message = assert_clean_failure(result, 1, mentions="conformance check")
    assert "task:unconditional" in message


def test_zoo_plugin_check_passes_on_a_first_party_plugin_by_name_and_by_folder(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from zoo_core.cli import cli

    runner = CliRunner()
    by_name = runner.invoke(cli, ["plugin", "check", "zoo-vae"])
    assert by_name.exit_code == 0, by_name.output
    assert "ok       save-load" in by_name.output and "FAILED" not in by_name.output
    folder = Path(__file__).resolve().parents[1] / "plugins" / "zoo-vae"
    by_folder = runner.invoke(cli, ["plugin", "check", str(folder), "--json"])
    assert by_folder.exit_code == 0, by_folder.output
    reports = json.loads(by_folder.output)
    assert [r["architecture"] for r in reports] == ["vae"] and reports[0]["ok"] is True


def test_zoo_plugin_check_of_an_unknown_name_or_an_uninstalled_folder_is_one_sentence(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from zoo_core.cli import cli

    unknown = CliRunner().invoke(cli, ["plugin", "check", "vea"])
    assert unknown.exit_code == 1 and unknown.stdout == ""
    assert unknown.stderr.count("\n") == 1 and "did you mean vae" in unknown.stderr, unknown.stderr
    assert "zoo architectures" in unknown.stderr
    folder = tmp_path / "not-installed"
    folder.mkdir()
    (folder / "pyproject.toml").write_text('[project]\nname = "not-installed"\n')
    uninstalled = CliRunner().invoke(cli, ["plugin", "check", str(folder)])
    assert uninstalled.exit_code == 1 and "pip install -e" in uninstalled.stderr, uninstalled.stderr


@pytest.mark.slow
def test_zoo_architectures_lists_plugin_tasks_and_config_fields() -> None:
    from click.testing import CliRunner

    from zoo_core.cli import cli

    result = CliRunner().invoke(cli, ["architectures", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert {"vae", "dcgan", "pixelcnnpp", "pix2pix", "cyclegan", "srgan", "stackgan"} <= set(rows)
    vae = rows["vae"]
    assert vae["plugin"] == "zoo-vae" and vae["tasks"] == ["unconditional", "latent"] and vae["trainable"]
    assert vae["config"]["latent_dim"] == {"type": "int", "default": 20}
    assert vae["test_config"] == {"hidden_dim": 16, "latent_dim": 2}
    text = CliRunner().invoke(cli, ["architectures"])
    assert text.exit_code == 0
    assert "vae  (zoo-vae; unconditional, latent; trainable)" in text.stdout
    assert "latent_dim=20" in text.stdout


def test_zoo_architectures_shows_a_model_class_that_cannot_be_imported() -> None:
    from zoo_core import hookimpl
    from zoo_core._plugins import get_plugin_manager
    from zoo_core.scaffold import describe_architectures

    class Broken:
        @hookimpl
        def register_architectures(self, register: Any) -> None:
            register(Architecture("ghost", model="no_such_module:Ghost", tasks=("unconditional",)))

    get_plugin_manager().register(Broken(), name="ghost-plugin")
    rows = {row["name"]: row for row in describe_architectures()}
    assert "no_such_module" in rows["ghost"]["error"] and rows["ghost"]["config"] == {}
    assert rows["vae"]["config"]  # the others are still described


# -- zoo plugin new --------------------------------------------------------------------------------------
def test_zoo_plugin_new_refuses_bad_names_and_folders_in_one_sentence(tmp_path: Path) -> None:
    env = zoo_env(tmp_path / "home")
    assert_clean_failure(
        run_zoo("plugin", "new", "Demo_GAN", "--dir", str(tmp_path / "a"), env=env), 1, mentions="lower-case"
    )
    assert_clean_failure(
        run_zoo("plugin", "new", "vae", "--dir", str(tmp_path / "b"), env=env),
        1,
        mentions="taken by the plugin zoo-vae",
    )
    full = tmp_path / "full"
    full.mkdir()
    (full / "keep.txt").write_text("mine")
    assert_clean_failure(
        run_zoo("plugin", "new", "demo-gan", "--dir", str(full), env=env), 1, mentions="not an empty folder"
    )
    assert (full / "keep.txt").read_text() == "mine" and sorted(p.name for p in full.iterdir()) == ["keep.txt"]
    usage = run_zoo("plugin", "new", "demo-gan", "--task", "density", env=env)
    assert usage.returncode == 2 and "Traceback" not in usage.stderr


def install_generated(folder: Path, site: Path, dist: str, package: str) -> dict[str, str]:
    """What ``pip install -e folder`` leaves: the folder on the path and a dist-info with its entry points."""
    import tomllib

    project = tomllib.loads((folder / "pyproject.toml").read_text())["project"]
    assert project["name"] == dist
    assert dist.replace("-", "_") == package  # pip names the dist-info after the distribution
    write_dist_info(site, dist, project["entry-points"]["zoo"], version="0.1.0")
    return {"PYTHONPATH": f"{site}{__import__('os').pathsep}{folder}"}


@pytest.mark.slow
@pytest.mark.parametrize(("task", "name"), [("unconditional", "demo-gan"), ("image-to-image", "demo-pix")])
def test_a_new_plugin_installs_passes_zoo_plugin_check_and_its_own_tests(tmp_path: Path, task: str, name: str) -> None:
    env = zoo_env(tmp_path / "home")
    folder = tmp_path / "plugin"
    written = run_zoo("plugin", "new", name, "--task", task, "--dir", str(folder), env=env)
    assert written.returncode == 0, written.stderr
    package = name.replace("-", "_")
    for relative in (
        "pyproject.toml",
        "README.md",
        f"{package}/plugin.py",
        f"{package}/model.py",
        f"{package}/training.py",
        f"{package}/catalog.json",
        f"tests/test_{package}.py",
    ):
        assert (folder / relative).is_file(), relative
    assert "import torch" not in (folder / package / "plugin.py").read_text()  # `zoo list` stays fast
    ruff = [
        str(Path(sys.executable).parent / "ruff"),
        "--config",
        str(Path(__file__).resolve().parents[1] / "pyproject.toml"),
    ]
    for command in (["check"], ["format", "--check"]):  # the generated code is as clean as zoo's own
        linted = subprocess.run([*ruff[:1], *command, *ruff[1:], str(folder)], capture_output=True, text=True)
        assert linted.returncode == 0, linted.stdout + linted.stderr
    env.update(install_generated(folder, tmp_path / "site", name, package))

    check = run_zoo("plugin", "check", name, env=env, timeout=300)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "FAILED" not in check.stdout and "ok       training-step" in check.stdout
    assert run_zoo("plugin", "check", str(folder), env=env, timeout=300).returncode == 0

    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-2000:]
    assert " passed" in tests.stdout and "failed" not in tests.stdout


@pytest.mark.slow
def test_the_kit_runs_as_a_pytest_plugin(tmp_path: Path) -> None:
    env = zoo_env(tmp_path / "home")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "zoo_core.testing",
            "--zoo-check",
            "vae",
            "--rootdir",
            str(tmp_path),
            str(tmp_path),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "9 passed" in result.stdout, result.stdout[-2000:]


# -- density models of binary pixels: the kit feeds them binary images and wants grey ones refused --------------
class BinaryToy(DensityModel, ZooModel):
    """Independent Bernoulli pixels (logits a parameter) on 8x8 binary images."""

    architecture = "binary-toy"
    config_class = ToyConfig
    pixel_levels = 2

    def __init__(self, config: ToyConfig) -> None:
        super().__init__(config)
        self.logits = nn.Parameter(torch.zeros(1, 1, config.size, config.size))

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        check_density_images(x, pixel_levels=2, channels=1, size=(self.config.size,) * 2, what="binary toy")
        return (
            -nn.functional.binary_cross_entropy_with_logits(self.logits.expand_as(x), x, reduction="none")
            .flatten(1)
            .sum(1)
        )


class TrustingBinaryToy(BinaryToy):  # takes grey pixels as if they were binary: the kit must catch it
    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        return -nn.functional.binary_cross_entropy_with_logits(self.logits.expand_as(x), x, reduction="none").sum(
            (1, 2, 3)
        )


class ThreeLevelToy(BinaryToy):
    pixel_levels = 3


@pytest.mark.parametrize(
    ("model", "words"),
    [
        (BinaryToy, None),
        (TrustingBinaryToy, "log_prob of grey pixels (0.5) did not fail"),
        (ThreeLevelToy, "pixel_levels is 3"),
    ],
)
def test_the_density_check_feeds_binary_models_binary_images(model: type, words: str | None) -> None:
    spec = Architecture(
        "binary-toy", model=model, tasks=("density",), test_config={"hidden": 6}, test_data={"input_shape": [1, 8, 8]}
    )
    report = check_architecture(spec, only=("task", "eval-mode", "determinism", "save-load"))
    result = report.result("task:density")
    if words is None:
        assert report.ok, report.text()
        assert result.message.endswith("pixel_levels 2")
    else:
        assert result.status == "failed" and words in result.message, report.text()


# -- closed-form training steps: no optimiser; the kit checks that a step sets the model's tensors --------------
class MeanToy(DensityModel, ZooModel):
    """Independent Bernoulli pixels whose probabilities are the mean of the images seen (a closed-form fit)."""

    architecture = "mean-toy"
    config_class = ToyConfig
    pixel_levels = 2

    def __init__(self, config: ToyConfig) -> None:
        super().__init__(config)
        self.p = nn.Parameter(torch.full((1, 1, config.size, config.size), 0.5), requires_grad=False)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        check_density_images(x, pixel_levels=2, channels=1, size=(self.config.size,) * 2, what="mean toy")
        p = self.p.clamp(1e-3, 1 - 1e-3)
        return (x * p.log() + (1 - x) * (1 - p).log()).flatten(1).sum(1)


class MeanStep(TrainingStep):
    closed_form = True

    def input_spec(self) -> InputSpec:
        return InputSpec(1, (self.model.config.size,) * 2, ("images",))

    def train_step(self, batch: dict[str, Any], step: int) -> dict[str, Any]:
        with torch.no_grad():
            self.model.p.copy_(batch["image"].mean(0, keepdim=True))
        return {"nll": -self.model.log_prob(batch["image"]).mean()}


class IdleMeanStep(MeanStep):  # logs, but sets nothing
    def train_step(self, batch: dict[str, Any], step: int) -> dict[str, Any]:
        return {"nll": torch.tensor(1.0)}


class LearningMeanToy(MeanToy):  # a closed-form model whose parameter still asks for gradients
    def __init__(self, config: ToyConfig) -> None:
        super().__init__(config)
        self.p.requires_grad_(True)


@pytest.mark.parametrize(
    ("model", "step", "words"),
    [
        (MeanToy, MeanStep, None),
        (MeanToy, IdleMeanStep, "changed none of the model's tensors"),
        (LearningMeanToy, MeanStep, "requires a gradient"),
    ],
)
def test_a_closed_form_step_is_checked_by_what_it_sets(model: type, step: type, words: str | None) -> None:
    spec = Architecture("mean-toy", model=model, tasks=("density",), training_step=step, test_config={"hidden": 6})
    result = check_architecture(spec, only=("training-step",)).result("training-step")
    if words is None:
        assert result.status == "ok" and "closed form: 1 of 1 tensors set from the batch" in result.message
    else:
        assert result.status == "failed" and words in result.message, result.message
    assert step(model(ToyConfig()), _train_config()).optimizers() == {}


def _train_config() -> Any:
    from zoo_core.training import TrainConfig

    return TrainConfig("mean-toy", "mnist5k", "unused")
