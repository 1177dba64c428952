"""The Bayes-classifier sampler against its reference (numpy / scipy on real mnist5k digits), its verbs, its errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from zoo_gaussian_bayes.model import GaussianBayes
from zoo_gaussian_bayes.training import GaussianBayesTrainingStep

import zoo_core as zoo
from zoo_core.data import load_dataset
from zoo_core.training import TrainConfig

PUBLISHED = "hub/zoo/gaussian-bayes-mnist"


@pytest.fixture(scope="module")
def digits():
    """mnist5k at 8x8 (64 pixels): real digits, small enough for scipy's reference in milliseconds."""
    train, test = load_dataset("mnist5k", split="train", size=8), load_dataset("mnist5k", split="test", size=8)
    return train.tensors(), train.labels, test.tensors(), test.labels


@pytest.fixture(scope="module")
def fitted(digits):
    x, y, _, _ = digits
    return zoo.create("gaussian-bayes", image_size=8).fit(x, y)


def test_the_fit_is_the_references_np_cov_per_class_plus_the_ridge(digits, fitted) -> None:
    x, y, _, _ = digits
    flat, labels = x.flatten(1).double().numpy(), y.numpy()
    for k in range(10):
        xk = flat[labels == k]
        covariance = np.cov(xk.T) + 1e-2 * np.eye(64)  # bayes_classifier_gaussian.py, + the smoothing
        scale = fitted.scale[k].double()
        np.testing.assert_allclose(fitted.means[k].double().numpy(), xk.mean(0), atol=1e-6)
        np.testing.assert_allclose((scale @ scale.T).numpy(), covariance, atol=1e-6)
    np.testing.assert_allclose(fitted.log_prior.exp().numpy(), np.bincount(labels) / len(labels), atol=1e-7)


def test_classify_is_bayes_rule_with_scipys_gaussians(digits, fitted) -> None:
    from scipy.stats import multivariate_normal

    x, y, xt, _ = digits
    flat, labels, test = x.flatten(1).double().numpy(), y.numpy(), xt[:20].flatten(1).double().numpy()
    expected = np.stack(
        [
            multivariate_normal(flat[labels == k].mean(0), np.cov(flat[labels == k].T) + 1e-2 * np.eye(64)).logpdf(test)
            + math.log((labels == k).mean())
            for k in range(10)
        ],
        axis=1,
    )
    scores = fitted.classify(xt[:20]).double().numpy()
    np.testing.assert_allclose(scores, expected, rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(
        fitted.features(xt[:20]).double().numpy(), expected - fitted.log_prior.numpy(), atol=1e-3
    )


def test_the_training_step_gives_the_same_fit_for_any_batch_size(digits, fitted, tmp_path) -> None:
    x, y, _, _ = digits
    model = zoo.create("gaussian-bayes", image_size=8)
    step = GaussianBayesTrainingStep(model, TrainConfig("gaussian-bayes", "mnist5k", str(tmp_path)))
    assert step.closed_form and step.optimizers() == {} and not any(p.requires_grad for p in model.parameters())
    for part in torch.arange(len(x)).chunk(3):  # three batches of one epoch
        logged = step.train_step({"image": x[part], "label": y[part]}, 0)
    assert set(logged) == {"log_p_xy", "train_accuracy"} and 0.5 < float(logged["train_accuracy"]) <= 1
    for key, value in fitted.state_dict().items():
        torch.testing.assert_close(model.state_dict()[key], value, atol=2e-5, rtol=1e-5)
    again = GaussianBayesTrainingStep(zoo.create("gaussian-bayes", image_size=8), step.train_config)
    again.load_extra_state(step.extra_state())  # a resumed run continues from the same statistics
    assert torch.equal(again.scatter, step.scatter) and torch.equal(again.count, step.count)


def test_samples_come_from_the_class_asked_for(fitted) -> None:
    threes = fitted.sample(200, seed=0, labels=3)
    assert threes.shape == (200, 1, 8, 8) and float(threes.min()) >= 0 and float(threes.max()) <= 1
    assert (fitted.classify(threes).argmax(1) == 3).float().mean() > 0.9
    one_each = fitted.sample(10, seed=1, labels=range(10))
    assert torch.equal(one_each, fitted.sample(10, seed=1, labels=list(range(10))))
    assert not torch.equal(one_each, fitted.sample(10, seed=2, labels=range(10)))
    drawn = fitted.sample(1000, seed=0)  # y ~ p(y): all ten classes, about a tenth each
    counts = torch.bincount(fitted.classify(drawn).argmax(1), minlength=10)
    assert counts.min() > 50


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda m: m.sample(2, labels=10), "labels must be one class number from 0 to 9 or 2 of them"),
        (lambda m: m.sample(2, labels=[1, 2, 3]), "labels must be one class number"),
        (lambda m: m.sample(2, labels=[0.5, 1.0]), "labels must be one class number"),
        (lambda m: m.classify(torch.zeros(1, 1, 28, 28)), "takes 8x8 images, got 28x28"),
        (lambda m: m.sample(0), "Cannot draw 0 samples"),
    ],
)
def test_bad_input_gets_one_sentence(fitted, call, words) -> None:
    with pytest.raises(zoo.ZooError) as info:
        call(fitted)
    assert words in str(info.value) and "\n" not in str(info.value)


def test_the_published_model_reproduces_its_recorded_accuracy() -> None:
    from zoo_core._registry import load_registry, shipped_registry_path

    model = zoo.ZooModel.from_pretrained(PUBLISHED)
    assert isinstance(model, GaussianBayes) and model.config.reg_covar == 1e-2
    test = load_dataset("mnist5k", split="test")
    accuracy = float((model.classify(test.tensors()).argmax(1) == test.labels).double().mean())
    entry = load_registry(shipped_registry_path())["models"]["gaussian-bayes.mnist"]
    recorded = next(m["value"] for m in entry["metrics"] if m["name"] == "accuracy")
    assert accuracy == recorded and accuracy > 0.9  # far above the nearest class mean's 0.838
