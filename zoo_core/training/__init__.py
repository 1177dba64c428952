"""``zoo train``: one training loop for every architecture; plugins write only their paper's step.

- ``TrainingStep`` (``step.py``): the base class a plugin subclasses (networks, optimisers,
  schedules, what one step does); its architecture names it with
  ``Architecture(..., training_step="my_plugin.training:MyStep")``.
- ``TrainConfig`` / ``train`` / ``Trainer`` (``loop.py``): the loop, with exact resume,
  DistributedDataParallel under ``torchrun``, bf16 autocast and ``torch.compile``.
- ``checkpoint.py`` (safetensors + JSON, atomic), ``distributed.py``, ``batches.py`` (data
  order and sharding), ``logging.py`` (JSONL, TensorBoard, progress), ``finish.py`` (final
  metrics, Hub folder, registry entry).

The names are imported on first use, so that ``zoo registry add`` (which only needs
``finish.register_run``) does not import torch.

Example:
    >>> from zoo_core.training import train
    >>> result = train("vae", "mnist5k", "runs/vae", epochs=130, seed=1)
    >>> result.model_dir  # ready for `zoo push` and `zoo registry add`
    PosixPath('runs/vae/model')
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .loop import TrainConfig, Trainer, TrainResult, train
    from .step import InputSpec, StepParams, TrainingStep

__all__ = [
    "DIGIT_DATASETS",
    "InputSpec",
    "StepParams",
    "TrainConfig",
    "TrainResult",
    "Trainer",
    "TrainingStep",
    "train",
    "trains_on_digits",
]

_LAZY = {
    "TrainConfig": ".loop",
    "TrainResult": ".loop",
    "Trainer": ".loop",
    "train": ".loop",
    "InputSpec": ".step",
    "StepParams": ".step",
    "TrainingStep": ".step",
    "DIGIT_DATASETS": ".step",
    "trains_on_digits": ".step",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module 'zoo_core.training' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
