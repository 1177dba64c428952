"""Training checkpoints as safetensors + JSON (never pickle), written atomically.

Layout of ``OUT/checkpoints/``::

    step-0000400/
        model.safetensors        the model's state dict
        optimizers.safetensors   every tensor of every optimiser's state, under "<name>/<path>" keys
        extra.safetensors        the tensors of the step's extra state (image pools, EMA ...)
        rng.safetensors          the random generators of every process, as uint8 tensors
        state.json               the rest: architecture, configs, counters, the JSON skeleton of the
                                 optimiser / scheduler / extra states, and each file's sha256
    latest.json                  {"step": 400, "checkpoint": "step-0000400"}

Every file is written atomically (temporary file, fsync, rename: ``zoo_core._atomic``);
``state.json`` comes after the tensors it describes, then the new checkpoint is read back and
verified, and ``latest.json`` comes last, so an interrupted write leaves ``latest.json`` on the
previous complete checkpoint. Only then are older checkpoints pruned (the last ``keep`` are
kept), so pruning never removes the last checkpoint that can be restored.

``find_resume_checkpoint`` picks what ``--resume`` restores: the checkpoint ``latest.json``
names when it verifies, else (``latest.json`` missing or damaged, or its checkpoint damaged)
the newest ``step-*`` folder whose files match their sha256, saying on stderr what it skipped.

Nested states (``optimizer.state_dict()`` and the like) are split by ``encode`` into a JSON
skeleton and a flat dict of tensors: a tensor becomes ``{"$tensor": key}``, a tuple
``{"$tuple": [...]}``, a dict with non-string keys (an optimiser's parameter ids)
``{"$dict": [[key, value], ...]}``, a non-finite float ``{"$float": "inf"}``; ``decode`` undoes it.

Example:
    >>> skeleton, tensors = encode(optimizer.state_dict(), "adam")
    >>> optimizer.load_state_dict(decode(skeleton, tensors))
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import re
import shutil
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .._atomic import atomic_write_bytes, atomic_write_text
from .._errors import ZooError

__all__ = [
    "CHECKPOINT_FORMAT",
    "Checkpoint",
    "decode",
    "encode",
    "find_resume_checkpoint",
    "get_rng_state",
    "has_checkpoints",
    "latest_checkpoint",
    "load_checkpoint",
    "read_latest_state",
    "read_state",
    "save_checkpoint",
    "set_rng_state",
    "step_folders",
    "verify_checkpoint",
]

CHECKPOINT_FORMAT = "zoo-training-checkpoint"
CHECKPOINT_VERSION = 1
CHECKPOINTS = "checkpoints"
LATEST = "latest.json"
STATE = "state.json"
TENSOR_FILES = ("model.safetensors", "optimizers.safetensors", "extra.safetensors", "rng.safetensors")
_STEP_DIR = re.compile(r"^step-(\d+)$")


# -- nested state <-> JSON skeleton + tensors ------------------------------------------------
def encode(value: Any, prefix: str, tensors: dict[str, torch.Tensor] | None = None) -> Any:
    """Split ``value`` into a JSON skeleton (returned) and its tensors (added to ``tensors``).

    Tensors are keyed by their path under ``prefix``; call with ``tensors`` to collect several
    states into one safetensors file. Raises ZooError for values that are neither tensors nor
    JSON (a lambda in a scheduler, an object): they could only be saved with pickle.
    """
    if tensors is None:
        tensors = {}
    if isinstance(value, torch.Tensor):
        key = prefix
        tensors[key] = value.detach().to("cpu").contiguous().clone()
        return {"$tensor": key}
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"$float": repr(value)}
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return encode(value.item(), prefix, tensors)
    if isinstance(value, tuple):
        return {"$tuple": [encode(v, f"{prefix}/{i}", tensors) for i, v in enumerate(value)]}
    if isinstance(value, list):
        return [encode(v, f"{prefix}/{i}", tensors) for i, v in enumerate(value)]
    if isinstance(value, dict):
        if all(isinstance(k, str) and not k.startswith("$") for k in value):
            return {k: encode(v, f"{prefix}/{k}", tensors) for k, v in value.items()}
        return {
            "$dict": [
                [encode(k, f"{prefix}/key{i}", tensors), encode(v, f"{prefix}/{k}", tensors)]
                for i, (k, v) in enumerate(value.items())
            ]
        }
    raise ZooError(
        f"Cannot checkpoint {prefix!r}: a {type(value).__name__} is neither a tensor nor a JSON value "
        "(zoo checkpoints never use pickle); keep training state to tensors, numbers, strings, lists and dicts."
    )


def decode(value: Any, tensors: dict[str, torch.Tensor]) -> Any:
    """Rebuild what ``encode`` split."""
    if isinstance(value, list):
        return [decode(v, tensors) for v in value]
    if isinstance(value, dict):
        if len(value) == 1:
            ((marker, inner),) = value.items()
            if marker == "$tensor":
                return tensors[inner]
            if marker == "$tuple":
                return tuple(decode(v, tensors) for v in inner)
            if marker == "$dict":
                return {decode(k, tensors): decode(v, tensors) for k, v in inner}
            if marker == "$float":
                return float(inner)
        return {k: decode(v, tensors) for k, v in value.items()}
    return value


# -- random generators ---------------------------------------------------------------------
def _bytes_tensor(data: bytes) -> torch.Tensor:
    return torch.frombuffer(bytearray(data), dtype=torch.uint8).clone()


def get_rng_state(device: torch.device | None = None) -> dict[str, torch.Tensor]:
    """This process's generators (torch CPU, CUDA when used, Python ``random``, NumPy) as uint8 tensors."""
    version, internal, gauss = random.getstate()
    python = struct.pack("<q", version) + np.asarray(internal, dtype=np.uint32).tobytes()
    python += struct.pack("<?d", gauss is not None, gauss or 0.0)
    _, keys, pos, has_gauss, cached = np.random.get_state(legacy=True)
    numpy = np.asarray(keys, dtype=np.uint32).tobytes() + struct.pack("<qqd", pos, has_gauss, cached)
    states = {
        "torch": torch.get_rng_state(),
        "python": _bytes_tensor(python),
        "numpy": _bytes_tensor(numpy),
    }
    if device is not None and device.type == "cuda":
        states["cuda"] = torch.cuda.get_rng_state(device)
    return states


