"""Foreign checkpoints: read without running code, unwrapped by one reader, mapped by registered converters.

- ``reader``: ``read_checkpoint`` (``torch.load(weights_only=True)``; the one place a pickle is opened).
- ``state_dict``: ``plain_state_dict`` (the network's tensors, whatever wrapped them) and
  ``add_batch_counters`` (BatchNorm layers saved before PyTorch 0.4), for every plugin's converter.
- ``converters``: ``converter_spec`` and ``convert_state`` (a registered converter applied to a file).

``zoo convert`` (a converted checkpoint written as a Hub-layout folder) is ``zoo_core._factory.convert_checkpoint``;
``zoo.load`` of upstream pickled weights converts them through ``zoo_core.hub.weights``.
Importing this package does not import torch.

Example:
    >>> from zoo_core.checkpoints import plain_state_dict, read_checkpoint
    >>> state = plain_state_dict(read_checkpoint("netG.pth"), what="DCGAN", fix="convert the file its code saves")
"""

from __future__ import annotations

from .converters import convert_state, converter_spec
from .reader import read_checkpoint
from .state_dict import add_batch_counters, plain_state_dict

__all__ = ["add_batch_counters", "convert_state", "converter_spec", "plain_state_dict", "read_checkpoint"]
