"""Data order: one seeded permutation per epoch, cut into global batches, each sharded over processes.

Why the order never touches the global random generator: a resumed run must see the batches
the interrupted one would have seen, whatever the model drew from the generator meanwhile.
Epoch ``e``'s permutation comes from its own ``torch.Generator`` seeded from ``(seed, e)``
(through a hash, so that ``(seed, e)`` and ``(seed + 1, e - 1)`` do not collide as ``seed + e``
would), and a resumed run skips the batches its checkpoint says are done; nothing is replayed.

Why not ``torch.utils.data.DistributedSampler``: it interleaves a seeded permutation over ranks
(rank r takes every N-th index), which does give "N processes with batch B / N = one process
with batch B" for full batches; but it pads the dataset to a multiple of N by repeating
indices (the padded samples are trained twice, so N processes differ from one process), has
no way to start in the middle of an epoch, and would make the one-process run a different
code path. Here the same function cuts the global batches for any N, and rank r takes rows
``r::N`` of each (the same interleaving as DistributedSampler, without padding). Only a last
batch smaller than N (which would leave a process without data) is dropped.

Example:
    >>> batches = global_batches(4500, 128, seed=0, epoch=3)
    >>> len(batches), len(batches[-1])
    (36, 20)
    >>> shard(batches[0], rank=1, world_size=2).shape
    torch.Size([64])
"""

from __future__ import annotations

import hashlib
from typing import Any

import torch

from .._errors import ZooError

__all__ = ["BatchFetcher", "batches_per_epoch", "epoch_permutation", "epoch_seed", "global_batches", "shard"]


def epoch_seed(seed: int, epoch: int) -> int:
    """A 63-bit seed for epoch ``epoch`` of a run seeded with ``seed``."""
    digest = hashlib.sha256(f"zoo-train:{seed}:{epoch}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & ((1 << 63) - 1)


def epoch_permutation(n: int, seed: int, epoch: int) -> torch.Tensor:
    """The order of the ``n`` training items in epoch ``epoch``."""
    return torch.randperm(n, generator=torch.Generator().manual_seed(epoch_seed(seed, epoch)))


def batches_per_epoch(n: int, batch_size: int, world_size: int = 1) -> int:
    """How many global batches one epoch has (a last batch smaller than ``world_size`` is dropped)."""
    full, rest = divmod(n, batch_size)
    return full + (1 if rest >= world_size else 0)


def global_batches(n: int, batch_size: int, seed: int, epoch: int, world_size: int = 1) -> list[torch.Tensor]:
    """The global batches (dataset indices) of one epoch, in order."""
    if n < world_size:
        raise ZooError(f"The dataset has {n} item(s), fewer than the {world_size} processes training on it.")
    batches = list(epoch_permutation(n, seed, epoch).split(batch_size))
    return batches[: batches_per_epoch(n, batch_size, world_size)]


def shard(batch: torch.Tensor, rank: int, world_size: int) -> torch.Tensor:
    """Rank ``rank``'s rows of a global batch: every ``world_size``-th index, starting at ``rank``."""
    return batch if world_size == 1 else batch[rank::world_size]


class BatchFetcher:
    """Turns a list of indices into a batch dict (``"image"``, ``"label"`` ...) on a device.

    Datasets that keep their images as one uint8 tensor (``zoo_core.data.TensorImageDataset``)
    are sliced directly, as a hand-written loop would; a dataset with ``__getitems__`` is asked
    for the whole batch; any other dataset is read item by item and collated. With
    ``num_workers > 0`` a ``DataLoader`` reads ahead in worker processes: its base seed comes
    from a generator of its own, so the global generator (and exact resume) are unaffected, but
    augmentations that draw random numbers in workers are then not replayed exactly on resume.
    """

    def __init__(self, dataset: Any, device: torch.device, num_workers: int = 0) -> None:
        from ..data import TensorImageDataset

        self.dataset = dataset
        self.device = device
        self.num_workers = num_workers
        self.tensor_images = (
            isinstance(dataset, TensorImageDataset)
            and type(dataset).__getitem__ is TensorImageDataset.__getitem__
            and isinstance(getattr(dataset, "images", None), torch.Tensor)
        )
        self.non_blocking = device.type == "cuda"

    def _to_device(self, batch: dict[str, Any]) -> dict[str, Any]:
        if self.device.type == "cpu":
            return batch
        move = self.non_blocking
        return {k: v.to(self.device, non_blocking=move) if torch.is_tensor(v) else v for k, v in batch.items()}

    def fetch(self, indices: torch.Tensor) -> dict[str, Any]:
        """One batch (no read-ahead)."""
        if self.tensor_images:
            ds = self.dataset
            batch: dict[str, Any] = {"image": ds.images[indices].float().div_(255.0)}
            if ds.labels is not None:
                batch["label"] = ds.labels[indices]
            return self._to_device(batch)
        from torch.utils.data import default_collate

        index_list = indices.tolist()
        getitems = getattr(self.dataset, "__getitems__", None)
        items = getitems(index_list) if callable(getitems) else [self.dataset[i] for i in index_list]
        return self._to_device(default_collate(items))

    def iterate(self, index_batches: list[torch.Tensor], seed: int) -> Any:
        """Batches for a list of index batches, read ahead by workers when ``num_workers > 0``."""
        if self.num_workers <= 0 or self.tensor_images:
            for indices in index_batches:
                yield self.fetch(indices)
            return
        from torch.utils.data import DataLoader

        loader = DataLoader(
            self.dataset,
            batch_sampler=[b.tolist() for b in index_batches],
            num_workers=self.num_workers,
            generator=torch.Generator().manual_seed(seed),
            pin_memory=self.device.type == "cuda",
        )
        for batch in loader:
            yield self._to_device(batch)
