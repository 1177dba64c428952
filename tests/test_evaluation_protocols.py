"""Evaluation is a plugin point, and every metric value is stored with the protocol that produced it (issue 14).

- protocols come from the ``register_evaluation_protocols`` hook (the core's own and the plugins'), chosen by the
  model's task, the metric's inputs and the dataset; ``zoo_core/evaluation.py`` imports no plugin and probes no model;
- every record holds dataset, split, dataset options, metric options, protocol, sample count and seed, in the
  registry, in ``zoo-entry.json`` and in the card that ``zoo train`` writes;
- ``zoo eval NAME`` with no options computes every recorded metric again with its recorded protocol (relative
  1e-4: the published values were computed on another CPU, whose float32 kernels round differently);
- the card writer survives a paper without a URL; a metric's ValueError is one sentence, not a traceback.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import zoo_core as zoo
from zoo_core._catalog import get_catalog, reset_catalog
from zoo_core._plugins import get_plugin_manager
from zoo_core.cli import cli
from zoo_core.evaluation import EvaluationRun, evaluate, find_protocol, reproduce_metrics
from zoo_core.publish import render_card

REPO_ROOT = Path(__file__).resolve().parent.parent
TRAINED = [name for name in zoo.list_models() if zoo.info(name).source == "zoo"]


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZOO_HUB_DIR", str(REPO_ROOT / "hub"))  # the published files, sha256-checked


def _eval(*args: str) -> list[dict]:
    result = CliRunner().invoke(cli, ["eval", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


# -- the plugin point ----------------------------------------------------------------------------


def test_core_evaluation_imports_no_plugin_and_probes_no_model() -> None:
    source = (REPO_ROOT / "zoo_core" / "evaluation.py").read_text(encoding="utf-8")
    tree = ast.parse(source)
    imported = {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not [m for m in imported if m.startswith("zoo_") or m == "inspect"], imported
    calls = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    assert not calls & {"getattr", "hasattr"}, calls & {"getattr", "hasattr"}


def test_protocols_are_registered_through_the_hook_by_core_and_plugins() -> None:
    protocols = get_catalog().protocols
    assert {"samples", "captioned-samples", "likelihood", "translation", "classification"} <= set(protocols)
    assert protocols["samples"].plugin == "zoo_core.builtin.metrics"
    assert protocols["round-trip"].plugin == "zoo-cyclegan"
    assert protocols["digits-mnist-translations"].datasets == ("digits-mnist",)


def test_a_protocol_is_chosen_by_task_inputs_and_dataset() -> None:
    assert find_protocol(("unconditional", "latent"), "fid-mnist", ("fake", "real"), "mnist5k").name == "samples"
    assert find_protocol(("latent",), "elbo", ("model", "images"), "mnist5k").name == "likelihood"
    image_to_image = ("image-to-image",)
    assert find_protocol(image_to_image, "cycle-l1", ("image", "reconstruction"), "digits").name == "round-trip"
    # a plugin's protocol restricted to its dataset serves FID of translations there, and nowhere else
    chosen = find_protocol(image_to_image, "fid-mnist", ("fake", "real"), "digits-mnist")
    assert chosen.name == "digits-mnist-translations"
    with pytest.raises(zoo.ZooError, match=r"no evaluation protocol feeds it to this model \(image-to-image\)"):
        find_protocol(image_to_image, "fid-mnist", ("fake", "real"), "photos")
    with pytest.raises(zoo.ZooError, match="Unknown evaluation protocol 'nope'"):
        find_protocol(image_to_image, "l1", ("prediction", "target"), "photos", protocol="nope")


class DigitsProtocolPlugin:
    """A third-party protocol: unconditional models scored on `digits` feed blank images (to be recognised)."""

    calls: list[str] = []  # noqa: RUF012

    @staticmethod
    def feed(model, data, metrics, run: EvaluationRun) -> int:
        import torch

        DigitsProtocolPlugin.calls.append(run.dataset or "")
        n = run.n or len(data)
        for metric in metrics.values():
            metric.update(real=data.tensors()[:n], fake=torch.zeros(n, 1, 28, 28))
        return n

    @zoo.hookimpl
    def register_evaluation_protocols(self, register):
        register(
            zoo.EvaluationProtocol(
                "blank-digits", tasks=("unconditional",), provides=("fake", "real"), feed=self.feed,
                description="blank images against digits", datasets=("digits",),
            )
        )  # fmt: skip


def test_a_plugin_contributes_a_protocol_through_the_hook(hub: None) -> None:
    get_plugin_manager().register(DigitsProtocolPlugin(), name="digits-protocol-plugin")
    reset_catalog()  # a catalog built before the plugin registered would not know its protocol
    assert get_catalog().protocols["blank-digits"].plugin == "digits-protocol-plugin"
    model = zoo.load("dcgan.mnist")
    (record,) = evaluate(model, ["fid-mnist"], "digits", dataset_options={"size": 28}, n=40)
    assert DigitsProtocolPlugin.calls == ["digits"]
    assert record["evaluation"] == "blank-digits" and record["samples"] == 40
    assert record["dataset_options"] == {"size": 28} and "seed" not in record  # the protocol is not seeded
    (other,) = evaluate(model, ["fid-mnist"], "mnist5k", n=40)  # elsewhere the core's protocol still serves
    assert other["evaluation"] == "samples" and other["seed"] == 0 and DigitsProtocolPlugin.calls == ["digits"]


# -- records hold their protocol -------------------------------------------------------------------


def test_every_trained_models_metric_records_its_protocol() -> None:
    """Registry records carry what `zoo eval` needs to compute them again."""
    assert len(TRAINED) >= 8
    protocols = get_catalog().protocols
    for name in TRAINED:
        for record in zoo.info(name).metrics:
            assert record["evaluation"] in protocols, (name, record["name"])
            assert record["dataset"] and record["split"] and record["samples"] >= 1, (name, record["name"])
            assert ("seed" in record) == protocols[record["evaluation"]].seeded, (name, record["name"])


def test_a_record_holds_dataset_options_and_reproduces_from_itself(hub: None) -> None:
    model = zoo.load("dcgan.mnist")
    (record,) = evaluate(model, "fid-mnist", "mnist5k", dataset_options={"size": 32}, n=60, seed=3)
    assert {k: record[k] for k in ("dataset", "split", "dataset_options", "evaluation", "samples", "seed")} == {
        "dataset": "mnist5k", "split": "test", "dataset_options": {"size": 32}, "evaluation": "samples",
        "samples": 60, "seed": 3,
    }  # fmt: skip
    (again,) = reproduce_metrics(model, records=[record])
    assert again["recorded"] == record["value"] and again["value"] == pytest.approx(record["value"], rel=1e-9)
    (plain,) = evaluate(model, "fid-mnist", "mnist5k", n=60, seed=3)  # without size=32: another number
    assert plain["value"] != pytest.approx(record["value"], rel=1e-4)


# -- `zoo eval NAME` reproduces the card -----------------------------------------------------------


def test_zoo_eval_metric_without_dataset_uses_the_recorded_protocol(hub: None) -> None:
    """The issue's example: `zoo eval vae.mnist --metric elbo` failed without --dataset; now it reproduces."""
    (measured,) = _eval("vae.mnist", "--metric", "elbo")
    recorded = next(m for m in zoo.info("vae.mnist").metrics if m["name"] == "elbo")
    assert measured["recorded"] == recorded["value"]
    assert measured["value"] == pytest.approx(recorded["value"], rel=1e-4)
    assert measured["dataset"] == "mnist5k" and measured["samples"] == 500


