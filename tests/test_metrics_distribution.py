"""Fréchet distance, KID and Inception Score against pytorch-fid, torch-fidelity and torchmetrics.

The features are "real-looking": a random two-layer conv net (ReLU, average-pooled) over crops of
real photos, which gives non-negative, correlated features with a decaying spectrum like Inception's.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from zoo_core import ZooError
from zoo_core.metrics.features import FID, KID, FeatureExtractor, InceptionScore, extract_features
from zoo_core.metrics.frechet import RunningStatistics, feature_statistics, frechet_distance
from zoo_core.metrics.inception_score import inception_score
from zoo_core.metrics.kid import kernel_inception_distance

pytestmark = pytest.mark.usefixtures("one_blas_thread")


def _photo_crops(n: int, size: int, seed: int, noise: float = 0.0) -> torch.Tensor:
    from skimage import data

    photos = [
        torch.from_numpy(p).permute(2, 0, 1).float() / 255
        for p in (data.astronaut(), data.coffee(), data.chelsea(), data.rocket(), data.immunohistochemistry())
    ]
    g = torch.Generator().manual_seed(seed)
    out = []
    for i in range(n):
        p = photos[i % len(photos)]
        y = int(torch.randint(0, p.shape[1] - size, (1,), generator=g))
        x = int(torch.randint(0, p.shape[2] - size, (1,), generator=g))
        out.append(p[:, y : y + size, x : x + size])
    images = torch.stack(out)
    return (images + noise * torch.randn(images.shape, generator=g)).clamp(0, 1) if noise else images


class ConvFeatures(nn.Module):
    """A random conv net: conv3x3 (64) ReLU, conv3x3 stride 2 ReLU, 4x4 average pool; d = 16 x channels."""

    protocol = "random-conv-test"

    def __init__(self, d: int, classes: int = 0, seed: int = 1) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.net = nn.Sequential(
            nn.Conv2d(3, 64, 3), nn.ReLU(), nn.Conv2d(64, d // 16, 3, stride=2), nn.ReLU(), nn.AdaptiveAvgPool2d(4)
        )
        self.head = nn.Linear(d, classes) if classes else None
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=g) * (2 / max(p[0].numel(), 1)) ** 0.5)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).flatten(1)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x)) * 10

    def calibrate(self, images: torch.Tensor) -> ConvFeatures:
        """Centre the logits on these images, so that the classes are used about equally."""
        with torch.no_grad():
            self.head.bias -= self.head(self.features(images)).mean(0)
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """What torchmetrics calls: uint8 images (normalize=False) to logits, as ``logits`` sees them."""
        return self.logits(x.float().div_(255.0))


@pytest.fixture(scope="module")
def real_fake() -> tuple[torch.Tensor, torch.Tensor]:
    real = _photo_crops(5000, 16, seed=0)
    return real, _photo_crops(5000, 16, seed=1, noise=0.1) ** 1.3  # a gamma shift and noise


@pytest.fixture(scope="module")
def features(real_fake):
    cache = {}

    def get(d: int) -> tuple[np.ndarray, np.ndarray]:
        if d not in cache:
            net = ConvFeatures(d)
            cache[d] = tuple(extract_features(net, x, batch_size=1000).double().numpy() for x in real_fake)
        return cache[d]

    return get


def _stats(f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return f.mean(0), np.cov(f, rowvar=False)


# -- Fréchet distance ------------------------------------------------------------------------
def test_feature_statistics_equal_numpy_and_stream_in_batches(features) -> None:
    f, _ = features(64)
    mu, sigma = feature_statistics(torch.from_numpy(f))
    assert mu.dtype == sigma.dtype == torch.float64
    np.testing.assert_allclose(mu.numpy(), f.mean(0), rtol=1e-12)
    np.testing.assert_allclose(sigma.numpy(), np.cov(f, rowvar=False), rtol=1e-10, atol=1e-14)
    running = RunningStatistics()
    for chunk in torch.from_numpy(f).float().split(777):  # float32 batches, uneven sizes
        running.update(chunk)
    mu2, sigma2 = running.compute()
    f32 = f.astype(np.float32).astype(np.float64)
    np.testing.assert_allclose(sigma2.numpy(), np.cov(f32, rowvar=False), rtol=1e-9, atol=1e-13)
    np.testing.assert_allclose(mu2.numpy(), f32.mean(0), rtol=1e-12)


def test_frechet_distance_known_value() -> None:
    # N(0, 4I) vs N(1, I) in 3-d: |mu|^2 = 3, tr = 12 + 3, tr sqrt(4I) = 6 -> 3 + 15 - 12 = 6
    assert frechet_distance(np.zeros(3), 4 * np.eye(3), np.ones(3), np.eye(3)) == pytest.approx(6.0, abs=1e-12)
    assert frechet_distance(torch.zeros(3), torch.eye(3), torch.zeros(3), torch.eye(3)) == pytest.approx(0, abs=1e-12)


@pytest.mark.parametrize("n", [5000, 40], ids=["full-rank", "rank-deficient"])
def test_frechet_distance_equals_pytorch_fid_d64(features, n) -> None:
    from pytorch_fid.fid_score import calculate_frechet_distance

    f1, f2 = (f[:n] for f in features(64))
    reference = calculate_frechet_distance(*_stats(f1), *_stats(f2))
    assert frechet_distance(*_stats(f1), *_stats(f2)) == pytest.approx(reference, rel=1e-6 if n > 64 else 1e-4)


def test_frechet_distance_rank_deficient_d512_is_exact_and_agrees_with_pytorch_fid(features) -> None:
    """n = 300 < d = 512: both covariances are singular; scipy's sqrtm warns, we add nothing to the diagonals."""
    from pytorch_fid.fid_score import calculate_frechet_distance

    f1, f2 = (f[:300] for f in features(512))
    assert np.linalg.matrix_rank(np.cov(f1, rowvar=False)) < 512
    with pytest.warns(Warning):
        reference = calculate_frechet_distance(*_stats(f1), *_stats(f2))
    mine = frechet_distance(*_stats(f1), *_stats(f2))
    assert mine == pytest.approx(reference, rel=1e-4)
    # The exact value from the features: tr sqrt(S1 S2) = nuclear norm of A1 A2^T / (n - 1), A centred.
    a1, a2 = f1 - f1.mean(0), f2 - f2.mean(0)
    trace = np.linalg.svd(a1 @ a2.T / (len(f1) - 1), compute_uv=False).sum()
    exact = ((f1.mean(0) - f2.mean(0)) ** 2).sum() + np.trace(np.cov(f1.T)) + np.trace(np.cov(f2.T)) - 2 * trace
    assert mine == pytest.approx(exact, rel=1e-6)
    assert reference == pytest.approx(exact, rel=1e-3)


