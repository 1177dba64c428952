"""The converters of zoo-progan on checkpoints in the real file formats, with random weights, on small slices.

- The official pickle: written by ``pickle`` from a class named ``tfutil.Network`` with tfutil's state layout,
  read by the restricted unpickler, converted, and compared image for image (and score for score) with
  ``progan_reference``'s numpy G_paper / D_paper run on the TF variables themselves.
- genforce's layout: a state dict saved by ``torch.save``, converted by ``zoo convert``'s code path and
  compared with genforce's forward written out independently.
- Malicious pickles: refused in one sentence, and the code they carry never runs (a marker file stays absent).
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from progan_reference import (
    d_paper,
    g_paper,
    genforce_forward,
    genforce_state,
    official_pickle_bytes,
    random_tf_variables,
)
from zoo_progan.convert import convert_genforce, convert_official
from zoo_progan.model import ProGAN
from zoo_progan.plugin import CELEBAHQ_CONFIG
from zoo_progan.tfpickle import read_official_pickle
from zoo_progan.upstream import upstream_entries

import zoo_core as zoo
from zoo_core.cli import cli

#: a small slice of the CelebA-HQ networks: 3 channels, 16x16, narrow, with either up/down-sampling style
SLICE = {"resolution": 16, "num_channels": 3, "fmap_base": 128, "fmap_max": 32, "mbstd_group_size": 4}


def slice_config(fused: bool, with_discriminator: bool = True) -> dict[str, object]:
    return {
        **CELEBAHQ_CONFIG,
        "resolution": 16,
        "channels": 3,
        "fmap_base": 128,
        "fmap_max": 32,
        "fused_scale": fused,
        "mbstd_group_size": 4,
        "with_discriminator": with_discriminator,
    }


def write_official(tmp_path: Path, fused: bool, **kwargs: object) -> tuple[Path, dict, dict]:
    kw = {**SLICE, "fused_scale": fused}
    g, d = random_tf_variables(kw, seed=1 if fused else 2)
    path = tmp_path / "karras2018iclr-slice.pkl"
    path.write_bytes(official_pickle_bytes(g, d, kw, **kwargs))
    return path, g, d


# -- the official pickle -------------------------------------------------------------------------------


@pytest.mark.parametrize("fused", [False, True], ids=["separate-scale (CelebA-HQ)", "fused-scale"])
def test_the_official_pickle_converts_to_the_same_images_and_scores(tmp_path: Path, fused: bool) -> None:
    path, g, d = write_official(tmp_path, fused)
    nets = read_official_pickle(path)
    assert set(nets) == {"G", "D", "Gs"} and nets["Gs"]["build_func_name"] == "G_paper"
    assert nets["Gs"]["variables"]["lod"].dtype == np.float32  # a numpy scalar, rebuilt
    config = slice_config(fused)
    model = ProGAN.from_weights(config, convert_official(nets, config)).eval()
    kw = {**SLICE, "fused_scale": fused}
    z = np.random.default_rng(3).standard_normal((4, 32)).astype(np.float32)
    for lod in (0.0, 0.3, 1.0, 1.75):
        expected = g_paper(g, z, kw, lod)
        with torch.no_grad():
            ours = model.generator(torch.from_numpy(z), lod).double().numpy()
        assert ours.shape == expected.shape == (4, 3, 16, 16)
        np.testing.assert_allclose(ours, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())
        with torch.no_grad():
            scores = model.discriminator(torch.from_numpy(expected).float(), lod).double().numpy()
        np.testing.assert_allclose(scores, d_paper(d, expected, kw, lod), rtol=1e-4, atol=1e-4)
    # sample(): the same latent draws through the reference, mapped from [-1, 1] to [0, 1]
    images = model.sample(2, seed=5)
    latents = torch.randn(2, 32, generator=torch.Generator().manual_seed(5)).numpy()
    reference = np.clip((g_paper(g, latents, kw) + 1) / 2, 0, 1)
    np.testing.assert_allclose(images.double().numpy(), reference, atol=1e-4)


def test_the_whole_training_state_converts_with_ema(tmp_path: Path) -> None:
    """with_ema + with_discriminator: G is the generator, Gs its moving average, D the critic."""
    kw = {**SLICE, "fused_scale": False}
    g, d = random_tf_variables(kw, seed=4)
    gs, _ = random_tf_variables(kw, seed=5)
    path = tmp_path / "karras2018iclr-slice.pkl"
    path.write_bytes(official_pickle_bytes(g, d, kw, gs=gs))
    config = {**slice_config(False), "with_ema": True}
    model = ProGAN.from_weights(config, convert_official(read_official_pickle(path), config)).eval()
    z = np.random.default_rng(3).standard_normal((4, 32)).astype(np.float32)
    with torch.no_grad():
        live, smooth = (net(torch.from_numpy(z)).double().numpy() for net in (model.generator, model.generator_ema))
    np.testing.assert_allclose(live, g_paper(g, z, kw), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(smooth, g_paper(gs, z, kw), rtol=1e-4, atol=1e-4)
    assert model.sampler is model.generator_ema


def test_the_protocol_2_pickle_reads_too(tmp_path: Path) -> None:
    """Protocol 2 writes bytes as _codecs.encode(text, 'latin1'): that one call is allowed, and nothing else."""
    path, g, _ = write_official(tmp_path, False, protocol=2)
    nets = read_official_pickle(path)
    assert np.array_equal(nets["Gs"]["variables"]["4x4/Dense/weight"], g["4x4/Dense/weight"])


def test_the_code_stored_in_the_pickle_never_runs(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    source = f"open({str(marker)!r}, 'w').write('x')\ndef G_paper(*a, **k): pass\n"
    path, _, _ = write_official(tmp_path, False, module_src=source)
    nets = read_official_pickle(path)
    config = slice_config(False, with_discriminator=False)
    ProGAN.from_weights(config, convert_official(nets, config))
    assert nets["Gs"]["build_module_src"] == source and not marker.exists()


def test_the_pickle_must_match_the_config(tmp_path: Path) -> None:
    path, _, _ = write_official(tmp_path, False)
    nets = read_official_pickle(path)
    with pytest.raises(zoo.ZooError, match=r"built with fused_scale=False .* --config fused_scale=false\.$"):
        convert_official(nets, slice_config(True))
    with pytest.raises(zoo.ZooError, match=r"built with resolution=16 .* --config resolution=16\.$"):
        convert_official(nets, {**slice_config(False), "resolution": 32})
    with pytest.raises(zoo.ZooError, match="convert a karras2018iclr"):
        convert_official({"G": {}}, slice_config(False))


class Evil:
    """A pickle payload: unpickling it calls ``function(argument)``."""

    def __init__(self, function: object, argument: str) -> None:
        self.function, self.argument = function, argument

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return self.function, (self.argument,)


@pytest.mark.parametrize(
    ("payload", "refused"),
    [
        (lambda marker: Evil(os.system, f"touch {marker}"), r"(posix|os)\.system"),
        (lambda marker: Evil(eval, f"open({str(marker)!r}, 'w').write('x')"), r"builtins\.eval"),
        (lambda marker: Evil(exec, f"open({str(marker)!r}, 'w').write('x')"), r"builtins\.exec"),
    ],
    ids=["os.system", "builtins.eval", "builtins.exec"],
)
def test_a_malicious_pickle_is_refused_and_runs_nothing(tmp_path: Path, payload, refused: str) -> None:
    marker = tmp_path / "pwned"
    # alone, and hidden inside an official-looking network's state
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps((payload(marker),)))
    hidden, _, _ = write_official(tmp_path, False, extra=payload(marker))
    for file in (path, hidden):
        with pytest.raises(zoo.ZooError, match=rf"was refused: unpickling it would import and call {refused},") as info:
            read_official_pickle(file)
        assert str(info.value).count(". ") == 0 and str(info.value).endswith(".")  # one sentence
    assert not marker.exists()


def test_other_files_are_refused_in_one_sentence(tmp_path: Path) -> None:
    text = tmp_path / "page.pkl"
    text.write_text("<html>quota exceeded</html>")
    with pytest.raises(zoo.ZooError, match="is not a readable pickle of the official ProGAN networks"):
        read_official_pickle(text)
    other = tmp_path / "other.pkl"
    other.write_bytes(pickle.dumps({"weights": np.zeros(3)}))
    with pytest.raises(zoo.ZooError, match=r"does not hold the \(G, D, Gs\) networks"):
        read_official_pickle(other)
    with pytest.raises(zoo.ZooError, match="cannot be read"):
        read_official_pickle(tmp_path / "missing.pkl")


def test_zoo_convert_progan_karras(tmp_path: Path) -> None:
    path, g, _ = write_official(tmp_path, False)
    config = slice_config(False, with_discriminator=False)
    folder = zoo.convert_checkpoint("progan-karras", path, tmp_path / "out", config=config)
    model = zoo.load(str(folder))
    z = np.random.default_rng(0).standard_normal((2, 32)).astype(np.float32)
    with torch.no_grad():
        ours = model.generator(torch.from_numpy(z)).double().numpy()
    np.testing.assert_allclose(ours, g_paper(g, z, {**SLICE, "fused_scale": False}), rtol=1e-4, atol=1e-4)


# -- genforce's layout (the Hub's huggan/pggan-celebahq-1024) ---------------------------------------------


GENFORCE_SLICE = {**CELEBAHQ_CONFIG, "resolution": 16, "fmap_base": 128, "fmap_max": 32}


def test_zoo_convert_progan_genforce_gives_genforces_images(tmp_path: Path) -> None:
    state = genforce_state(0)
    path = tmp_path / "pytorch_model.bin"
    torch.save(state, path)
    folder = zoo.convert_checkpoint("progan-genforce", path, tmp_path / "converted", config=GENFORCE_SLICE)
    model = zoo.load(str(folder))
    assert isinstance(model, ProGAN) and model.discriminator is None
    z = torch.randn(3, 32, generator=torch.Generator().manual_seed(1))
    for lod in (0.0, 0.25, 1.0, 1.5):
        with torch.no_grad():
            ours, theirs = model.generator(z, lod), genforce_forward(state, z, lod)
        torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=1e-5)


def test_genforces_checkpoint_gives_its_smoothed_generator(tmp_path: Path) -> None:
    checkpoint = {"generator": genforce_state(0), "generator_smooth": genforce_state(1), "discriminator": {}}
    state = convert_genforce(checkpoint, {**GENFORCE_SLICE, "with_discriminator": False})
    assert torch.equal(state["generator.layer0.weight"], checkpoint["generator_smooth"]["layer0.weight"])
    with pytest.raises(zoo.ZooError, match="with_discriminator=false"):
        convert_genforce(genforce_state(0), {**GENFORCE_SLICE, "with_discriminator": True})
    both = convert_genforce(checkpoint, {**GENFORCE_SLICE, "with_ema": True})
    assert torch.equal(both["generator.layer0.weight"], checkpoint["generator"]["layer0.weight"])
    assert torch.equal(both["generator_ema.layer0.weight"], checkpoint["generator_smooth"]["layer0.weight"])
    with pytest.raises(zoo.ZooError, match="with_ema=false"):
        convert_genforce(genforce_state(0), {**GENFORCE_SLICE, "with_ema": True})


def test_a_malicious_torch_file_is_refused_and_runs_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "pytorch_model.bin"
    torch.save({"layer0.weight": Evil(os.system, f"touch {marker}")}, path)
    with pytest.raises(zoo.ZooError, match=r"was refused: unpickling it would run code"):
        zoo.convert_checkpoint("progan-genforce", path, tmp_path / "out", config=GENFORCE_SLICE)
    assert not marker.exists()


def test_a_file_of_another_layout_is_one_sentence(tmp_path: Path) -> None:
    path = tmp_path / "pytorch_model.bin"
    torch.save({"main.0.weight": torch.zeros(3)}, path)
    with pytest.raises(zoo.ZooError) as info:
        zoo.convert_checkpoint("progan-genforce", path, tmp_path / "out", config=GENFORCE_SLICE)
    assert "\n" not in str(info.value)


# -- the catalog entries, end to end -------------------------------------------------------------------------


def use_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, entry: dict) -> None:
    """A catalog of one entry (the upstream entry with a small config), as ZOO_REGISTRY."""
    from zoo_core._catalog import reset_catalog

    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps({"version": 1, "models": {name: entry}}))
    monkeypatch.setenv("ZOO_REGISTRY", str(catalog))
    reset_catalog()


def test_the_hub_entry_converts_genforces_file_and_pins_its_hash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """progan.celebahq-1024 (its config made small): the file from ZOO_HUB_DIR is read with weights_only, converted
    once, pinned by sha256 on first use; a different file under the same name is then refused."""
    entry = {k: v for k, v in upstream_entries()["progan.celebahq-1024"].items() if k != "num_params"}
    use_entry(tmp_path, monkeypatch, "progan.slice", {**entry, "config": GENFORCE_SLICE})
    hub = tmp_path / "hub"
    file = hub / "huggan" / "pggan-celebahq-1024" / "pytorch_model.bin"
    file.parent.mkdir(parents=True)
    state = genforce_state(0)
    torch.save(state, file)
    monkeypatch.setenv("ZOO_HUB_DIR", str(hub))
    model = zoo.load("progan.slice")
    z = torch.randn(2, 32, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        torch.testing.assert_close(model.generator(z), genforce_forward(state, z), rtol=1e-4, atol=1e-5)
    from zoo_core.hub.cache import zoo_cache_dir

    pins = json.loads((zoo_cache_dir() / "pins.json").read_text())
    assert hashlib.sha256(file.read_bytes()).hexdigest() in pins.values()
    torch.save(genforce_state(1), file)
    with pytest.raises(zoo.ZooError, match="sha256"):
        zoo.load("progan.slice")


def test_the_official_entry_loads_the_file_saved_where_zoo_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = {k: v for k, v in upstream_entries()["progan.celebahq-1024-official"].items() if k != "num_params"}
    use_entry(tmp_path, monkeypatch, "progan.slice-official", {**entry, "config": slice_config(False, False)})
    result = CliRunner().invoke(cli, ["load", "progan.slice-official"])
    assert result.exit_code == 1 and "cannot be downloaded automatically" in result.output
    target = Path(result.output.split(" and save it as ")[1].split(", then run")[0])
    path, g, _ = write_official(tmp_path, False)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(path.read_bytes())
    model = zoo.load("progan.slice-official")
    z = np.random.default_rng(0).standard_normal((2, 32)).astype(np.float32)
    with torch.no_grad():
        ours = model.generator(torch.from_numpy(z)).double().numpy()
    np.testing.assert_allclose(ours, g_paper(g, z, {**SLICE, "fused_scale": False}), rtol=1e-4, atol=1e-4)
