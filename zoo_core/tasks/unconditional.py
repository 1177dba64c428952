"""Task ``unconditional``: draw images from nothing but noise."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    import torch

__all__ = ["Unconditional"]


@runtime_checkable
class Unconditional(Protocol):
    """The contract of an unconditional image generator (``zoo_core.modeling.UnconditionalGenerator``).

    A plugin implements ``sample_batch``; the base class gives ``sample`` (seeding through
    ``seeded_generator``, batches of ``sample_batch_size``, a progress bar, values clamped to [0, 1]).
    Both run in eval mode under ``torch.inference_mode()`` and leave the module's mode as it was.

    Example:
        >>> class Noise(UnconditionalGenerator, ZooModel):
        ...     architecture, config_class = "noise", NoiseConfig
        ...     def sample_batch(self, n, generator):
        ...         return torch.rand(n, 1, 8, 8, generator=generator)
        >>> Noise(NoiseConfig()).sample(4, seed=0).shape
        torch.Size([4, 1, 8, 8])
    """

    def sample(self, n: int, *, seed: int | None = None, progress: bool = False) -> torch.Tensor:
        """``n`` images ``(n, C, H, W)``, floats in [0, 1]; the same seed gives the same images (``None``: random)."""
        ...

    def sample_batch(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """``n`` images drawn with noise from ``generator`` (a CPU generator, for reproducibility); ``sample``
        calls it once per batch, and ``zoo eval`` calls it to draw one seeded stream in batches."""
        ...