@pytest.mark.slow
def test_frechet_distance_equals_pytorch_fid_d2048(features) -> None:
    """The real FID size: 2,048-d statistics of 5,000 features (scipy's sqrtm takes about 10 s here)."""
    from pytorch_fid.fid_score import calculate_frechet_distance

    f1, f2 = features(2048)
    s1, s2 = _stats(f1), _stats(f2)
    reference = calculate_frechet_distance(*s1, *s2)
    mine = frechet_distance(*(torch.from_numpy(a) for a in s1), *(torch.from_numpy(a) for a in s2))
    assert reference > 0.1
    assert mine == pytest.approx(reference, rel=1e-4)


def test_fid_metric_streams_and_equals_the_statistics_route(features, real_fake, tmp_path) -> None:
    real, fake = real_fake
    net = ConvFeatures(64)
    metric = FID(net, batch_size=512)
    for r, f in zip(real[:2000].split(700), fake[:2000].split(700), strict=True):
        metric.update(real=r, fake=f)
    f_real, f_fake = (extract_features(net, x[:2000]).double().numpy() for x in (real, fake))
    expected = frechet_distance(*_stats(f_fake), *_stats(f_real))
    assert metric.compute() == {"fid": pytest.approx(expected, rel=1e-8)}
    assert metric.protocol == "random-conv-test"
    # precomputed real statistics (pytorch-fid's .npz format) give the same value
    metric.save_statistics(tmp_path / "real.npz")
    with np.load(tmp_path / "real.npz") as saved:
        assert set(saved.files) == {"mu", "sigma"}
    again = FID(net, real_statistics=tmp_path / "real.npz", name="fid-conv")
    again.update(fake=fake[:2000])
    assert again.compute()["fid-conv"] == pytest.approx(expected, rel=1e-8)
    metric.reset()
    with pytest.raises(ZooError, match="at least 2 images"):
        metric.compute()


# -- KID --------------------------------------------------------------------------------------
@pytest.mark.slow
def test_kid_equals_torch_fidelity_default_subsets(features) -> None:
    from torch_fidelity.metric_kid import kid_features_to_metric

    f1, f2 = (torch.from_numpy(f[:1500]) for f in features(64))
    reference = kid_features_to_metric(f1, f2, kid_subsets=100, kid_subset_size=1000, rng_seed=2020, verbose=False)
    mean, std = kernel_inception_distance(f1, f2, subsets=100, subset_size=1000, seed=2020)
    # Same subsets (numpy RandomState, same draw order), both in float64: equal to rounding.
    assert mean == pytest.approx(reference["kernel_inception_distance_mean"], rel=1e-9)
    assert std == pytest.approx(reference["kernel_inception_distance_std"], rel=1e-9)
    assert mean > 3 * std  # a real difference between the two sets


