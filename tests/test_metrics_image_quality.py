"""PSNR and SSIM against skimage.metrics on real photos (skimage's bundled astronaut and coffee)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from skimage import color, data, filters, transform
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from zoo_core import ZooError
from zoo_core.metrics import create_metric
from zoo_core.metrics.image_quality import PSNR, SSIM, psnr, rgb_to_y, ssim

SSIM_OPTIONS = {"gaussian_weights": True, "sigma": 1.5, "use_sample_covariance": False}


def _photos(size: int = 192) -> list[np.ndarray]:
    """Two real photos as float64 HWC in [0, 1], cropped to size x size."""
    return [np.asarray(p[:size, 100 : 100 + size], dtype=np.float64) / 255 for p in (data.astronaut(), data.coffee())]


def _degraded(photo: np.ndarray, kind: str) -> np.ndarray:
    rng = np.random.default_rng(0)
    if kind == "noise":
        return np.clip(photo + rng.normal(0, 0.05, photo.shape), 0, 1)
    if kind == "blur":
        return filters.gaussian(photo, sigma=1.5, channel_axis=-1)
    # "sr": x4 bicubic down and up, what an SR model starts from
    small = transform.rescale(photo, 0.25, order=3, channel_axis=-1, anti_aliasing=True)
    return np.clip(transform.resize(small, photo.shape, order=3), 0, 1)


def _nchw(*arrays: np.ndarray) -> torch.Tensor:
    return torch.stack([torch.from_numpy(a).permute(2, 0, 1) for a in arrays])


@pytest.mark.parametrize("kind", ["noise", "blur", "sr"])
def test_rgb_psnr_and_ssim_equal_skimage(kind) -> None:
    photos = _photos()
    degraded = [_degraded(p, kind) for p in photos]
    ours_psnr = psnr(_nchw(*degraded), _nchw(*photos))
    ours_ssim = ssim(_nchw(*degraded), _nchw(*photos))
    for i, (target, pred) in enumerate(zip(photos, degraded, strict=True)):
        reference_psnr = peak_signal_noise_ratio(target, pred, data_range=1.0)
        reference_ssim = structural_similarity(target, pred, channel_axis=2, data_range=1.0, **SSIM_OPTIONS)
        assert ours_psnr[i].item() == pytest.approx(reference_psnr, rel=1e-10)
        assert ours_ssim[i].item() == pytest.approx(reference_ssim, rel=1e-9)
        assert 0.2 < reference_ssim < 0.99  # a real degradation, not a trivial case


def test_rgb_to_y_is_matlab_rgb2ycbcr() -> None:
    photo = _photos()[0]
    reference = color.rgb2ycbcr(photo)[..., 0]  # MATLAB's formula, Y in [16, 235]
    ours = rgb_to_y(_nchw(photo))[0, 0].numpy()
    np.testing.assert_allclose(ours, reference, rtol=1e-12)
    assert rgb_to_y(torch.zeros(1, 3, 1, 1)).item() == pytest.approx(16.0)
    assert rgb_to_y(torch.ones(1, 3, 1, 1)).item() == pytest.approx(235.0)


@pytest.mark.parametrize("crop", [0, 4])
def test_y_channel_sr_protocol_equals_skimage_on_cropped_luma(crop) -> None:
    photos = _photos()
    degraded = [_degraded(p, "sr") for p in photos]
    expected_psnr, expected_ssim = [], []
    for target, pred in zip(photos, degraded, strict=True):
        y_t, y_p = color.rgb2ycbcr(target)[..., 0], color.rgb2ycbcr(pred)[..., 0]
        if crop:
            y_t, y_p = y_t[crop:-crop, crop:-crop], y_p[crop:-crop, crop:-crop]
        expected_psnr.append(peak_signal_noise_ratio(y_t, y_p, data_range=255))
        expected_ssim.append(structural_similarity(y_t, y_p, data_range=255, **SSIM_OPTIONS))
    got_psnr = psnr(_nchw(*degraded), _nchw(*photos), y_channel=True, crop_border=crop)
    got_ssim = ssim(_nchw(*degraded), _nchw(*photos), y_channel=True, crop_border=crop)
    np.testing.assert_allclose(got_psnr.numpy(), expected_psnr, rtol=1e-10)
    np.testing.assert_allclose(got_ssim.numpy(), expected_ssim, rtol=1e-9)

    # The registered metrics average the per-image values over every batch.
    m_psnr, m_ssim = create_metric("psnr-y", crop_border=crop), create_metric("ssim-y", crop_border=crop)
    for i in range(2):
        m_psnr.update(prediction=_nchw(degraded[i]).float(), target=_nchw(photos[i]).float())
        m_ssim.update(prediction=_nchw(degraded[i]).float(), target=_nchw(photos[i]).float())
    assert m_psnr.compute()["psnr-y"] == pytest.approx(np.mean(expected_psnr), rel=1e-5)  # float32 inputs
    assert m_ssim.compute()["ssim-y"] == pytest.approx(np.mean(expected_ssim), rel=1e-5)


def test_metric_classes_known_values_and_names() -> None:
    target = torch.zeros(2, 3, 16, 16, dtype=torch.float64)
    metric = PSNR()
    metric.update(prediction=target + 0.1, target=target)  # MSE 0.01 -> 20 dB
    assert metric.compute() == {"psnr": pytest.approx(20.0, rel=1e-12)}
    assert PSNR(data_range=255.0).name == "psnr" and PSNR(y_channel=True).name == "psnr-y"
    same = SSIM()
    x = torch.rand(1, 3, 20, 20)
    same.update(prediction=x, target=x)
    assert same.compute() == {"ssim": pytest.approx(1.0, abs=1e-12)}
    assert "border crop 4" in SSIM(y_channel=True, crop_border=4).protocol
    with pytest.raises(ZooError, match="same shape"):
        psnr(torch.zeros(1, 3, 8, 8), torch.zeros(1, 3, 8, 9))
    with pytest.raises(ZooError, match="leaves nothing"):
        ssim(torch.zeros(1, 3, 8, 8), torch.zeros(1, 3, 8, 8), crop_border=4)
