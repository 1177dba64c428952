"""The two domain transforms of the paper's digit tasks (torch only), shared by the datasets and the metric.

- ``edges``: ``dilate(x, 3x3) - x``, the edge image of mingyuliutw/CoGAN
  (``cogan/tools/prepare_mnist.edge.cogan.py`` and ``cogan_pytorch/src/dataset_mnistedge.py``:
  ``cv2.dilate(img, np.ones((3, 3)), iterations=1) - img``). ``cv2.dilate`` pads the border with
  the lowest value, so a 3x3 max pool with -inf padding is the same operation.
- ``negative``: ``1 - x`` (255 - x on uint8 digits), the paper's second digit task.

Example:
    >>> x = torch.zeros(1, 1, 5, 5); x[0, 0, 2, 2] = 1.0
    >>> int(apply_pair_transform(x, "edges").sum()), int(apply_pair_transform(x, "negative").sum())
    (8, 24)
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from zoo_core import ZooError

__all__ = ["PAIRS", "apply_pair_transform", "check_pair", "dilate_edges", "negative"]

#: the domain pairs of the paper's digit experiments: digits and their edges, digits and their negatives
PAIRS = ("edges", "negative")


def check_pair(pair: str) -> str:
    """``pair`` when it is one of ``PAIRS``, else one sentence naming them.

    Example:
        >>> check_pair("edges")
        'edges'
    """
    if pair not in PAIRS:
        raise ZooError(f"The CoGAN pair must be one of {', '.join(PAIRS)}, not {pair!r}.")
    return pair


def dilate_edges(x: torch.Tensor) -> torch.Tensor:
    """``dilate(x) - x`` with a 3x3 square, per image and channel; ``x`` is ``(N, C, H, W)`` (float or uint8).

    Example:
        >>> dilate_edges(torch.eye(3)[None, None]).tolist()
        [[[[0.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 0.0]]]]
    """
    if x.dim() != 4:
        raise ZooError(f"Edge images are made from (N, C, H, W) batches, not {tuple(x.shape)}.")
    dilated = F.max_pool2d(x.float(), kernel_size=3, stride=1, padding=1)  # -inf padding, as cv2.dilate
    out = dilated - x.float()
    return out.round().to(x.dtype) if x.dtype == torch.uint8 else out.to(x.dtype)


def negative(x: torch.Tensor) -> torch.Tensor:
    """``1 - x`` for images in [0, 1], ``255 - x`` for uint8 images.

    Example:
        >>> negative(torch.tensor([0.0, 0.25])).tolist()
        [1.0, 0.75]
    """
    return 255 - x if x.dtype == torch.uint8 else 1 - x


def apply_pair_transform(x: torch.Tensor, pair: str) -> torch.Tensor:
    """Map domain-1 digits ``x`` to domain 2 of ``pair`` (``"edges"`` or ``"negative"``).

    Example:
        >>> apply_pair_transform(torch.ones(1, 1, 2, 2), "negative").sum().item()
        0.0
    """
    return dilate_edges(x) if check_pair(pair) == "edges" else negative(x)
