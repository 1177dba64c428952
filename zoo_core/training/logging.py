"""What a user sees while training: a progress bar, ``log.jsonl``, TensorBoard events, messages.

- ``OUT/log.jsonl``: one JSON object per logged step (``--log-every``), flushed as it is
  written, e.g. ``{"step": 40, "epoch": 1, "loss": 163.2, "lr/adam": 0.001,
  "images_per_s": 5120.0, "elapsed_s": 1.1, "time": "2026-...Z"}``. Losses are means over the
  steps since the previous line (over every process when distributed). The file is only ever
  appended to: a run that starts in a folder whose log has lines (``--resume``, or a run that
  died before its first checkpoint) first appends ``{"event": "resume", "from_step": N, ...}``
  and then logs steps N+1... again. ``read_log`` reads it back as one uninterrupted run (the
  lines of steps done again replace the earlier ones); nothing written before is lost.
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

__all__ = ["LOG_NAME", "NullLog", "RunLog", "read_log"]

LOG_NAME = "log.jsonl"


def read_log(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The step records of a ``log.jsonl`` as one uninterrupted run, in step order.

    A ``resume`` event drops the records past its ``from_step`` read so far (those steps were
    done again after it); lines cut short by a kill are skipped.

    Example:
        >>> [r["step"] for r in read_log("runs/vae/log.jsonl")]
        [10, 20, 30]
    """
    records: dict[int, dict[str, Any]] = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut short by a kill
        if not isinstance(record, dict):
            continue
        if record.get("event") == "resume":
            start = int(record.get("from_step", 0))
            records = {step: r for step, r in records.items() if step <= start}
        elif isinstance(record.get("step"), int):
            records[record["step"]] = record
    return [records[step] for step in sorted(records)]


def _tensorboard_writer(folder: Path, purge_step: int | None = None) -> Any:
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # tensorboard is optional
        return None
    options = {} if purge_step is None else {"purge_step": purge_step}
    return SummaryWriter(log_dir=str(folder), **options)


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
        """Open ``out/log.jsonl`` for appending; ``initial`` is the step the run starts from (its checkpoint's)."""
        from tqdm.auto import tqdm

        self.out = Path(out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.path = self.out / LOG_NAME
        self._file = open(self.path, "a+b")  # noqa: SIM115 (open for the whole run)
        self._file.seek(0, os.SEEK_END)
        if self._file.tell() > 0:  # an earlier start logged here: keep every line, mark where this one starts
            self._file.seek(-1, os.SEEK_END)
            cut_short = self._file.read(1) != b"\n"  # the last line of a killed run may lack its end
            self._file.seek(0, os.SEEK_END)
            if cut_short:
                self._file.write(b"\n")
            self._write({"event": "resume", "from_step": initial})
        # TensorBoard hides the events of the steps done again (those past the checkpoint)
        self.tensorboard = _tensorboard_writer(self.out / "tensorboard", purge_step=initial + 1 if initial else None)
        disable = None if progress is None else not progress  # None: only on a terminal
        self.bar = tqdm(
            total=total, initial=initial, desc=desc, unit="step", disable=disable, dynamic_ncols=True, file=sys.stderr
        )

    def record(self, values: dict[str, Any]) -> None:
        """Append one line to the JSONL log (and TensorBoard); show the losses on the bar."""
        self._write(values)
        step = int(values.get("step", 0))
        if self.tensorboard is not None:
            for key, value in values.items():
                if key not in ("step", "time") and isinstance(value, (int, float)):
                    self.tensorboard.add_scalar(key, value, step)
        shown = {k: _short(v) for k, v in values.items() if k not in ("step", "epoch", "elapsed_s", "time")}
        self.bar.set_postfix(shown, refresh=False)

    def _write(self, values: dict[str, Any]) -> None:
        stamp = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
        self._file.write((json.dumps({**values, "time": stamp}) + "\n").encode("utf-8"))
        self._file.flush()

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
