"""Choosing ``reg_covar`` on a validation split carved out of the training digits, never the test split.

``reg_covar`` (added to every variance) is the one hyper-parameter that decides how the mixtures
classify: with scikit-learn's 1e-6 a pixel a class never inks gets a variance of 1e-6, and a digit
that inks it is scored very low. ``select_reg_covar`` holds out the last ``per_class`` images of
each class (in the order given: the training split's file order, as ``nade.mnist``'s early
stopping does), fits the mixtures on the rest once per value of a grid, scores the held-out images
and returns the value with the best validation accuracy (the model is published as a classifier:
accuracy is its headline metric), ties going to the higher validation mean log p(x). The caller then
fits again on the whole split with that value. With one class (an unsupervised mixture) accuracy is
1 for every value, and the log-likelihood decides.

Example:
    >>> best, rows = select_reg_covar(model.config, train.tensors(), train.labels, REG_COVAR_GRID)
    >>> [(r["reg_covar"], r["accuracy"]) for r in rows]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from zoo_core import ZooError

__all__ = ["REG_COVAR_GRID", "held_out_scores", "select_reg_covar", "validation_mask"]

#: the grid of the published selection: scikit-learn's default, then one to five orders of magnitude above it
REG_COVAR_GRID = (1e-6, 1e-4, 1e-3, 1e-2, 1e-1)


def validation_mask(labels: torch.Tensor, per_class: int) -> torch.Tensor:
    """True for the last ``per_class`` items of each class, in the order given (a stratified validation split);
    one sentence when that leaves nothing to fit or nothing to score."""
    mask = torch.zeros(len(labels), dtype=torch.bool)
    for label in labels.unique().tolist():
        mask[torch.nonzero(labels == label).flatten()[-per_class:]] = True
    if mask.all() or not mask.any():
        raise ZooError(
            f"A validation split of {per_class} images a class leaves nothing to fit or nothing to score; "
            "pass --train-config val_per_class=N with N between 1 and the size of the smallest class minus 1."
        )
    return mask


@torch.no_grad()
def held_out_scores(model: Any, images: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
    """Accuracy of Bayes' rule and the mean log p(x) = log sum_y p(y) p(x | y) in nats per image."""
    scores = model.classify(images).double()
    return {
        "accuracy": float((scores.argmax(1).cpu() == labels.cpu()).double().mean()),
        "log_p_x": float(torch.logsumexp(scores, 1).mean()),
    }


def select_reg_covar(
    config: Any,
    images: torch.Tensor,
    labels: torch.Tensor | None,
    grid: Sequence[float],
    *,
    per_class: int = 50,
    max_iter: int = 100,
    tol: float = 1e-3,
    seed: int = 0,
) -> tuple[float, list[dict[str, float]]]:
    """The grid value with the best validation accuracy (ties: the higher log p(x)), and one row per value.

    ``config`` is the GMM's config; every value is fitted from a fresh model on the images outside the
    validation split (the last ``per_class`` of each class) with the same seed. Rows:
    ``{"reg_covar", "accuracy", "log_p_x"}`` on the validation split. Only ``images`` are read.
    """
    from .model import GMM

    y = torch.zeros(len(images), dtype=torch.long) if labels is None else labels.cpu()
    held_out = validation_mask(y, per_class)
    fit_x, fit_y = images[~held_out], (None if labels is None else y[~held_out])
    rows = []
    for value in grid:
        model = GMM(config)
        model.fit(fit_x, fit_y, reg_covar=value, max_iter=max_iter, tol=tol, seed=seed)
        rows.append({"reg_covar": float(value), **held_out_scores(model, images[held_out], y[held_out])})
    best = max(rows, key=lambda row: (row["accuracy"], row["log_p_x"]))
    return best["reg_covar"], rows