def set_rng_state(states: dict[str, torch.Tensor], device: torch.device | None = None) -> None:
    """Restore what ``get_rng_state`` returned."""
    torch.set_rng_state(states["torch"].to("cpu", torch.uint8))
    python = states["python"].numpy().tobytes()
    (version,) = struct.unpack_from("<q", python, 0)
    internal = tuple(int(x) for x in np.frombuffer(python[8 : 8 + 625 * 4], dtype=np.uint32))
    has_gauss, gauss = struct.unpack_from("<?d", python, 8 + 625 * 4)
    random.setstate((version, internal, gauss if has_gauss else None))
    numpy = states["numpy"].numpy().tobytes()
    keys = np.frombuffer(numpy[: 624 * 4], dtype=np.uint32).copy()
    pos, np_has_gauss, cached = struct.unpack_from("<qqd", numpy, 624 * 4)
    np.random.set_state(("MT19937", keys, pos, np_has_gauss, cached))
    if "cuda" in states and device is not None and device.type == "cuda":
        torch.cuda.set_rng_state(states["cuda"].to("cpu", torch.uint8), device)


# -- writing -------------------------------------------------------------------------------
def _safetensors_bytes(tensors: dict[str, torch.Tensor]) -> bytes:
    from safetensors.torch import save

    return save(tensors, metadata={"format": "pt", "written_by": "zoo train"})


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def checkpoint_dir(out: str | os.PathLike[str]) -> Path:
    return Path(out) / CHECKPOINTS


