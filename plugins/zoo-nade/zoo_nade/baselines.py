"""The trivial baseline beside NADE's ``nll-binarized`` (``zoo_core.metrics.baselines.independent_bernoulli_nll``).

Example:
    $ python -m zoo_nade.baselines
    independent-bernoulli 213.1 nats
"""

from __future__ import annotations

from zoo_core.metrics.baselines import independent_bernoulli_nll

__all__ = ["independent_bernoulli_nll"]

if __name__ == "__main__":
    print(f"independent-bernoulli {independent_bernoulli_nll():.4g} nats")
