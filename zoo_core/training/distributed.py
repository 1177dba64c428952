"""DistributedDataParallel under ``torchrun``: process group, devices, rank-0 work, collectives.

``torchrun --nproc_per_node N -m zoo_core train ...`` starts N copies of the ``zoo`` command
with ``WORLD_SIZE``, ``RANK`` and ``LOCAL_RANK`` in their environment; ``Distributed.from_env``
reads them and joins the process group (``gloo`` on the CPU, ``nccl`` on CUDA). Without those
variables (or with ``WORLD_SIZE=1``) everything here is a no-op and no process group is made.

Rules the engine follows: only rank 0 logs, draws sample grids, writes checkpoints, evaluates
and writes the Hub folder; every rank takes part in the collectives (gathering the random
generators for a checkpoint, averaging logged numbers) and waits at a barrier after each
checkpoint, so that no rank runs ahead of a checkpoint it might be resumed from.

Example:
    >>> dist = Distributed.from_env(device=None)
    >>> dist.world_size, dist.rank, dist.device
    (1, 0, device(type='cpu'))
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch

from .._errors import ZooError

__all__ = ["Distributed"]


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except ValueError:
        raise ZooError(f"The environment variable {name}={value!r} is not an integer; torchrun sets it.") from None


def _pick_device(requested: str | None, local_rank: int, distributed: bool) -> torch.device:
    if requested:
        from ..modeling import check_device

        device = check_device(requested)  # "--device foo" or a GPU this machine lacks: one sentence
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ZooError(f"--device {requested} asks for CUDA, but torch sees no CUDA GPU here.")
        if device.type == "cuda" and distributed and device.index is None:
            device = torch.device("cuda", local_rank)
        return device
    if torch.cuda.is_available():
        return torch.device("cuda", local_rank if distributed else torch.cuda.current_device())
    return torch.device("cpu")


_CPU = torch.device("cpu")


@dataclass
class Distributed:
    """This process's place in the run: world size, rank, local rank, device and backend."""

    world_size: int = 1
    rank: int = 0
    local_rank: int = 0
    device: torch.device = _CPU
    backend: str = ""

    @classmethod
    def from_env(cls, device: str | None) -> Distributed:
        """Join the process group when ``torchrun`` started this process, else a single process."""
        world_size = _env_int("WORLD_SIZE", 1)
        rank, local_rank = _env_int("RANK", 0), _env_int("LOCAL_RANK", 0)
        distributed = world_size > 1
        picked = _pick_device(device, local_rank, distributed)
        if not distributed:
            return cls(device=picked)
        import torch.distributed as dist

        if not dist.is_available():
            raise ZooError("This torch build has no torch.distributed; train with one process.")
        backend = "nccl" if picked.type == "cuda" else "gloo"
        if picked.type == "cuda":
            torch.cuda.set_device(picked)
        if not dist.is_initialized():
            dist.init_process_group(backend=backend)
        return cls(world_size, rank, local_rank, picked, backend)

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def barrier(self) -> None:
        if self.enabled:
            import torch.distributed as dist

            if self.backend == "nccl":
                dist.barrier(device_ids=[self.device.index])
            else:
                dist.barrier()

    def _comm_device(self) -> torch.device:
        return self.device if self.backend == "nccl" else torch.device("cpu")

    def all_gather_bytes(self, tensors: dict[str, torch.Tensor]) -> list[dict[str, torch.Tensor]]:
        """Every rank's copy of ``tensors`` (uint8, same keys and sizes on every rank), in rank order."""
        if not self.enabled:
            return [tensors]
        import torch.distributed as dist

        gathered: list[dict[str, torch.Tensor]] = [{} for _ in range(self.world_size)]
        for key in sorted(tensors):
            local = tensors[key].to(self._comm_device())
            parts = [torch.empty_like(local) for _ in range(self.world_size)]
            dist.all_gather(parts, local)
            for r, part in enumerate(parts):
                gathered[r][key] = part.cpu()
        return gathered

    def mean(self, values: dict[str, float]) -> dict[str, float]:
        """The mean over ranks of each number (every rank passes the same keys)."""
        if not self.enabled or not values:
            return values
        import torch.distributed as dist

        keys = sorted(values)
        packed = torch.tensor([float(values[k]) for k in keys], dtype=torch.float64, device=self._comm_device())
        dist.all_reduce(packed)
        packed /= self.world_size
        return dict(zip(keys, packed.cpu().tolist(), strict=True))

    def wrap(self, module: torch.nn.Module, find_unused_parameters: bool = False) -> torch.nn.Module:
        """``module`` in DistributedDataParallel (as it is with one process)."""
        if not self.enabled or not any(p.requires_grad for p in module.parameters()):
            return module
        from torch.nn.parallel import DistributedDataParallel

        device_ids = [self.device.index] if self.device.type == "cuda" else None
        return DistributedDataParallel(module, device_ids=device_ids, find_unused_parameters=find_unused_parameters)

    def close(self) -> None:
        """Leave the process group (at the end of a run, also after a failure)."""
        if self.enabled:
            import torch.distributed as dist

            if dist.is_initialized():
                dist.destroy_process_group()
