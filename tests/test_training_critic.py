"""zoo_core.training.critic: the critic-iteration schedule and weight clipping of zoo-wgan and zoo-wgan-gp."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from zoo_core.training.critic import CriticSchedule, clip_parameters_


def test_without_warm_up_the_generator_follows_every_n_critic_iterations() -> None:
    schedule = CriticSchedule(n_critic=3)
    assert [schedule.critic_step_done() for _ in range(7)] == [False, False, True, False, False, True, False]
    assert schedule.state() == {"critic_iters": 1, "generator_iters": 2}


@pytest.mark.parametrize(
    ("generator_iters", "expected"), [(0, 100), (24, 100), (25, 5), (499, 5), (500, 100), (501, 5)]
)
def test_the_warm_up_rule(generator_iters: int, expected: int) -> None:
    schedule = CriticSchedule(5, 100, warmup_generator_iters=25, warmup_every=500, generator_iters=generator_iters)
    assert schedule.critic_iters_now() == expected


def test_state_round_trip() -> None:
    schedule = CriticSchedule(n_critic=5)
    for _ in range(12):
        schedule.critic_step_done()
    other = CriticSchedule(n_critic=5)
    other.load_state(schedule.state())
    assert other == schedule


def test_clipping_clamps_parameters_not_buffers() -> None:
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    net[1].running_var.fill_(3.0)
    with torch.no_grad():
        net[0].weight.mul_(100)
    clip_parameters_(net, -0.01, 0.01)
    assert all(float(p.detach().abs().max()) <= 0.01 for p in net.parameters())
    assert float(net[1].weight.detach().min()) == pytest.approx(0.01)  # BatchNorm's weight 1 clamped too
    assert torch.equal(net[1].running_var, torch.full((4,), 3.0))
