"""Reading a foreign checkpoint without running code from it: the one place where zoo opens a pickle.

A checkpoint written by another codebase (a ``.pth`` / ``.bin`` / ``.pth.tar``) is read with
``torch.load(weights_only=True)``, which unpickles tensors and plain containers only and refuses
anything that would run code; a refused pickle is reported with the global it asked for.

Example:
    >>> read_checkpoint("latest_net_G_A.pth")["model.1.weight"].shape
    torch.Size([64, 3, 7, 7])
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .._errors import ZooError, foreign_reason

__all__ = ["read_checkpoint"]


_PICKLE_SCAN_LIMIT = 64 << 20  # bytes of a pickle scanned for the global it refused


def read_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The contents of a foreign checkpoint, without running any code from it.

    Every way a file can fail to be a checkpoint (not a pickle, an HTML page, cut short, a pickle
    that would import and call code) raises ``ZooError`` in one sentence: this is the one place
    where zoo opens a pickle, through ``torch.load(weights_only=True)``.
    """
    path = Path(path)
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        try:
            return load_file(path)
        except Exception as exc:  # SafetensorError, OSError ...: whatever it is, the file is unusable
            raise ZooError(
                f"{path} is not a readable safetensors file ({foreign_reason(exc)}); "
                "check that it is the file its authors published, or download it again."
            ) from None
    import pickle
    import warnings

    import torch

    try:
        with warnings.catch_warnings():  # torch warns about pickle protocols on stderr: one sentence is enough
            warnings.simplefilter("ignore")
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # UnpicklingError, RuntimeError (zip), EOFError, KeyError, ValueError, OSError ...
        refused = _refused_global(path, exc) if isinstance(exc, pickle.UnpicklingError) else None
        if refused:
            raise ZooError(
                f"{path} was refused: unpickling it would run code (it imports and calls {refused}), and zoo never "
                "runs code from a checkpoint; ask its authors for a plain state dict of tensors or safetensors."
            ) from None
        raise ZooError(
            f"{path} is not a readable PyTorch checkpoint ({_not_a_checkpoint(path, exc)}); "
            "check that it is the file its authors published, or download it again."
        ) from None


def _not_a_checkpoint(path: Path, exc: BaseException) -> str:
    """Why ``torch.load`` failed, in words: text (an HTML page?) or other bytes, else what torch said."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(512)
    except OSError:
        return foreign_reason(exc)
    if head[:1] == b"\x80" or head[:2] == b"PK":  # a pickle, or a zip as torch.save writes
        return foreign_reason(exc)
    if not head:
        return "the file is empty"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return "its bytes are neither a torch.save archive nor a pickle"
    if "<html" in text.lower() or "<!doctype" in text.lower():
        return "it is an HTML page, not a torch.save archive or a pickle"
    return "it is text, not a torch.save archive or a pickle"


def _refused_global(path: Path, exc: BaseException) -> str | None:
    """The global (``module.name``) that a refused pickle asks for, found without executing it: named by torch,
    or read off the pickle's GLOBAL / STACK_GLOBAL opcodes (torch refuses some protocols before reaching one)."""
    import re

    named = re.search(r"GLOBAL ([\w.]+)", str(exc))
    if named:
        return named.group(1)
    try:
        data = _pickle_bytes(path)
    except Exception:  # a file that cannot even be scanned: no global to name
        return None
    return _first_unsafe_global(data)


def _pickle_bytes(path: Path) -> bytes:
    """The pickle of a checkpoint: ``*/data.pkl`` of a torch.save zip, else the file itself (both capped)."""
    import zipfile

    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if info.filename.endswith("data.pkl"):
                    with archive.open(info) as handle:
                        return handle.read(_PICKLE_SCAN_LIMIT)
        return b""
    with open(path, "rb") as handle:
        return handle.read(_PICKLE_SCAN_LIMIT)


def _first_unsafe_global(data: bytes) -> str | None:
    """The first global a pickle imports that ``torch.load(weights_only=True)`` does not allow (nothing runs)."""
    import io
    import pickletools

    try:
        from torch._weights_only_unpickler import _get_allowed_globals

        allowed = set(_get_allowed_globals())
    except Exception:  # a private API: without it, any global outside torch counts
        allowed = set()
    strings: list[str] = []
    try:
        for opcode, arg, _ in pickletools.genops(io.BytesIO(data)):
            if opcode.name == "GLOBAL" and isinstance(arg, str):
                module, _, name = arg.partition(" ")
            elif opcode.name == "STACK_GLOBAL" and len(strings) >= 2:
                module, name = strings[-2], strings[-1]
            else:
                if isinstance(arg, str):
                    strings.append(arg)
                continue
            full = f"{module}.{name}"
            if not (full in allowed if allowed else module.split(".")[0] == "torch"):
                return full
    except Exception:  # malformed before any refused global
        return None
    return None