def test_kid_metric_on_float32_features_d2048_and_both_kernel_routes(features, real_fake, monkeypatch) -> None:
    """float32 features: torch-fidelity computes its kernels in float32, we in float64.

    The unbiased MMD² subtracts sums of about m² kernel values of order 1; float32 rounding of each value
    (relative 6e-8) leaves an error of about 1e-7 x mean|k| in the estimate, far below the subset spread,
    so a tolerance of 1e-4 relative to the value is generous yet meaningful.
    """
    from torch_fidelity.metric_kid import kid_features_to_metric

    import zoo_core.metrics.kid as kid_module

    net = ConvFeatures(2048)
    real, fake = (x[:400] for x in real_fake)
    metric = KID(net, subsets=10, subset_size=200, seed=7)
    metric.update(real=real, fake=fake)
    result = metric.compute()
    f_fake, f_real = extract_features(net, fake), extract_features(net, real)
    reference = kid_features_to_metric(f_fake, f_real, kid_subsets=10, kid_subset_size=200, rng_seed=7, verbose=False)
    assert result["kid"] == pytest.approx(reference["kernel_inception_distance_mean"], rel=1e-4)
    assert result["kid-std"] == pytest.approx(reference["kernel_inception_distance_std"], rel=1e-3)
    monkeypatch.setattr(kid_module, "_GRAM_LIMIT", 0)  # per-subset kernels instead of the precomputed Gram
    assert metric.compute()["kid"] == pytest.approx(result["kid"], rel=1e-10)


def test_kid_too_few_images_names_the_fix() -> None:
    with pytest.raises(ZooError, match="subset_size=50"):
        kernel_inception_distance(torch.randn(50, 4), torch.randn(80, 4), subset_size=1000)


# -- Inception Score ---------------------------------------------------------------------------
def test_inception_score_equals_torchmetrics_with_the_same_feature_module(real_fake) -> None:
    from torchmetrics.image.inception import InceptionScore as TorchmetricsIS

    images = (real_fake[0][:1003] * 255).round().to(torch.uint8)  # 1003: unequal splits
    net = ConvFeatures(256, classes=20).calibrate(real_fake[0][1003:2000]).eval()
    # uint8 in, normalize=False: torchmetrics hands the images to the module as they are; with normalize=True it
    # would quantise floats with (x * 255).byte(), which truncates, so both sides would not see the same pixels.
    with pytest.warns(UserWarning, match="save all extracted features"):
        reference_metric = TorchmetricsIS(feature=net, splits=10, normalize=False)
    for batch in images.split(250):
        reference_metric.update(batch)
    torch.manual_seed(3)  # torchmetrics shuffles with the global generator
    ref_mean, ref_std = reference_metric.compute()

    metric = InceptionScore(net, splits=10, seed=3, batch_size=300)
    metric.update(fake=images)
    result = metric.compute()
    assert 1.5 < result["is"] < 20
    assert result["is"] == pytest.approx(ref_mean.item(), rel=1e-5)
    assert result["is-std"] == pytest.approx(ref_std.item(), rel=1e-4)


def test_inception_score_known_values() -> None:
    confident = torch.eye(10).repeat(10, 1) * 50  # every class equally often, each image certain
    assert inception_score(confident, splits=1)[0] == pytest.approx(10.0, rel=1e-9)
    assert inception_score(torch.zeros(100, 10), splits=5)[0] == pytest.approx(1.0, abs=1e-12)  # uniform: 1


def test_extractors_plug_in_by_protocol_and_classify_serves_as_logits() -> None:
    class Classifier(nn.Module):  # a zoo ImageClassifier-like module: classify() instead of logits()
        def features(self, x: torch.Tensor) -> torch.Tensor:
            return x.flatten(1)

        def classify(self, x: torch.Tensor) -> torch.Tensor:
            return x.flatten(1) * 100

    assert isinstance(ConvFeatures(64), FeatureExtractor)
    assert not isinstance(nn.Linear(2, 2), FeatureExtractor)
    metric = InceptionScore(Classifier(), splits=1, seed=None, name="is-toy")
    metric.update(fake=torch.eye(4).view(4, 1, 2, 2))
    assert metric.protocol == "Classifier"
    assert metric.compute()["is-toy"] == pytest.approx(4.0, rel=1e-9)
    with pytest.raises(ZooError, match="no features"):
        extract_features(nn.Linear(2, 2), torch.zeros(1, 1, 1, 2))
