"""The built-in metrics, the FID Inception architecture and its converter, as `zoo metrics` lists them."""

from __future__ import annotations

import subprocess
import sys

import pytest

from zoo_core import ZooError
from zoo_core._catalog import get_catalog
from zoo_core._plugins import plugin_records
from zoo_core.metrics import Metric, create_metric

EXPECTED = {
    # name: (higher_is_better, unit, inputs)
    "fid": (False, "", ("fake", "real")),
    "kid": (False, "", ("fake", "real")),
    "is": (True, "", ("fake",)),
    "elbo": (True, "nats", ("model", "images")),
    "iwae-nll": (False, "nats", ("model", "images")),
    "bpd": (False, "bits/dim", ("model", "images")),
    "psnr": (True, "dB", ("prediction", "target")),
    "ssim": (True, "", ("prediction", "target")),
    "psnr-y": (True, "dB", ("prediction", "target")),
    "ssim-y": (True, "", ("prediction", "target")),
    "l1": (False, "", ("prediction", "target")),
    "cycle-l1": (False, "", ("image", "reconstruction")),
    "pixel-accuracy": (True, "fraction", ("prediction", "target")),
}
NEEDS_INCEPTION = {"fid", "kid", "is"}


def test_every_metric_is_registered_by_the_builtin_plugin_and_builds() -> None:
    catalog = get_catalog()
    builtin = {r.name: r for r in plugin_records()}["zoo_core.builtin.metrics"]
    assert builtin.builtin and builtin.status == "loaded"
    assert {"register_metrics", "register_converters", "register_architectures"} <= set(builtin.hooks)
    for name, (higher, unit, inputs) in EXPECTED.items():
        info = catalog.metric(name)
        assert info.plugin == "zoo_core.builtin.metrics"
        assert (info.higher_is_better, info.unit) == (higher, unit), name
        assert info.tasks and info.description
        if name in NEEDS_INCEPTION:
            continue
        metric = create_metric(name)
        assert isinstance(metric, Metric)
        assert (metric.higher_is_better, metric.unit, tuple(metric.inputs)) == (higher, unit, inputs), name
        assert metric.name == name


def test_inception_metrics_without_weights_say_how_to_get_them(monkeypatch) -> None:
    monkeypatch.delenv("ZOO_FID_INCEPTION", raising=False)
    for name in NEEDS_INCEPTION:
        with pytest.raises(ZooError, match="zoo convert fid-inception"):
            create_metric(name)


def test_the_converter_and_its_architecture_are_registered() -> None:
    from zoo_core._factory import model_class
    from zoo_core.metrics.inception import FIDInceptionV3, convert_pytorch_fid
    from zoo_core.specs import resolve_target

    converter = get_catalog().converters["fid-inception"]
    assert converter.architecture == "fid-inception"
    assert resolve_target(converter.convert) is convert_pytorch_fid
    assert "pt_inception-2015-12-05-6726825d.pth" in converter.source
    assert model_class("fid-inception") is FIDInceptionV3


def test_registering_the_metrics_imports_no_torch() -> None:
    code = (
        "import sys; from zoo_core._catalog import get_catalog; c = get_catalog(); "
        "assert 'psnr-y' in c.metrics and 'fid-inception' in c.converters; "
        "assert 'torch' not in sys.modules, 'torch imported'"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_metric_options_are_checked_and_passed() -> None:
    assert create_metric("psnr-y", crop_border=2).crop_border == 2
    assert create_metric("cycle-l1", direction="BtoA").direction == "BtoA"
    wrong = r"^The metric 'psnr-y' has no option 'crop'; it takes crop_border, data_range\.$"
    with pytest.raises(ZooError, match=wrong):
        create_metric("psnr-y", crop=2)
    with pytest.raises(ZooError, match=r"^The cycle-l1 direction is AtoB or BtoA, not 'up'\.$"):
        create_metric("cycle-l1", direction="up")


def test_zoo_evaluate_stays_the_function_once_its_module_is_imported() -> None:
    """The module is `zoo_core.evaluation`: a module named `evaluate` would replace the function on import."""
    import zoo_core as zoo
    import zoo_core.evaluation

    assert zoo.evaluate is zoo_core.evaluation.evaluate
