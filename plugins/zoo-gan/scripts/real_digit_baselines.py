"""The real-digit rows beside gan.mnist's metrics: what real MNIST digits score in the same two protocols.

    ZOO_HUB_DIR=hub python plugins/zoo-gan/scripts/real_digit_baselines.py

- FID-MNIST of 500 real training digits (``torch.randperm(4500)`` with seed 0, the first 500) against
  the 500 test digits: the floor at this sample size (dcgan.mnist's card: 23.8).
- The Parzen-window LL of the test digits under the first 4,000 training digits (the window's
  "samples"), sigma chosen on the last 500 training digits as ``parzen-ll`` chooses it: real digits
  as the best possible generator with 4,000 samples (the metric fits 10,000 of a model's samples).

Example output::

    fid-mnist, 500 real training digits: 23.8
    parzen-ll, 4,000 real training digits: ... +- ... (sigma ...)
"""

from __future__ import annotations

from zoo_core.data import load_dataset
from zoo_core.metrics import create_metric
from zoo_core.metrics.baselines import real_digits_fid_mnist


def main() -> None:
    print(f"fid-mnist, 500 real training digits: {real_digits_fid_mnist():.2f}")
    train = load_dataset("mnist5k", split="train").tensors()
    test = load_dataset("mnist5k", split="test").tensors()
    parzen = create_metric("parzen-ll")  # its validation: the last 500 training digits
    parzen.update(fake=train[:4000], real=test)
    values = parzen.compute()
    print(
        f"parzen-ll, 4,000 real training digits: {values['parzen-ll']:.2f} +- {values['parzen-ll-se']:.2f} "
        f"(sigma {parzen.chosen_sigma:.4g})"
    )


if __name__ == "__main__":
    main()
