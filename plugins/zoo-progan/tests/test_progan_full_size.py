"""The converters at the full CelebA-HQ 1024x1024 size (random weights, the real file formats): slow tests.

The genforce file is compared with genforce's forward at 1024x1024; the official pickle (its Gs at full size)
with the numpy G_paper at lod 4 (64x64: every layer is loaded strictly, the image is computed to 64x64 so that
the numpy reference stays fast).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from progan_reference import g_paper, genforce_forward, genforce_state, official_pickle_bytes, random_tf_variables
from zoo_progan.convert import convert_official
from zoo_progan.model import ProGAN
from zoo_progan.plugin import CELEBAHQ_CONFIG
from zoo_progan.tfpickle import read_official_pickle
from zoo_progan.upstream import CELEBAHQ_GENERATOR_PARAMS

import zoo_core as zoo

pytestmark = pytest.mark.slow

#: G_paper's arguments of the official CelebA-HQ networks
CELEBAHQ_KWARGS = {"resolution": 1024, "num_channels": 3, "fmap_base": 8192, "fmap_max": 512, "fused_scale": False}


def test_the_hub_file_at_full_size(tmp_path: Path) -> None:
    state = genforce_state(0, resolution=1024, latent=512, fmaps_base=16 << 10, fmaps_max=512)
    assert sum(v.numel() for k, v in state.items() if k != "lod") == CELEBAHQ_GENERATOR_PARAMS
    path = tmp_path / "pytorch_model.bin"
    torch.save(state, path)
    del state
    model = zoo.load(str(zoo.convert_checkpoint("progan-genforce", path, tmp_path / "converted")))
    z = torch.randn(1, 512, generator=torch.Generator().manual_seed(0))
    reference = torch.load(path, weights_only=True)
    with torch.no_grad():
        torch.testing.assert_close(model.generator(z), genforce_forward(reference, z), rtol=1e-3, atol=1e-4)


def test_the_official_pickle_at_full_size(tmp_path: Path) -> None:
    kw = {**CELEBAHQ_KWARGS, "mbstd_group_size": 16}
    gs, _ = random_tf_variables(kw, seed=0)
    assert sum(v.size for v in gs.values()) == CELEBAHQ_GENERATOR_PARAMS
    path = tmp_path / "karras2018iclr-celebahq-1024x1024.pkl"
    path.write_bytes(official_pickle_bytes({}, {}, kw, gs=gs))  # G and D left empty: only Gs is converted
    config = dict(CELEBAHQ_CONFIG)
    model = ProGAN.from_weights(config, convert_official(read_official_pickle(path), config)).eval()
    z = np.random.default_rng(1).standard_normal((1, 512)).astype(np.float32)
    with torch.no_grad():
        ours = torch.nn.functional.avg_pool2d(model.generator(torch.from_numpy(z), 4.0), 16).double().numpy()
    expected = g_paper(_upto(gs, 6, 10), z, {**kw, "resolution": 64})  # the 64x64 network: lod 4 of 1024
    np.testing.assert_allclose(ours, expected, rtol=1e-3, atol=1e-3 * np.abs(expected).max())


def _upto(variables: dict[str, np.ndarray], log2: int, full_log2: int) -> dict[str, np.ndarray]:
    """The variables of the 2^log2 network inside the 2^full_log2 one (ToRGB_lod renumbered)."""
    out = {}
    for name, value in variables.items():
        if name.startswith("ToRGB_lod"):
            lod = int(name.split("/")[0].removeprefix("ToRGB_lod")) - (full_log2 - log2)
            if lod >= 0:
                out[f"ToRGB_lod{lod}/{name.split('/')[1]}"] = value
        elif int(name.split("x")[0]) <= 2**log2:
            out[name] = value
    return out
