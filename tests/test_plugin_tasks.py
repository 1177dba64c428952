"""Tasks that plugins declare (the ``register_tasks`` hook): listed, enforced on model classes, checked by the kit.

A throwaway plugin, installed as pip leaves one (package + ``*.dist-info``) in a folder on the PYTHONPATH of a
``zoo`` subprocess, declares the task ``toy-scoring`` (one verb, ``score(x)``) and an architecture serving it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import run_zoo, write_dist_info, zoo_env

TASKS_MODULE = '''
from __future__ import annotations
from typing import Protocol, runtime_checkable
from zoo_core.tasks._contract import abstract_verb


@runtime_checkable
class Scoring(Protocol):
    """score(x): one number per image."""

    def score(self, x): ...


class Scorer:
    """The mix-in of the task: models implement ``score``."""

    task = "toy-scoring"

    @abstract_verb
    def score(self, x):
        raise NotImplementedError


def conformance_calls(model, images):
    return {"score": lambda: model.score(images)}
'''

PLUGIN_MODULE = """
from zoo_core import Architecture, Task, hookimpl
from toy_scoring.tasks import Scoring


@hookimpl
def register_tasks(register):
    register(Task("score(x)", "image-classification", Scoring, "toy-scoring", "toy_scoring.tasks:Scorer",
                  "toy_scoring.tasks:conformance_calls"))
    register(Task("sample(n)", "x", Scoring, "unconditional", "toy_scoring.tasks:Scorer",
                  "toy_scoring.tasks:conformance_calls"))
    register(Task("score(x)", "x", Scoring, "no-calls", "toy_scoring.tasks:Scorer", None))


@hookimpl
def register_architectures(register):
    register(Architecture(name="toy-scorer", model="toy_scoring.model:ToyScorer", tasks=("toy-scoring",),
                          description="A mean-pixel scorer.", test_config={}))
"""

MODEL_MODULE = """
from dataclasses import dataclass
import torch
from torch import nn
from zoo_core.modeling import ModelConfig, ZooModel
from toy_scoring.tasks import Scorer


@dataclass
class ToyScorerConfig(ModelConfig):
    size: int = 8


class ToyScorer(Scorer, ZooModel):
    architecture = "toy-scorer"
    config_class = ToyScorerConfig
    input_channels = 1
    image_size = 8

    def __init__(self, config):
        super().__init__(config)
        self.weight = nn.Parameter(torch.ones(()))

    def score(self, x):
        return self.weight * x.mean(dim=(1, 2, 3))
"""


def _env(home: Path, site: Path) -> dict[str, str]:
    return zoo_env(home, PYTHONPATH=str(site))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = tmp_path_factory.mktemp("site")
    package = site / "toy_scoring"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "tasks.py").write_text(TASKS_MODULE)
    (package / "plugin.py").write_text(PLUGIN_MODULE)
    (package / "model.py").write_text(MODEL_MODULE)
    write_dist_info(site, "toy-scoring", {"toy-scoring": "toy_scoring.plugin"})
    return site


def test_zoo_tasks_lists_the_plugin_task_and_refuses_taken_or_malformed_ones(site: Path, tmp_path: Path) -> None:
    result = run_zoo("tasks", "--json", env=_env(tmp_path, site))
    assert result.returncode == 0, result.stderr
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert rows["toy-scoring"]["plugin"] == "toy-scoring" and rows["toy-scoring"]["verbs"] == "score(x)"
    assert rows["unconditional"]["plugin"] == "zoo_core"  # the core's task is not replaced
    assert "no-calls" not in rows
    assert "its task 'unconditional' is already registered by 'zoo_core'" in result.stderr
    assert "no-calls" in result.stderr and "conformance=None" in result.stderr


def test_the_kit_checks_a_plugin_task_through_its_conformance_calls(site: Path, tmp_path: Path) -> None:
    result = run_zoo("plugin", "check", "toy-scorer", env=_env(tmp_path, site), timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "score -> (2,)" in result.stdout


def test_a_model_module_of_a_plugin_task_imports_on_its_own(site: Path, tmp_path: Path) -> None:
    """Defining the class needs the task's contract: ``TASKS`` loads the plugins for the name it lacks."""
    code = "import toy_scoring.model as m; print(m.ToyScorer.task_names())"
    result = subprocess.run(
        [sys.executable, "-c", code], env=_env(tmp_path, site), capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "('toy-scoring',)" in result.stdout


def test_a_model_class_without_the_task_verb_is_refused_in_one_sentence(site: Path, tmp_path: Path) -> None:
    code = textwrap.dedent(
        """
        from zoo_core.modeling import ZooModel
        from toy_scoring.model import ToyScorerConfig
        from toy_scoring.tasks import Scorer
        class Lazy(Scorer, ZooModel):
            architecture = "lazy"
            config_class = ToyScorerConfig
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=_env(tmp_path, site), capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "declares the task 'toy-scoring' but has no verb score(x)" in result.stderr


def test_an_unknown_task_is_still_refused(site: Path, tmp_path: Path) -> None:
    code = "from zoo_core import Architecture; Architecture(name='x', model='m:C', tasks=('nope',))"
    result = subprocess.run([sys.executable, "-c", code], env=_env(tmp_path, site), capture_output=True, text=True)
    assert result.returncode != 0
    assert "declares the unknown task 'nope'; known tasks:" in result.stderr and "toy-scoring" in result.stderr