def test_zoo_eval_with_no_options_reproduces_dcgan_mnist(hub: None) -> None:
    """dcgan.mnist: FID-MNIST of 500 samples (seed 0) against the 500 held-out digits."""
    (measured,) = _eval("dcgan.mnist")
    assert measured["name"] == "fid-mnist" and measured["samples"] == 500 and measured["seed"] == 0
    assert measured["value"] == pytest.approx(measured["recorded"], rel=1e-4)


@pytest.mark.slow
def test_zoo_eval_reproduces_vae_mnist_with_the_recorded_protocols(hub: None) -> None:
    """ELBO and FID-MNIST of vae.mnist, each with its recorded protocol. (IWAE NLL is left out for the suite's time:
    k = 5,000 posterior samples per image take about 150 s; `zoo eval vae.mnist` reproduced it by hand.)"""
    measured = _eval("vae.mnist", "--metric", "elbo", "--metric", "fid-mnist")
    assert [m["name"] for m in measured] == ["elbo", "fid-mnist"]
    for m in measured:
        assert m["value"] == pytest.approx(m["recorded"], rel=1e-4), m["name"]


@pytest.mark.slow
def test_zoo_eval_with_no_options_reproduces_cyclegan_through_its_plugins_protocols(hub: None) -> None:
    """Cycle-L1 both ways, FID-MNIST of translations and the digits they keep (about 20 s)."""
    measured = _eval("cyclegan.digits2mnist")
    assert [m["name"] for m in measured] == ["cycle-l1", "cycle-l1", "fid-mnist", "digit-preserved"]
    assert [m["evaluation"] for m in measured] == ["round-trip"] * 2 + ["digits-mnist-translations"] * 2
    for m in measured:
        assert m["value"] == pytest.approx(m["recorded"], rel=1e-4), m["name"]


