"""``code-accuracy``: the paper's "categorical code as a classifier" (Chen et al. 2016, section 7.1).

A classifier's arg-max class (for InfoGAN: the arg-max of Q(c | x), ``classify``) is an unlabelled
cluster index: category 3 may hold the sevens. The metric counts a ``codes x labels`` table over
the test images and matches codes to labels one-to-one so that the most images agree (the
assignment problem; the Hungarian method, ``scipy.optimize.linear_sum_assignment``, when scipy
is installed, else an exact dynamic programme over subsets of labels, O(2^L L K), fine up to
about 20 labels). The accuracy after matching is reported; the paper's 5 % error is 0.95.
With more codes than labels the extra codes match nothing and their images count as errors.

``zoo eval`` feeds it with the core's ``classification`` protocol (``classify(image)`` against the
dataset's ``label``), so any classifier can be scored:

    $ zoo eval infogan.mnist --metric code-accuracy --dataset mnist5k

Example:
    >>> m = CodeAccuracy()
    >>> m.update(prediction=torch.tensor([2, 2, 0, 1]), target=torch.tensor([0, 0, 1, 2]))
    >>> m.compute()
    {'code-accuracy': 1.0}
"""

from __future__ import annotations

import itertools

import torch

from zoo_core import ZooError
from zoo_core.metrics import Metric

__all__ = ["CodeAccuracy", "best_matching", "brute_force_matching"]


def _subset_dp(table: list[list[int]]) -> tuple[int, list[tuple[int, int]]]:
    """The exact best one-to-one matching of rows (codes) to columns (labels), dynamic programming over the sets of
    used labels; for scipy-less installs."""
    codes, labels = len(table), len(table[0]) if table else 0
    best: dict[int, tuple[int, list[tuple[int, int]]]] = {0: (0, [])}
    for row in range(codes):
        nxt = dict(best)  # row left unmatched
        for used, (score, pairs) in best.items():
            for col in range(labels):
                if used >> col & 1:
                    continue
                key, value = used | 1 << col, score + table[row][col]
                if key not in nxt or nxt[key][0] < value:
                    nxt[key] = (value, [*pairs, (row, col)])
        best = nxt
    return max(best.values(), key=lambda item: item[0])


def best_matching(table: torch.Tensor) -> tuple[int, list[tuple[int, int]]]:
    """The largest number of agreeing items over one-to-one matchings of codes (rows) to labels (columns) of a count
    ``table``, and the (code, label) pairs of one such matching.

    Example:
        >>> best_matching(torch.tensor([[0, 5], [4, 1]]))
        (9, [(0, 1), (1, 0)])
    """
    counts = table.long().cpu()
    try:
        from scipy.optimize import linear_sum_assignment
    except ImportError:
        if counts.shape[1] > 20:
            raise ZooError(
                f"Matching {counts.shape[1]} labels without scipy is too slow; `pip install scipy`."
            ) from None
        return _subset_dp(counts.tolist())
    rows, cols = linear_sum_assignment(counts.numpy(), maximize=True)
    pairs = [(int(r), int(c)) for r, c in zip(rows, cols, strict=True)]
    return int(sum(int(counts[r, c]) for r, c in pairs)), pairs


def brute_force_matching(table: torch.Tensor) -> int:
    """The best matching by trying every injection of codes into labels (tests only: factorial time).

    Example:
        >>> brute_force_matching(torch.tensor([[0, 5], [4, 1]]))
        9
    """
    counts = table.long().tolist()
    codes, labels = len(counts), len(counts[0])
    if codes <= labels:
        return max(sum(counts[i][p[i]] for i in range(codes)) for p in itertools.permutations(range(labels), codes))
    return max(sum(counts[p[j]][j] for j in range(labels)) for p in itertools.permutations(range(codes), labels))


class CodeAccuracy(Metric):
    """Accuracy of the arg-max code after the best one-to-one matching of codes to labels.

    ``prediction``: scores ``(N, codes)`` or code indices ``(N,)``; ``target``: labels ``(N,)``.
    ``num_labels`` (default: the largest label seen + 1, at least the number of codes).
    """

    name = "code-accuracy"
    inputs = ("prediction", "target")
    higher_is_better = True
    unit = "fraction"
    protocol = (
        "accuracy of the arg-max categorical code after the best one-to-one matching of codes to labels "
        "(Hungarian method), as InfoGAN's 'categorical code as a classifier'"
    )

    def __init__(self, num_labels: int | None = None) -> None:
        if num_labels is not None and (
            isinstance(num_labels, bool) or not isinstance(num_labels, int) or num_labels < 1
        ):
            raise ZooError(f"num_labels must be a whole number of classes of at least 1, not {num_labels!r}.")
        self.num_labels = num_labels
        super().__init__()

    def reset(self) -> None:
        self.codes: list[torch.Tensor] = []
        self.labels: list[torch.Tensor] = []
        self.num_codes = 0

    def update(self, prediction: torch.Tensor, target: torch.Tensor) -> None:
        if prediction.dim() == 2:
            self.num_codes = max(self.num_codes, prediction.shape[1])
            codes = prediction.argmax(dim=1)
        else:
            codes = prediction.long()
        target = torch.as_tensor(target).long()
        if codes.shape != target.shape or codes.dim() != 1:
            raise ZooError(
                f"code-accuracy compares {tuple(prediction.shape)} predictions with {tuple(target.shape)} labels; "
                "pass (N, codes) scores or (N,) codes and (N,) labels."
            )
        if target.numel() and int(target.min()) < 0:
            raise ZooError(f"code-accuracy takes labels from 0, got {int(target.min())}.")
        self.codes.append(codes.cpu())
        self.labels.append(target.cpu())

    def table(self) -> torch.Tensor:
        """The ``codes x labels`` count table of everything seen."""
        codes, labels = torch.cat(self.codes), torch.cat(self.labels)
        n_codes = max(self.num_codes, int(codes.max()) + 1)
        n_labels = self.num_labels or max(int(labels.max()) + 1, n_codes)
        if int(labels.max()) >= n_labels:
            raise ZooError(f"code-accuracy got the label {int(labels.max())} but num_labels is {n_labels}.")
        counts = torch.zeros(n_codes * n_labels, dtype=torch.long)
        counts.index_add_(0, codes * n_labels + labels, torch.ones_like(codes))
        return counts.view(n_codes, n_labels)

    def compute(self) -> dict[str, float]:
        if not self.codes or sum(len(c) for c in self.codes) == 0:
            raise ZooError("code-accuracy has seen no images; call update(prediction=..., target=...) first.")
        table = self.table()
        correct, _ = best_matching(table)
        return {self.name: correct / int(table.sum())}
