"""Cycle-consistency L1 and per-pixel accuracy against torch's L1 loss and torchmetrics' accuracy."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from skimage import data, filters

from zoo_core import ZooError
from zoo_core.metrics import create_metric
from zoo_core.metrics.translation import CycleL1, PixelAccuracy


def _label_maps() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Real label maps: the camera photo cut into 5 grey-level classes; the prediction is the blurred photo's.

    Returns (target, predicted labels, predicted class scores); the target has a void (255) border.
    """
    photo = data.camera().astype(np.float64) / 255
    edges = np.array([0.2, 0.4, 0.6, 0.8])
    target = torch.from_numpy(np.digitize(photo, edges)).long()
    blurred = filters.gaussian(photo, sigma=2)
    scores = -torch.from_numpy(np.abs(blurred[None] - (np.arange(5)[:, None, None] * 0.2 + 0.1)))  # (5, H, W)
    target[:8], target[:, :8] = 255, 255
    both = torch.stack([target, target.flip(-1)])
    scores = torch.stack([scores, scores.flip(-1)])
    return both, scores.argmax(1), scores


def test_pixel_accuracy_equals_torchmetrics_micro_accuracy_with_ignore_index() -> None:
    from torchmetrics.classification import MulticlassAccuracy

    target, labels, scores = _label_maps()
    reference = MulticlassAccuracy(num_classes=5, average="micro", ignore_index=255)
    metric = create_metric("pixel-accuracy")
    for i in range(2):  # streaming over batches
        reference.update(labels[i : i + 1], target[i : i + 1])
        metric.update(prediction=labels[i : i + 1], target=target[i : i + 1])
    expected = reference.compute().item()
    assert 0.5 < expected < 0.99
    assert metric.compute()["pixel-accuracy"] == pytest.approx(expected, abs=1e-7)
    from_scores = PixelAccuracy()
    from_scores.update(prediction=scores, target=target.unsqueeze(1))  # (N, C, H, W) scores, (N, 1, H, W) target
    assert from_scores.compute()["pixel-accuracy"] == pytest.approx(expected, abs=1e-7)


def test_pixel_accuracy_known_values() -> None:
    metric = PixelAccuracy()
    metric.update(prediction=torch.tensor([[0, 1], [2, 2]]), target=torch.tensor([[0, 1], [2, 255]]))
    assert metric.compute() == {"pixel-accuracy": 1.0}
    counted = PixelAccuracy(ignore_index=None)
    counted.update(prediction=torch.tensor([[0, 1], [2, 2]]), target=torch.tensor([[0, 1], [2, 255]]))
    assert counted.compute() == {"pixel-accuracy": 0.75}
    with pytest.raises(ZooError, match="no labelled pixel"):
        empty = PixelAccuracy()
        empty.update(prediction=torch.zeros(1, 2, 2), target=torch.full((1, 2, 2), 255))
        empty.compute()


def test_cycle_l1_equals_torch_l1_loss_over_batches() -> None:
    photo = torch.from_numpy(data.astronaut()[:128, :128]).permute(2, 0, 1).float() / 255
    images = torch.stack([photo, photo.flip(-1), photo.flip(-2)])
    reconstructions = (images + 0.03 * torch.randn(images.shape, generator=torch.Generator().manual_seed(0))).clamp(
        0, 1
    )
    metric = create_metric("cycle-l1")
    metric.update(image=images[:2], reconstruction=reconstructions[:2])
    metric.update(image=images[2:], reconstruction=reconstructions[2:])
    expected = F.l1_loss(reconstructions.double(), images.double()).item()
    assert metric.compute()["cycle-l1"] == pytest.approx(expected, rel=1e-12)
    assert CycleL1.inputs == ("image", "reconstruction")
