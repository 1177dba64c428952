"""Task ``text-embedding``: one vector per text."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    import torch

__all__ = ["TextEmbedding"]


@runtime_checkable
class TextEmbedding(Protocol):
    """The contract of a text encoder (``zoo_core.modeling.TextEmbedder``); runs under ``torch.inference_mode()``.

    Example:
        >>> encoder = zoo.load("stackgan-text.mnist")
        >>> encoder.encode_text(["a thin upright two", "a wide zero"]).shape
        torch.Size([2, 1024])
    """

    def encode_text(self, texts: str | Sequence[str]) -> torch.Tensor:
        """Embeddings ``(n, dim)`` of ``texts`` (a string is one text)."""
        ...
