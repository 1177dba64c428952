"""The GMM against scikit-learn (the numerical reference) on real digits, its classifier, sampler and errors;
the choice of ``reg_covar`` on a validation split of the training digits; the published model's numbers."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import torch
from zoo_gmm.em import fit_mixture
from zoo_gmm.model import GMM
from zoo_gmm.selection import validation_mask
from zoo_gmm.training import VALIDATION_NAME, GMMTrainingStep

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
    assert "em fit from k-means++, reg_covar 1e-06" in step.recipe and "chosen" not in step.recipe
    assert "reg_covar" not in logged and step.chosen is None  # scikit-learn's default unless a grid is given


def test_the_validation_split_is_the_last_images_of_each_class() -> None:
    labels = torch.tensor([0, 1, 0, 2, 1, 0, 2, 1])
    assert validation_mask(labels, 2).nonzero().flatten().tolist() == [2, 3, 4, 5, 6, 7]
    assert validation_mask(labels, 1).nonzero().flatten().tolist() == [5, 6, 7]


def test_reg_covar_is_chosen_on_the_train_split_by_validation_accuracy(tmp_path, monkeypatch) -> None:
    """The run loads no split but the train split, and picks the grid value with the best validation accuracy."""
    import zoo_core.data
    from zoo_core.training import train

    real_load = zoo_core.data.load_dataset
    splits: list[str] = []

    def spy(name, split="train", **options):
        splits.append(split)
        return real_load(name, split=split, **options)

    monkeypatch.setattr(zoo_core.data, "load_dataset", spy)
    grid, per_class, config = [1e-6, 1e-3, 1e-2, 1e-1, 1.0], 20, {"image_size": 8, "n_components": 2}
    step_config = {"reg_covar_grid": grid, "val_per_class": per_class, "max_iter": 20}
    result = train(
        "gmm", "mnist5k", tmp_path, config=config, dataset_options={"size": 8}, step_config=step_config, seed=1,
        evaluate=False, verbose=False, progress=False,
    )  # fmt: skip
    assert splits == ["train"]  # the test split is never read (no final metrics here: --no-eval)
    rows = [json.loads(line) for line in (tmp_path / VALIDATION_NAME).read_text().splitlines()]
    # the same scores from the train split alone: fit on all but the last 20 of each class, score those 20
    data = real_load("mnist5k", split="train", size=8)
    x, y = data.tensors(), data.labels
    held_out = validation_mask(y, per_class)
    assert int(held_out.sum()) == 10 * per_class
    for row, value in zip(rows, grid, strict=True):
        model = zoo.create("gmm", **config)
        model.fit(x[~held_out], y[~held_out], reg_covar=value, max_iter=20, seed=1)
        accuracy = float((model.classify(x[held_out]).argmax(1) == y[held_out]).double().mean())
        assert row["reg_covar"] == value and row["accuracy"] == pytest.approx(accuracy, abs=1e-12)
    best = max(rows, key=lambda row: (row["accuracy"], row["log_p_x"]))
    assert [row["chosen"] for row in rows] == [row is best for row in rows]
    # on 8x8 digits: neither scikit-learn's default nor the validation log-likelihood's choice (1e-6)
    assert best["reg_covar"] == 1e-3 and max(rows, key=lambda row: row["log_p_x"])["reg_covar"] == 1e-6
    assert result.losses["reg_covar"] == pytest.approx(1e-3)  # the whole split is then fitted with it
    notes = json.loads((tmp_path / "zoo-entry.json").read_text())["entry"]["made_by"]["notes"]
    assert "by the accuracy on a validation split (the last 20 training images of each class" in notes
    assert "): 0.001, then per-class em fit from k-means++, reg_covar 0.001," in notes


def test_a_validation_split_that_cannot_be_carved_fails_before_the_run(tmp_path) -> None:
    """val_per_class as large as a class: one sentence from the data check, before the run writes anything."""
    from zoo_core.training import train

    out = tmp_path / "run"
    with pytest.raises(zoo.ZooError, match="leaves nothing to fit or nothing to score"):
        train(
            "gmm", "mnist5k", out, config={"image_size": 8, "n_components": 2}, dataset_options={"size": 8},
            step_config={"reg_covar_grid": [1e-3], "val_per_class": 450}, evaluate=False, verbose=False,
            progress=False,
        )  # fmt: skip
    assert not out.exists()
    with pytest.raises(zoo.ZooError, match="val_per_class=N"):
        validation_mask(torch.tensor([0, 0, 1, 1]), 2)


def test_the_published_model_reproduces_its_recorded_accuracy() -> None:
    from zoo_core._registry import load_registry, shipped_registry_path
    from zoo_core.metrics.baselines import classification_baselines

    model = zoo.ZooModel.from_pretrained(PUBLISHED)
    assert isinstance(model, GMM) and (model.config.inference, model.config.covariance_type) == ("em", "diag")
    test = load_dataset("mnist5k", split="test")
    accuracy = float((model.classify(test.tensors()).argmax(1) == test.labels).double().mean())
    entry = load_registry(shipped_registry_path())["models"]["gmm.mnist"]
    assert accuracy == next(m["value"] for m in entry["metrics"] if m["name"] == "accuracy")
    # reg_covar 1e-2, chosen on the validation split, recorded with the run; it beats the trivial baselines
    assert "): 0.01, then per-class em fit from k-means++, reg_covar 0.01," in entry["made_by"]["notes"]
    assert "reg_covar_grid=[1e-6,1e-4,1e-3,1e-2,1e-1]" in entry["made_by"]["command"]
    baselines = classification_baselines("mnist5k")
    assert baselines == {"majority": 0.1, "nearest-class-mean": 0.838}
    assert 0.86 < accuracy < 0.92 and accuracy > baselines["nearest-class-mean"]