def save_checkpoint(
    out: str | os.PathLike[str],
    step: int,
    *,
    model: torch.nn.Module,
    optimizers: dict[str, Any],
    schedulers: dict[str, Any],
    extra: dict[str, Any],
    rng: list[dict[str, torch.Tensor]],
    state: dict[str, Any],
    keep: int = 3,
) -> Path:
    """Write checkpoint ``step`` under ``out/checkpoints/``, point ``latest.json`` at it, prune old ones.

    ``rng`` holds one generator state per process (rank order); ``state`` is the JSON rest
    (architecture, configs, counters). Returns the checkpoint folder.

    Example:
        >>> save_checkpoint("runs/vae", 400, model=vae, optimizers={"adam": adam}, schedulers={},
        ...                 extra={}, rng=[get_rng_state()], state={"architecture": "vae"}, keep=3)
        PosixPath('runs/vae/checkpoints/step-0000400')
    """
    root = checkpoint_dir(out)
    folder = root / f"step-{step:07d}"
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob(".*.tmp"):  # temporary files of a write that a kill cut short
        stale.unlink(missing_ok=True)

    optimizer_tensors: dict[str, torch.Tensor] = {}
    optimizer_json = {name: encode(opt.state_dict(), name, optimizer_tensors) for name, opt in optimizers.items()}
    scheduler_tensors: dict[str, torch.Tensor] = {}
    scheduler_json = {
        name: encode(sched.state_dict(), f"scheduler/{name}", scheduler_tensors) for name, sched in schedulers.items()
    }
    extra_tensors: dict[str, torch.Tensor] = {}
    extra_json = encode(extra, "extra", extra_tensors)
    extra_tensors.update(scheduler_tensors)  # schedulers rarely hold tensors; they travel with the extra state
    rng_tensors = {f"rank{r}/{key}": t.contiguous() for r, states in enumerate(rng) for key, t in states.items()}
    model_tensors = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}

    hashes = {}
    for name, tensors in zip(TENSOR_FILES, (model_tensors, optimizer_tensors, extra_tensors, rng_tensors), strict=True):
        data = _safetensors_bytes(tensors)
        hashes[name] = hashlib.sha256(data).hexdigest()
        atomic_write_bytes(folder / name, data)
    document = {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        **state,
        "step": step,
        "optimizers": optimizer_json,
        "schedulers": scheduler_json,
        "extra": extra_json,
        "rng_ranks": len(rng),
        "sha256": hashes,
    }
    atomic_write_text(folder / STATE, json.dumps(document, indent=2) + "\n")
    _fsync_dir(folder)
    verify_checkpoint(folder)  # read back from the disk: nothing points at it, nothing is pruned, unless it verifies
    atomic_write_text(root / LATEST, json.dumps({"step": step, "checkpoint": folder.name}) + "\n")
    _fsync_dir(root)
    _prune(root, keep, current=step)
    return folder


def _prune(root: Path, keep: int, current: int) -> None:
    """Keep the ``keep`` newest checkpoints up to ``current`` (the one just written and verified).

    Folders of later steps (a run resumed from an earlier checkpoint) are left alone: the run
    writes them again when it gets there.
    """
    older = [path for path in step_folders(root.parent) if _step_of(path) <= current]  # newest first
    for path in older[max(keep, 1) :]:
        if _step_of(path) != current:
            shutil.rmtree(path, ignore_errors=True)


# -- reading -------------------------------------------------------------------------------
def _step_of(folder: Path) -> int:
    match = _STEP_DIR.match(folder.name)
    return int(match.group(1)) if match else -1


def step_folders(out: str | os.PathLike[str]) -> list[Path]:
    """The ``step-*`` folders under ``out/checkpoints/``, newest first (complete or not)."""
    root = checkpoint_dir(out)
    if not root.is_dir():
        return []
    folders = [p for p in root.iterdir() if p.is_dir() and _STEP_DIR.match(p.name)]
    return sorted(folders, key=_step_of, reverse=True)


def has_checkpoints(out: str | os.PathLike[str]) -> bool:
    """Whether ``out`` holds a checkpoint folder or a ``latest.json`` (sound or not)."""
    return (checkpoint_dir(out) / LATEST).exists() or bool(step_folders(out))


