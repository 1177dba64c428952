"""What a user sees while training: a progress bar, ``log.jsonl``, TensorBoard events, messages.

- ``OUT/log.jsonl``: one JSON object per logged step (``--log-every``), flushed as it is
  written, e.g. ``{"step": 40, "epoch": 1, "loss": 163.2, "lr/adam": 0.001,
  "images_per_s": 5120.0, "elapsed_s": 1.1, "time": "2026-...Z"}``. Losses are means over the
  steps since the previous line (over every process when distributed). On resume the lines
  past the checkpoint are dropped, so the file reads as one uninterrupted run.
- ``OUT/tensorboard/``: the same numbers as TensorBoard scalars, when ``tensorboard`` is
  installed (``pip install tensorboard``); nothing otherwise.
- A tqdm progress bar on stderr with the latest losses and images / s (on a terminal).

Only rank 0 creates a ``RunLog``; the other processes get a ``NullLog``.

Example:
    >>> log = RunLog("runs/vae", total=4680, initial=0)
    >>> log.record({"step": 10, "loss": 180.5, "images_per_s": 5000.0})
    >>> log.close()
"""

from __future__ import annotations

import datetime
import json
import os
import sys
from pathlib import Path
from typing import Any

__all__ = ["LOG_NAME", "NullLog", "RunLog", "truncate_log"]

LOG_NAME = "log.jsonl"


def truncate_log(path: str | os.PathLike[str], step: int) -> None:
    """Drop the lines of ``path`` logged after ``step`` (a run resumed from that step logs them again)."""
    from .._atomic import atomic_write_text

    path = Path(path)
    if not path.is_file():
        return
    kept = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut short by a kill
        if isinstance(record, dict) and record.get("step", 0) <= step:
            kept.append(line)
    atomic_write_text(path, "".join(line + "\n" for line in kept))


def _tensorboard_writer(folder: Path) -> Any:
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # tensorboard is optional
        return None
    return SummaryWriter(log_dir=str(folder))


class NullLog:
    """The log of processes other than rank 0: it does nothing."""

    tensorboard = None

    def record(self, values: dict[str, Any]) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass

    def message(self, text: str) -> None:
        pass

    def close(self) -> None:
        pass


class RunLog(NullLog):
    """JSONL + TensorBoard + progress bar of one run (rank 0)."""

    def __init__(
        self,
        out: str | os.PathLike[str],
        *,
        total: int,
        initial: int = 0,
        progress: bool | None = None,
        desc: str = "train",
    ) -> None:
        from tqdm.auto import tqdm

        self.out = Path(out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.path = self.out / LOG_NAME
        self._file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 (open for the whole run)
        self.tensorboard = _tensorboard_writer(self.out / "tensorboard")
        disable = None if progress is None else not progress  # None: only on a terminal
        self.bar = tqdm(
            total=total, initial=initial, desc=desc, unit="step", disable=disable, dynamic_ncols=True, file=sys.stderr
        )

    def record(self, values: dict[str, Any]) -> None:
        """Append one line to the JSONL log (and TensorBoard); show the losses on the bar."""
        stamp = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
        line = {**values, "time": stamp}
        self._file.write(json.dumps(line) + "\n")
        self._file.flush()
        step = int(values.get("step", 0))
        if self.tensorboard is not None:
            for key, value in values.items():
                if key not in ("step", "time") and isinstance(value, (int, float)):
                    self.tensorboard.add_scalar(key, value, step)
        shown = {k: _short(v) for k, v in values.items() if k not in ("step", "epoch", "elapsed_s", "time")}
        self.bar.set_postfix(shown, refresh=False)

    def advance(self, n: int = 1) -> None:
        self.bar.update(n)

    def message(self, text: str) -> None:
        """A line on stderr that does not break the progress bar."""
        self.bar.write(text, file=sys.stderr)

    def close(self) -> None:
        self.bar.close()
        self._file.close()
        if self.tensorboard is not None:
            self.tensorboard.flush()
            self.tensorboard.close()


def _short(value: Any) -> Any:
    if isinstance(value, float):
        return f"{value:.4g}"
    return value
