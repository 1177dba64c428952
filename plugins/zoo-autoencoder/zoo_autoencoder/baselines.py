"""The trivial baselines beside the autoencoder's reconstruction error, computed (not typed) on mnist5k.

- ``mean-digit``: every test digit "reconstructed" as the mean training digit;
- ``pca``: the test digits projected on the first ``code_dim`` principal components of the
  training digits (centred with the training mean) and mapped back: the best linear code of
  that size in squared error, the autoencoder's natural rival.

Both are mean squared errors per pixel on the 500 test digits, as ``recon-mse``.

Example:
    $ python -m zoo_autoencoder.baselines --code-dim 300
    mean-digit 0.0665  pca-300 0.0009
"""

from __future__ import annotations

import argparse

import torch

__all__ = ["reconstruction_baselines"]


def reconstruction_baselines(code_dim: int = 300, dataset: str = "mnist5k") -> dict[str, float]:
    """``{"mean-digit": mse, "pca-<code_dim>": mse}`` on the test split, fitted on the train split (float64).

    Example:
        >>> reconstruction_baselines(300)["pca-300"] < reconstruction_baselines(300)["mean-digit"]
        True
    """
    from zoo_core.data import load_dataset

    train = load_dataset(dataset, split="train").tensors().double().flatten(1)
    test = load_dataset(dataset, split="test").tensors().double().flatten(1)
    mean = train.mean(0)
    _, _, vh = torch.linalg.svd(train - mean, full_matrices=False)
    basis = vh[:code_dim]  # (k, D): the top principal directions
    pca = (test - mean) @ basis.t() @ basis + mean
    return {
        "mean-digit": float((test - mean).pow(2).mean()),
        f"pca-{code_dim}": float((pca - test).pow(2).mean()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code-dim", type=int, default=300)
    args = parser.parse_args()
    print("  ".join(f"{k} {v:.4g}" for k, v in reconstruction_baselines(args.code_dim).items()))


if __name__ == "__main__":
    main()
