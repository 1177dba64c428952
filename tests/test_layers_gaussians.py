"""zoo_core.layers.gaussians (the explicit models' Gaussians) and zoo_core.metrics.baselines, on real digits."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from zoo_core import ZooError
from zoo_core.data import load_dataset
from zoo_core.layers.gaussians import covariance_scale, gaussian_log_prob, kmeans_plusplus, sample_gaussians
from zoo_core.metrics.baselines import classification_baselines, majority_class_accuracy, nearest_class_mean_accuracy


@pytest.fixture(scope="module")
def digits() -> torch.Tensor:
    return load_dataset("mnist5k", split="test", size=6).tensors().flatten(1).double()


def test_log_prob_matches_torch_distributions(digits) -> None:
    x = digits[:50]
    means = torch.stack([digits[100:200].mean(0), digits[200:300].mean(0)])
    covariances = torch.stack([torch.cov(digits[i : i + 100].T) for i in (100, 200)]) + 1e-2 * torch.eye(36)
    full = gaussian_log_prob(x, means, covariance_scale(covariances, "full"), "full")
    expected = torch.stack(
        [torch.distributions.MultivariateNormal(m, c).log_prob(x) for m, c in zip(means, covariances, strict=True)], 1
    )
    torch.testing.assert_close(full, expected)
    variances = covariances.diagonal(dim1=1, dim2=2)
    diag = gaussian_log_prob(x, means, covariance_scale(variances, "diag"), "diag")
    independent = torch.distributions.Normal(means[None], variances.sqrt()[None]).log_prob(x[:, None]).sum(-1)
    torch.testing.assert_close(diag, independent)


def test_samples_have_the_gaussians_moments(digits) -> None:
    mean = digits.mean(0)
    covariance = torch.cov(digits.T) + 1e-3 * torch.eye(36)
    scale = covariance_scale(covariance[None], "full")
    draws = sample_gaussians(
        mean[None], scale, "full", torch.zeros(20000, dtype=torch.long), torch.Generator().manual_seed(0)
    )
    assert (draws.mean(0) - mean).abs().max() < 0.01
    assert (torch.cov(draws.T) - covariance).abs().max() < 0.01
    again = sample_gaussians(
        mean[None], scale, "full", torch.zeros(20000, dtype=torch.long), torch.Generator().manual_seed(0)
    )
    assert torch.equal(draws, again)


def test_kmeans_plusplus_spreads_the_centres(digits) -> None:
    from sklearn.cluster import kmeans_plusplus as sklearn_kmeans_plusplus

    x = digits[:300]
    ours = kmeans_plusplus(x, 10, torch.Generator().manual_seed(0))
    assert len(set(ours.tolist())) == 10
    potential = torch.cdist(x, x[ours]).pow(2).min(1).values.sum()
    random = torch.cdist(x, x[:10]).pow(2).min(1).values.sum()
    theirs = sklearn_kmeans_plusplus(x.numpy(), 10, random_state=0)[1]
    sklearn_potential = torch.cdist(x, x[theirs]).pow(2).min(1).values.sum()
    assert potential < random and potential < 1.25 * sklearn_potential  # as good as scikit-learn's greedy draw


def test_covariances_that_are_not_positive_definite_are_refused_in_one_sentence() -> None:
    with pytest.raises(ZooError, match=r"not positive definite .* raise reg_covar"):
        covariance_scale(torch.zeros(1, 3, 3), "full")
    with pytest.raises(ZooError, match="covariance type must be one of full, diag"):
        covariance_scale(torch.ones(1, 3), "tied")


def test_classification_baselines_on_mnist5k() -> None:
    baselines = classification_baselines("mnist5k")
    assert baselines["majority"] == 0.1  # 450 training digits of each class: class 0, a tenth of the test split
    assert 0.8 < baselines["nearest-class-mean"] < 0.9
    assert majority_class_accuracy(torch.tensor([2, 2, 1]), torch.tensor([2, 1, 2, 2])) == 0.75
    x = torch.tensor([[0.0, 0.0], [0.0, 1.0], [5.0, 5.0]])
    assert (
        nearest_class_mean_accuracy(
            x, torch.tensor([0, 0, 1]), torch.tensor([[4.0, 4.0], [1.0, 0.0]]), torch.tensor([1, 0])
        )
        == 1.0
    )
    assert np.isclose(nearest_class_mean_accuracy(x, torch.tensor([0, 0, 1]), x, torch.tensor([1, 1, 1])), 1 / 3)
