"""The FID Inception-v3 against pytorch-fid's and torch-fidelity's, on a random-init checkpoint (no download)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from zoo_core import ZooError
from zoo_core.metrics.features import FID, extract_features
from zoo_core.metrics.inception import (
    ENV_VAR,
    FIDInceptionConfig,
    FIDInceptionV3,
    convert_pytorch_fid,
    load_fid_inception,
)

pytestmark = pytest.mark.usefixtures("one_blas_thread")


def _photo_crops(n: int, size: int, seed: int) -> torch.Tensor:
    """Real photo crops (skimage's bundled photos), floats in [0, 1]."""
    from skimage import data

    photos = [torch.from_numpy(p).permute(2, 0, 1).float() / 255 for p in (data.astronaut(), data.coffee())]
    g = torch.Generator().manual_seed(seed)
    out = []
    for i in range(n):
        p = photos[i % 2]
        y = int(torch.randint(0, p.shape[1] - size, (1,), generator=g))
        x = int(torch.randint(0, p.shape[2] - size, (1,), generator=g))
        out.append(p[:, y : y + size, x : x + size])
    return torch.stack(out)


@pytest.fixture(scope="module")
def checkpoint() -> dict[str, torch.Tensor]:
    """A stand-in for pt_inception-2015-12-05-6726825d.pth: torchvision's Inception3 (1008 classes, no aux head)
    with pytorch-fid's FID blocks, random init, BatchNorm statistics calibrated on real photos, saved like an
    old checkpoint (no num_batches_tracked)."""
    import torchvision
    from pytorch_fid import inception as pfid

    torch.manual_seed(0)
    net = torchvision.models.inception_v3(weights=None, aux_logits=False, num_classes=1008, init_weights=False)
    net.Mixed_5b, net.Mixed_5c, net.Mixed_5d = (
        pfid.FIDInceptionA(192, 32),
        pfid.FIDInceptionA(256, 64),
        pfid.FIDInceptionA(288, 64),
    )
    net.Mixed_6b, net.Mixed_6c = pfid.FIDInceptionC(768, 128), pfid.FIDInceptionC(768, 160)
    net.Mixed_6d, net.Mixed_6e = pfid.FIDInceptionC(768, 160), pfid.FIDInceptionC(768, 192)
    net.Mixed_7b, net.Mixed_7c = pfid.FIDInceptionE_1(1280), pfid.FIDInceptionE_2(2048)
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.momentum = None  # cumulative average over the calibration batch
            torch.nn.init.normal_(m.weight, 1.0, 0.1)
            torch.nn.init.normal_(m.bias, 0.0, 0.1)
    net.train()
    with torch.no_grad():
        net(F.interpolate(_photo_crops(6, 96, seed=1), size=(299, 299), mode="bilinear") * 2 - 1)
    return {k: v.clone() for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked")}


@pytest.fixture(scope="module")
def pytorch_fid_model(checkpoint):
    """pytorch-fid's own InceptionV3(use_fid_inception=True), loading the stand-in checkpoint instead of downloading."""
    from pytorch_fid import inception as pfid

    def build(blocks):
        original = pfid.load_state_dict_from_url
        pfid.load_state_dict_from_url = lambda *args, **kwargs: dict(checkpoint)
        try:
            return pfid.InceptionV3(blocks, use_fid_inception=True).eval()
        finally:
            pfid.load_state_dict_from_url = original

    return build


@pytest.fixture(scope="module")
def ours(checkpoint) -> FIDInceptionV3:
    return FIDInceptionV3.from_weights(FIDInceptionConfig(), convert_pytorch_fid(checkpoint)).eval()


def test_same_keys_as_the_pytorch_fid_checkpoint_and_strict_load(checkpoint, ours) -> None:
    converted = convert_pytorch_fid(checkpoint)
    assert set(converted) == set(ours.state_dict())
    assert {k for k in converted if not k.endswith("num_batches_tracked")} == set(checkpoint)
    for key, value in checkpoint.items():
        assert torch.equal(ours.state_dict()[key], value), key
    assert ours.num_parameters() == 23_850_960  # Inception-v3 with a 1008-class fc, no aux head


def test_pool3_features_equal_pytorch_fid(pytorch_fid_model, ours) -> None:
    images = _photo_crops(3, 80, seed=2)
    with torch.inference_mode():
        reference = pytorch_fid_model([3])(images)[0].flatten(1)
        mine = ours.features(images)
    assert mine.shape == (3, 2048)
    assert reference.std() > 0.05  # a calibrated network, not a dead one
    torch.testing.assert_close(mine, reference, rtol=1e-5, atol=1e-6)


@pytest.mark.slow
def test_fid_metric_equals_calculate_frechet_distance_on_pytorch_fid_activations(pytorch_fid_model, checkpoint) -> None:
    from pytorch_fid.fid_score import calculate_frechet_distance

    real, fake = _photo_crops(66, 40, seed=3), _photo_crops(66, 40, seed=4).flip(-1) ** 1.5  # n > d = 64
    model = pytorch_fid_model([0])  # the 64-d first block, as pytorch-fid's --dims 64

    def activations(images):
        with torch.inference_mode():
            pred = torch.cat([model(batch)[0] for batch in images.split(33)])
        return F.adaptive_avg_pool2d(pred, (1, 1)).squeeze(3).squeeze(2).numpy().astype(np.float64)

    a_real, a_fake = activations(real), activations(fake)
    reference = calculate_frechet_distance(
        a_fake.mean(0), np.cov(a_fake, rowvar=False), a_real.mean(0), np.cov(a_real, rowvar=False)
    )
    extractor = FIDInceptionV3.from_weights(FIDInceptionConfig(dims=64), convert_pytorch_fid(checkpoint)).eval()
    metric = FID(extractor, batch_size=25)
    for batch in real.split(40):
        metric.update(real=batch)
    metric.update(fake=fake)
    value = metric.compute()["fid"]
    assert metric.protocol == "legacy_pytorch, 64-d features"
    assert reference > 0.01
    assert value == pytest.approx(reference, rel=1e-4)


def test_torch_fidelity_checkpoint_converts_and_gives_its_features_and_unbiased_logits(checkpoint, tmp_path) -> None:
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    path = tmp_path / "weights-inception-2015-12-05-6726825d.pth"
    torch.save(checkpoint, path)
    fidelity = FeatureExtractorInceptionV3("inception-v3-compat", ["2048", "logits_unbiased", "logits"], str(path))
    converted = convert_pytorch_fid(fidelity.state_dict())
    ours = FIDInceptionV3.from_weights(FIDInceptionConfig(), converted).eval()
    u8 = (_photo_crops(1, 299, seed=5) * 255).round().to(torch.uint8)
    with torch.inference_mode():
        pool3, unbiased, biased = fidelity(u8)
        # torch-fidelity maps uint8 u to (u - 128) / 128; legacy_pytorch maps x to 2x - 1: x = u / 256 (exact).
        x = u8.float() / 256
        torch.testing.assert_close(ours.features(x), pool3, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(ours.logits(x), unbiased, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(ours.classify(x), biased, rtol=1e-5, atol=1e-5)


@pytest.mark.slow
def test_convert_command_writes_a_folder_that_load_fid_inception_reads(checkpoint, ours, tmp_path, monkeypatch) -> None:
    from zoo_core._factory import convert_checkpoint

    source = tmp_path / "pt_inception-2015-12-05-6726825d.pth"
    torch.save(checkpoint, source)
    folder = convert_checkpoint("fid-inception", source, tmp_path / "fid-inception")
    assert {p.name for p in Path(folder).iterdir()} >= {"config.json", "model.safetensors", "README.md"}
    monkeypatch.setenv(ENV_VAR, str(folder))
    loaded = load_fid_inception()
    assert loaded is load_fid_inception(folder)  # one shared network for FID, KID and IS
    assert loaded.state_dict().keys() == ours.state_dict().keys()
    for key, value in ours.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key
    assert loaded.protocol == "legacy_pytorch" and not loaded.training


def test_without_weights_the_error_names_the_conversion_command(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    with pytest.raises(ZooError, match=r"zoo convert fid-inception pt_inception-2015-12-05-6726825d\.pth -o DIR"):
        load_fid_inception()
    with pytest.raises(ZooError, match="ZOO_FID_INCEPTION"):
        FID()  # the registered `fid` builds the default extractor
    with pytest.raises(ZooError, match="No FID Inception weights at"):
        load_fid_inception(tmp_path / "missing.safetensors")


def test_the_wrapper_state_dict_of_pytorch_fid_is_refused_with_a_reason(pytorch_fid_model) -> None:
    wrapper_state = pytorch_fid_model([3]).state_dict()
    with pytest.raises(ZooError, match="dropped the classifier"):
        convert_pytorch_fid(wrapper_state)


def test_grey_images_are_repeated_to_rgb_and_batching_does_not_change_features(checkpoint) -> None:
    first_block = FIDInceptionV3.from_weights(FIDInceptionConfig(dims=64), convert_pytorch_fid(checkpoint)).eval()
    grey = (_photo_crops(3, 40, seed=7).mean(1, keepdim=True) * 255).round() / 255
    batched = extract_features(first_block, (grey * 255).round().to(torch.uint8), batch_size=2)  # uint8 in
    with torch.inference_mode():
        rgb = first_block.features(grey.expand(-1, 3, -1, -1))
    assert batched.shape == (3, 64)
    torch.testing.assert_close(batched, rgb, rtol=1e-5, atol=1e-6)
