"""The ``linear`` learning-rate policy of junyanz's ``get_scheduler`` (``models/networks.py``).

Keep the learning rate for ``n_epochs`` epochs, then decay it linearly towards zero over
``n_epochs_decay`` more (pix2pix and CycleGAN: 100 + 100). The reference's factor, with the
LambdaLR epoch counter ``epoch`` (0 during the first epoch) and ``epoch_count`` the number of
the first epoch (1 unless training was restarted the reference's way)::

    factor(epoch) = 1 - max(0, epoch + epoch_count - n_epochs) / (n_epochs_decay + 1)

With the scheduler stepped at the end of every epoch (PyTorch's convention, and ``zoo train``'s
``scheduler_interval = "epoch"``), epoch ``k`` (counted from 1) trains at ``lr * factor(k - 1)``:
epochs 1 … 100 at ``lr``, epoch 101 at ``lr * 100/101``, epoch 200 at ``lr * 1/101``, and 0
would come at epoch 201. ``LinearDecay`` is a small callable object rather than a closure, so
``LambdaLR.state_dict()`` saves its numbers (JSON) and a resumed run checks them.

Example:
    >>> opt = torch.optim.Adam(net.parameters(), lr=2e-4, betas=(0.5, 0.999))
    >>> scheduler = linear_decay_scheduler(opt, n_epochs=100, n_epochs_decay=100)
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.optim.lr_scheduler import LambdaLR

from .._errors import ZooError

__all__ = ["LinearDecay", "linear_decay_scheduler"]


@dataclass
class LinearDecay:
    """The reference's ``lambda_rule``: the learning-rate factor at LambdaLR epoch ``epoch``.

    Example:
        >>> rule = LinearDecay(n_epochs=100, n_epochs_decay=100)
        >>> rule(0), rule(99), round(rule(100), 6), round(rule(199), 6)
        (1.0, 1.0, 0.990099, 0.009901)
    """

    n_epochs: int = 100
    n_epochs_decay: int = 100
    epoch_count: int = 1

    def __post_init__(self) -> None:
        if self.n_epochs < 0 or self.n_epochs_decay < 0:
            raise ZooError(
                "Linear decay needs n_epochs >= 0 and n_epochs_decay >= 0, "
                f"not {self.n_epochs} and {self.n_epochs_decay}."
            )

    def __call__(self, epoch: int) -> float:
        return 1.0 - max(0, epoch + self.epoch_count - self.n_epochs) / float(self.n_epochs_decay + 1)


def linear_decay_scheduler(
    optimizer: torch.optim.Optimizer, n_epochs: int = 100, n_epochs_decay: int = 100, epoch_count: int = 1
) -> LambdaLR:
    """A ``LambdaLR`` with ``LinearDecay(n_epochs, n_epochs_decay, epoch_count)``; step it once per epoch.

    Example:
        >>> opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
        >>> scheduler = linear_decay_scheduler(opt, n_epochs=2, n_epochs_decay=3)
        >>> lrs = []
        >>> for _ in range(5):
        ...     lrs.append(opt.param_groups[0]["lr"]); opt.step(); scheduler.step()
        >>> lrs
        [1.0, 1.0, 0.75, 0.5, 0.25]
    """
    return LambdaLR(optimizer, lr_lambda=LinearDecay(n_epochs, n_epochs_decay, epoch_count))
