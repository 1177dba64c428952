"""What the Wasserstein GANs share: the critic-iteration schedule and weight clipping.

A WGAN trains its critic several times per generator update, each critic iteration on a new
batch (Arjovsky et al. 2017, ``martinarjovsky/WassersteinGAN`` ``main.py``; Gulrajani et al. 2017,
``igul222/improved_wgan_training``). In ``zoo train`` one step is one batch, so one ``train_step``
is one critic iteration, followed by the generator's update when the schedule says it is due:
``CriticSchedule`` counts both and survives a resume through the step's ``extra_state``.

``CriticTrainingStep`` is the base of such steps: it holds the schedule and the generator's latest
loss (logged on every step) and checkpoints both.

``clip_parameters_`` is WGAN's Lipschitz constraint: every parameter of the critic clamped to
``[lower, upper]`` in place (``main.py``: ``p.data.clamp_(opt.clamp_lower, opt.clamp_upper)``
before each critic iteration).

Example:
    >>> schedule = CriticSchedule(n_critic=5, warmup_n_critic=100, warmup_generator_iters=25, warmup_every=500)
    >>> schedule.critic_iters_now()  # the first 25 generator iterations train the critic 100 times
    100
    >>> sum(schedule.critic_step_done() for _ in range(100)), schedule.generator_iters
    (1, 1)
"""

from __future__ import annotations

import dataclasses
from typing import Any

import torch
from torch import nn

from .step import TrainingStep

__all__ = ["CriticSchedule", "CriticTrainingStep", "clip_parameters_"]


@dataclasses.dataclass
class CriticSchedule:
    """How many critic iterations precede each generator iteration, and where a run is in that cycle.

    ``n_critic`` critic iterations per generator iteration, except that the first
    ``warmup_generator_iters`` generator iterations, and every ``warmup_every``-th one (0: never),
    have ``warmup_n_critic`` (WGAN's ``main.py``: ``if gen_iterations < 25 or gen_iterations % 500
    == 0: Diters = 100``). WGAN-GP has no warm-up (``warmup_generator_iters=0, warmup_every=0``).

    ``critic_step_done()`` counts a critic iteration and says whether the generator updates now
    (it then counts that generator iteration too); ``state()`` / ``load_state()`` are JSON for
    checkpoints.

    Example:
        >>> s = CriticSchedule(n_critic=5)
        >>> [s.critic_step_done() for _ in range(6)]
        [False, False, False, False, True, False]
    """

    n_critic: int = 5
    warmup_n_critic: int = 100
    warmup_generator_iters: int = 0
    warmup_every: int = 0
    #: critic iterations since the last generator iteration
    critic_iters: int = 0
    #: generator iterations so far (the reference's ``gen_iterations``)
    generator_iters: int = 0

    def critic_iters_now(self) -> int:
        """The critic iterations that precede the next generator iteration.

        Example:
            >>> schedule = CriticSchedule(n_critic=5, warmup_generator_iters=25, warmup_every=500, generator_iters=30)
            >>> schedule.critic_iters_now()
            5
        """
        g = self.generator_iters
        warm = g < self.warmup_generator_iters or (self.warmup_every > 0 and g % self.warmup_every == 0)
        return self.warmup_n_critic if warm else self.n_critic

    def critic_step_done(self) -> bool:
        """Count one critic iteration; ``True`` when the generator updates now (and count that update).

        Example:
            >>> CriticSchedule(n_critic=1).critic_step_done()
            True
        """
        self.critic_iters += 1
        if self.critic_iters < self.critic_iters_now():
            return False
        self.critic_iters = 0
        self.generator_iters += 1
        return True

    def state(self) -> dict[str, int]:
        """The counters, for a checkpoint's extra state.

        Example:
            >>> CriticSchedule().state()
            {'critic_iters': 0, 'generator_iters': 0}
        """
        return {"critic_iters": self.critic_iters, "generator_iters": self.generator_iters}

    def load_state(self, state: dict[str, Any]) -> None:
        """Restore what ``state()`` returned (missing keys keep their value).

        Example:
            >>> s = CriticSchedule(); s.load_state({"generator_iters": 7}); s.generator_iters
            7
        """
        self.critic_iters = int(state.get("critic_iters", self.critic_iters))
        self.generator_iters = int(state.get("generator_iters", self.generator_iters))


@torch.no_grad()
def clip_parameters_(module: nn.Module, lower: float = -0.01, upper: float = 0.01) -> None:
    """Clamp every parameter of ``module`` to ``[lower, upper]`` in place (WGAN's weight clipping).

    Buffers (BatchNorm's running statistics) are not parameters and stay as they are, as in the reference.

    Example:
        >>> critic = nn.Linear(4, 1)
        >>> clip_parameters_(critic, -0.01, 0.01)
        >>> float(critic.weight.abs().max()) <= 0.01
        True
    """
    for p in module.parameters():
        p.clamp_(lower, upper)


class CriticTrainingStep(TrainingStep):
    """Base of the WGAN-style steps: one critic iteration per ``train_step``, the generator when due.

    A subclass builds ``self.schedule`` in its ``__init__`` and, in ``train_step``, calls
    ``self.schedule.critic_step_done()`` after its critic update and ``generator_updated(loss)``
    after a generator update; ``logged_generator_loss(fallback)`` is what to log as ``loss_G`` on
    every step: the latest generator update's loss (``fallback`` before the first one). The
    schedule's counters and that loss survive a resume.

    Example:
        >>> class MyStep(CriticTrainingStep):
        ...     def __init__(self, model, train_config, world_size=1):
        ...         super().__init__(model, train_config, world_size)
        ...         self.schedule = CriticSchedule(n_critic=5)
    """

    schedule: CriticSchedule
    last_generator_loss: torch.Tensor | None = None

    def generator_updated(self, loss: torch.Tensor) -> None:
        """Record the loss of the generator update just done."""
        self.last_generator_loss = loss.detach()

    def logged_generator_loss(self, fallback: torch.Tensor) -> torch.Tensor:
        """The latest generator update's loss, or ``fallback`` before the first one."""
        return fallback if self.last_generator_loss is None else self.last_generator_loss

    def extra_state(self) -> dict[str, Any]:
        state: dict[str, Any] = dict(self.schedule.state())
        if self.last_generator_loss is not None:
            state["last_generator_loss"] = float(self.last_generator_loss)
        return state

    def load_extra_state(self, state: dict[str, Any]) -> None:
        self.schedule.load_state(state)
        if "last_generator_loss" in state:
            self.last_generator_loss = torch.tensor(float(state["last_generator_loss"]), device=self.device)
