"""The GMM against scikit-learn (the numerical reference) on real digits, its classifier, sampler and errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from zoo_gmm.em import fit_mixture
from zoo_gmm.model import GMM
from zoo_gmm.training import GMMTrainingStep

import zoo_core as zoo
from zoo_core.data import load_dataset
from zoo_core.training import TrainConfig

PUBLISHED = "hub/zoo/gmm-mnist"


@pytest.fixture(scope="module")
def sklearn_digits() -> np.ndarray:
    from sklearn.datasets import load_digits

    return load_digits().data / 16.0  # 1,797 real 8x8 digits in [0, 1]


@pytest.mark.parametrize("covariance_type", ["full", "diag"])
@pytest.mark.parametrize("inference", ["em", "dirichlet-process"])
def test_the_fit_is_scikit_learns_from_the_same_start(sklearn_digits, covariance_type, inference) -> None:
    """GaussianMixture / BayesianGaussianMixture (DP prior), 20 iterations from the same k-means++ centres."""
    from sklearn.cluster import kmeans_plusplus
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import BayesianGaussianMixture, GaussianMixture

    x, k, iterations = sklearn_digits, 8, 20
    # scikit-learn's own draw of the centres: its fit makes exactly this call with RandomState(0)
    _, indices = kmeans_plusplus(x, k, random_state=np.random.RandomState(0))
    options = {"n_components": k, "covariance_type": covariance_type, "init_params": "k-means++", "random_state": 0}
    options.update(max_iter=iterations, tol=0.0, reg_covar=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if inference == "em":
            reference = GaussianMixture(**options).fit(x)
        else:
            reference = BayesianGaussianMixture(weight_concentration_prior_type="dirichlet_process", **options).fit(x)
    ours, n_iter, _, bound = fit_mixture(
        torch.from_numpy(x), k, covariance_type, inference=inference, max_iter=iterations, tol=0.0,
        init_indices=torch.from_numpy(indices),
    )  # fmt: skip
    assert n_iter == iterations
    np.testing.assert_allclose(ours.weights.numpy(), reference.weights_, atol=1e-9)
    np.testing.assert_allclose(ours.means.numpy(), reference.means_, atol=1e-9)
    np.testing.assert_allclose(ours.covariances.numpy(), reference.covariances_, atol=1e-9)
    if inference == "em":  # the bound of the last E-step is GaussianMixture's lower_bound_
        assert bound == pytest.approx(reference.lower_bound_, abs=1e-9)


def test_the_dirichlet_process_prior_empties_components_em_keeps(sklearn_digits) -> None:
    x = torch.from_numpy(sklearn_digits[:400])
    fits = {
        inference: fit_mixture(x, 20, "diag", inference=inference, generator=torch.Generator().manual_seed(0))[0]
        for inference in ("em", "dirichlet-process")
    }
    used = {inference: int((m.weights > 0.01).sum()) for inference, m in fits.items()}
    assert used["em"] == 20 and used["dirichlet-process"] < 12, used
    assert fits["dirichlet-process"].weights.sum().item() == pytest.approx(1.0)


@pytest.fixture(scope="module")
def fitted() -> tuple[GMM, torch.Tensor, torch.Tensor]:
    train, test = load_dataset("mnist5k", split="train", size=8), load_dataset("mnist5k", split="test", size=8)
    model = zoo.create("gmm", image_size=8, n_components=3)
    model.fit(train.tensors(), train.labels, reg_covar=1e-3)
    return model, test.tensors(), test.labels


def test_classify_is_bayes_rule_over_each_class_mixture(fitted) -> None:
    model, x, y = fitted
    flat = x[:10].flatten(1).double()
    means, variances = model.means.double(), model.scale.double()
    # log p(x | c) = log sum_k w_ck prod_d N(x_d; mu_ckd, var_ckd), written out
    log_gauss = -0.5 * (((flat[:, None, None] - means) ** 2 / variances) + variances.log() + np.log(2 * np.pi)).sum(-1)
    expected = torch.logsumexp(log_gauss + model.log_weights.double(), 2)
    torch.testing.assert_close(model.features(x[:10]).double(), expected, rtol=1e-5, atol=1e-3)
    torch.testing.assert_close(
        model.classify(x[:10]).double(), expected + model.log_prior.double(), rtol=1e-5, atol=1e-3
    )
    assert model.weights.sum(1).sub(1).abs().max() < 1e-5
    assert (model.classify(x).argmax(1) == y).float().mean() > 0.7


def test_samples_pick_a_class_then_a_component(fitted) -> None:
    model, _, _ = fitted
    sevens = model.sample(200, seed=0, labels=7)
    assert sevens.shape == (200, 1, 8, 8) and float(sevens.min()) >= 0 and float(sevens.max()) <= 1
    assert (model.classify(sevens).argmax(1) == 7).float().mean() > 0.8
    assert torch.equal(model.sample(5, seed=3), model.sample(5, seed=3))
    with pytest.raises(zoo.ZooError, match="labels must be one class number from 0 to 9"):
        model.sample(2, labels=[3, 12])


def test_the_step_fits_the_whole_split_and_refuses_a_part(tmp_path) -> None:
    data = load_dataset("mnist5k", split="train", size=6)
    model = zoo.create("gmm", image_size=6, n_components=2)
    step = GMMTrainingStep(model, TrainConfig("gmm", "mnist5k", str(tmp_path), step_config={"max_iter": 5}))
    step.check_dataset(data)
    assert step.closed_form and step.optimizers() == {}
    with pytest.raises(zoo.ZooError) as info:
        step.train_step({"image": data.tensors()[:100], "label": data.labels[:100]}, 0)
    assert "pass --batch-size 4500" in str(info.value) and "\n" not in str(info.value)
    logged = step.train_step({"image": data.tensors(), "label": data.labels}, 0)
    assert float(logged["iterations"]) <= 5 and np.isfinite(float(logged["bound"]))
    assert "em fit from k-means++, reg_covar 1e-06" in step.recipe


def test_the_published_model_reproduces_its_recorded_accuracy() -> None:
    from zoo_core._registry import load_registry, shipped_registry_path

    model = zoo.ZooModel.from_pretrained(PUBLISHED)
    assert isinstance(model, GMM) and (model.config.inference, model.config.covariance_type) == ("em", "diag")
    test = load_dataset("mnist5k", split="test")
    accuracy = float((model.classify(test.tensors()).argmax(1) == test.labels).double().mean())
    entry = load_registry(shipped_registry_path())["models"]["gmm.mnist"]
    assert accuracy == next(m["value"] for m in entry["metrics"] if m["name"] == "accuracy")