def latest_checkpoint(out: str | os.PathLike[str]) -> Path | None:
    """The folder ``latest.json`` points at, or ``None`` when ``out`` holds no checkpoint."""
    root = checkpoint_dir(out)
    pointer = root / LATEST
    if not pointer.is_file():
        return None
    try:
        name = json.loads(pointer.read_text(encoding="utf-8"))["checkpoint"]
        if not isinstance(name, str) or not _STEP_DIR.match(name):
            raise TypeError(f"{name!r} is not a checkpoint folder name")
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ZooError(
            f"{pointer} is damaged ({exc}); resume with --resume, which falls back to the newest "
            "checkpoint that verifies."
        ) from exc
    folder = root / name
    if not (folder / STATE).is_file():
        raise ZooError(f"{pointer} points at {folder}, which holds no {STATE}; the checkpoint is incomplete.")
    return folder


def read_state(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """``state.json`` of a checkpoint folder, checked for format and version (no tensors read)."""
    folder = Path(folder)
    path = folder / STATE
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ZooError(f"{folder} holds no {STATE}; the checkpoint is incomplete.") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ZooError(f"{path} cannot be read ({exc}); the checkpoint is damaged.") from exc
    except json.JSONDecodeError as exc:
        raise ZooError(f"{path} is not valid JSON ({exc.msg}); the checkpoint is damaged.") from exc
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise ZooError(f"{path} is not the state of a zoo training checkpoint; the checkpoint is damaged.")
    if state.get("version") != CHECKPOINT_VERSION:
        raise ZooError(
            f"{folder} is not a zoo training checkpoint of version {CHECKPOINT_VERSION} "
            f"(format {state.get('format')!r}, version {state.get('version')!r})."
        )
    if not isinstance(state.get("sha256"), dict) or not isinstance(state.get("step"), int):
        raise ZooError(f"{path} lacks its step or its files' sha256; the checkpoint is damaged.")
    if _STEP_DIR.match(folder.name) and state["step"] != _step_of(folder):
        raise ZooError(f"{path} is the state of step {state['step']}, not of {folder.name}; the checkpoint is damaged.")
    return state


def read_latest_state(out: str | os.PathLike[str]) -> dict[str, Any] | None:
    """``state.json`` of the latest checkpoint (no tensors read), or ``None``."""
    folder = latest_checkpoint(out)
    return None if folder is None else read_state(folder)


def _verified_bytes(folder: Path, state: dict[str, Any]) -> dict[str, bytes]:
    files = {}
    for name in TENSOR_FILES:
        path = folder / name
        try:
            data = path.read_bytes()
        except FileNotFoundError as exc:
            raise ZooError(f"{path} is missing; the checkpoint is incomplete.") from exc
        except OSError as exc:
            raise ZooError(f"{path} cannot be read ({exc.strerror}); the checkpoint is damaged.") from exc
        if hashlib.sha256(data).hexdigest() != state["sha256"].get(name):
            raise ZooError(f"{path} does not match the sha256 in {folder / STATE}; the checkpoint is damaged.")
        files[name] = data
    return files


def verify_checkpoint(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """Check that every file of a checkpoint folder matches the sha256 its ``state.json`` records; returns the state.

    Raises ZooError naming the first file that is missing or differs.
    """
    folder = Path(folder)
    state = read_state(folder)
    _verified_bytes(folder, state)
    return state


def find_resume_checkpoint(out: str | os.PathLike[str], say: Callable[[str], None] | None = None) -> Checkpoint | None:
    """The checkpoint ``--resume`` restores, verified and read; ``None`` when ``out`` holds no checkpoint.

    The one ``latest.json`` names, when it verifies; else (``latest.json`` missing or damaged, or
    its checkpoint damaged) the newest ``step-*`` folder that verifies. ``say`` gets one line for
    each thing skipped. Raises ZooError when checkpoints exist but none verifies.

    Example:
        >>> find_resume_checkpoint("runs/vae", say=print).step
        checkpoints/latest.json is missing; resuming from the newest checkpoint that verifies.
        400
    """
    say = say or (lambda text: None)
    root = checkpoint_dir(out)
    pointer = root / LATEST
    folders = step_folders(out)
    if not folders and not pointer.exists():
        return None
    named: Path | None = None
    try:
        named = latest_checkpoint(out)
    except ZooError:
        say(
            f"{pointer} is damaged or names an incomplete checkpoint; "
            "resuming from the newest checkpoint that verifies."
        )
    else:
        if named is None:
            say(f"{pointer} is missing; resuming from the newest checkpoint that verifies.")
    candidates = ([named] if named is not None else []) + [f for f in folders if f != named]
    newest_problem = None
    for folder in candidates:
        try:
            return load_checkpoint(folder)
        except ZooError as exc:
            newest_problem = newest_problem or str(exc).rstrip(".")
            say(f"Skipping {folder.name}, which does not verify: {exc}")
    if not candidates:
        raise ZooError(
            f"{pointer} names no checkpoint folder that exists; start over with --restart (the old files are "
            "moved aside) or pick another --out."
        )
    raise ZooError(
        f"None of the {len(candidates)} checkpoint(s) in {root} verifies (the newest: {newest_problem}); restore "
        "one from a backup, or start over with --restart (the old files are moved aside)."
    )


class Checkpoint:
    """A checkpoint read back: ``state`` (JSON) and the tensors of each file, verified against their sha256."""

    def __init__(self, folder: Path, state: dict[str, Any], tensors: dict[str, dict[str, torch.Tensor]]) -> None:
        self.folder = folder
        self.state = state
        self.tensors = tensors

    @property
    def step(self) -> int:
        return int(self.state["step"])

    def model_state(self) -> dict[str, torch.Tensor]:
        return self.tensors["model.safetensors"]

    def optimizer_state(self, name: str) -> dict[str, Any]:
        if name not in self.state["optimizers"]:
            raise ZooError(
                f"{self.folder} has no state for the optimiser {name!r} (it has "
                f"{', '.join(self.state['optimizers']) or 'none'}); the training step changed since it was written."
            )
        return decode(self.state["optimizers"][name], self.tensors["optimizers.safetensors"])

    def scheduler_state(self, name: str) -> dict[str, Any] | None:
        value = self.state["schedulers"].get(name)
        return None if value is None else decode(value, self.tensors["extra.safetensors"])

    def extra_state(self) -> dict[str, Any]:
        return decode(self.state["extra"], self.tensors["extra.safetensors"])

    def rng_state(self, rank: int) -> dict[str, torch.Tensor]:
        """Rank ``rank``'s generators (rank 0's when the run had fewer processes)."""
        ranks = int(self.state.get("rng_ranks", 1))
        r = rank if rank < ranks else 0
        prefix = f"rank{r}/"
        rng = self.tensors["rng.safetensors"]
        return {k[len(prefix) :]: v for k, v in rng.items() if k.startswith(prefix)}


def load_checkpoint(folder: str | os.PathLike[str]) -> Checkpoint:
    """Read a checkpoint folder written by ``save_checkpoint``, checking each file's sha256.

    Example:
        >>> ckpt = load_checkpoint(latest_checkpoint("runs/vae"))
        >>> ckpt.step, sorted(ckpt.state["optimizers"])
        (400, ['adam'])
        >>> adam.load_state_dict(ckpt.optimizer_state("adam"))
    """
    from safetensors import SafetensorError
    from safetensors.torch import load

    folder = Path(folder)
    state = read_state(folder)
    tensors = {}
    for name, data in _verified_bytes(folder, state).items():
        try:
            tensors[name] = load(data)
        except (SafetensorError, ValueError) as exc:  # matches its sha256, yet does not parse: written so
            raise ZooError(
                f"{folder / name} is not a valid safetensors file ({exc}); the checkpoint is damaged."
            ) from exc
    return Checkpoint(folder, state, tensors)