def test_zoo_eval_refuses_what_it_cannot_reproduce(hub: None) -> None:
    result = CliRunner().invoke(cli, ["eval", "vae.mnist", "--metric", "bpd"])
    assert result.exit_code == 1 and "No value of 'bpd' is recorded" in result.output
    result = CliRunner().invoke(cli, ["eval", "dcgan.mnist-huggan"])
    assert result.exit_code == 1 and "records no metrics" in result.output
    result = CliRunner().invoke(cli, ["eval", "vae.mnist", "--split", "train"])
    assert result.exit_code == 2 and "--split needs --dataset" in result.output


def test_a_metrics_value_error_is_one_sentence(hub: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from zoo_core.metrics.features import FID

    def refuse(self):
        raise ValueError("the covariance needs at least 2 samples")

    monkeypatch.setattr(FID, "compute", refuse)
    result = CliRunner().invoke(cli, ["eval", "dcgan.mnist", "--metric", "fid-mnist", "--dataset", "mnist5k"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "The metric 'fid-mnist' could not be computed: the covariance needs at least 2 samples" in result.output


# -- the card ------------------------------------------------------------------------------------------


def test_the_card_writer_takes_a_paper_without_url_and_shows_each_protocol() -> None:
    entry = {
        "architecture": "wgangp",
        "plugin": "zoo-wgangp",
        "tasks": ["unconditional"],
        "config": {},
        "dataset": {"name": "mnist5k"},
        "metrics": [
            {
                "name": "fid-mnist",
                "value": 12.5,
                "dataset": "mnist5k",
                "split": "test",
                "dataset_options": {"size": 32},
                "evaluation": "samples",
                "samples": 500,
                "seed": 0,
            },
        ],
        "paper": {"title": "Improved Training of Wasserstein GANs"},
        "made_by": {},
    }
    card = render_card("wgangp.mnist", entry)
    assert "- Paper: Improved Training of Wasserstein GANs\n" in card
    assert "| fid-mnist | 12.5 |  | mnist5k test (size=32); samples, 500 samples, seed 0 |" in card
    header = card.split("---")[1]
    assert '"size": 32' in header or "size: 32" in header  # the model-index's dataset args
    assert render_card("bare.one", {"metrics": [], "paper": {}}).startswith("---")


def test_a_training_run_records_its_dataset_options_in_entry_and_card(tmp_path: Path) -> None:
    """The final evaluation of `zoo train` keeps the data set options it used (here size=16) (a few seconds)."""
    from zoo_core.training import train

    config = {"image_size": 16, "channels": 1, "nr_resnet": 1, "nr_filters": 8, "nr_logistic_mix": 2}
    result = train(
        "pixelcnnpp", "mnist5k", tmp_path / "run", config=config, dataset_options={"size": 16}, steps=2,
        batch_size=8, eval_samples=16, seed=0, verbose=False,
    )  # fmt: skip
    (record,) = json.loads((tmp_path / "run" / "zoo-entry.json").read_text())["entry"]["metrics"]
    assert record["dataset_options"] == {"size": 16} and record["samples"] == 16
    assert record["evaluation"] == "likelihood" and record["name"] == "bpd"
    assert "mnist5k test (size=16); likelihood, 16 samples" in (result.model_dir / "README.md").read_text()
    model = zoo.ZooModel.from_pretrained(result.model_dir)
    (again,) = reproduce_metrics(model, records=[record])
    assert again["value"] == pytest.approx(record["value"], rel=1e-4)
