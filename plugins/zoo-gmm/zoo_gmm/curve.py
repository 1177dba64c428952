"""The GMM's training curve: held-out accuracy and log-likelihood after each number of EM iterations.

EM has no epochs: its iterations are what the curve follows. For each ``max_iter`` in a list, the
model is fitted again from the same k-means++ start with ``tol=0`` (so exactly that many
iterations), then scored on the held-out split: accuracy of Bayes' rule and the mean
log p(x) = log sum_y p(y) p(x | y) in nats per image (a continuous density of the [0, 1] grey
values, not a likelihood of 8-bit images).

The published model's ``reg_covar`` (1e-2) was chosen on a validation split of the training
digits (``zoo_gmm.selection``); this curve only reports the test split, it chooses nothing.

Example:
    $ python -m zoo_gmm.curve --config inference=em --iterations 0,1,2,5,10,20 --reg-covar 1e-2
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from .selection import held_out_scores

__all__ = ["training_curve"]


def training_curve(
    config: dict[str, Any], iterations: list[int], *, reg_covar: float = 1e-6, seed: int = 1
) -> list[dict[str, float]]:
    """Rows ``{"iterations", "accuracy", "log_p_x"}`` on mnist5k's test split, fitted on its train split."""
    import zoo_core as zoo
    from zoo_core.data import load_dataset

    train, test = load_dataset("mnist5k", split="train"), load_dataset("mnist5k", split="test")
    x, y, xt, yt = train.tensors(), train.labels, test.tensors(), test.labels
    rows = []
    for n in iterations:
        model = zoo.create("gmm", **config)
        # n = 0: the k-means++ start itself (one M-step from one-hot responsibilities, no EM iteration)
        model.fit(x, y, reg_covar=reg_covar, max_iter=n, tol=0.0, seed=seed)
        rows.append({"iterations": n, **held_out_scores(model, xt, yt)})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", action="append", default=[], help="key=value of the GMM's config")
    parser.add_argument("--iterations", default="0,1,2,3,5,10,20,50")
    parser.add_argument("--reg-covar", type=float, default=1e-6)
    args = parser.parse_args()
    config = {k: json.loads(v) if v[:1].isdigit() else v for k, _, v in (c.partition("=") for c in args.config)}
    rows = training_curve(config, [int(i) for i in args.iterations.split(",")], reg_covar=args.reg_covar)
    print("| EM iterations | held-out accuracy | held-out mean log p(x) (nats) |\n| --- | --- | --- |")
    for row in rows:
        print(f"| {row['iterations']} | {row['accuracy']:.3f} | {row['log_p_x']:.1f} |")


if __name__ == "__main__":
    main()
