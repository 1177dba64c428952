"""The class of zoo's command groups: every error is one sentence on stderr, never a traceback."""

from __future__ import annotations

import contextlib
import errno
import os
import sys
from typing import Any

import click

from .._errors import ZooError

#: set to 1 for the traceback of an internal error (a bug), which is otherwise one sentence
DEBUG_ENV = "ZOO_DEBUG"

_USER_OS_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EROFS}


def _first_line(exc: BaseException, limit: int = 200) -> str:
    text = (str(exc).strip().splitlines() or [""])[0]
    return text if len(text) <= limit else text[: limit - 3] + "..."


class ZooGroup(click.Group):
    """A click group that turns every error into one line on stderr: exit 1 (2 for usage), never a traceback.

    ``ZooError`` is the message as it is. Anything else reaching this point is a bug in zoo or a plugin:
    the user still gets one sentence ("zoo hit an internal error ...") and exit 1, or the traceback with
    ``ZOO_DEBUG=1``. ``MemoryError`` and a full disk or a refused write say so; Ctrl-C exits 130; a closed
    pipe (``zoo list | head -1``) ends quietly.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ZooError as exc:
            raise click.ClickException(str(exc)) from None
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            sys.exit(130)
        except (click.exceptions.ClickException, click.exceptions.Abort, click.exceptions.Exit):
            raise
        except OSError as exc:
            if exc.errno == errno.EPIPE:
                raise  # click ends quietly on a closed pipe
            if exc.errno in _USER_OS_ERRORS and os.environ.get(DEBUG_ENV) != "1":
                verb = "write" if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS) else "access"
                where = f" {exc.filename}" if exc.filename else ""
                raise click.ClickException(f"Cannot {verb}{where}: {exc.strerror or exc}.") from None
            self._internal_error(exc)
        except Exception as exc:  # MemoryError included
            self._internal_error(exc)

    @staticmethod
    def _internal_error(exc: Exception) -> None:
        if os.environ.get(DEBUG_ENV) == "1":
            raise exc
        # torch's allocators: MemoryError, torch.cuda.OutOfMemoryError, "DefaultCPUAllocator: can't allocate memory"
        out_of_memory = type(exc).__name__ == "OutOfMemoryError" or "can't allocate memory" in str(exc)
        if isinstance(exc, MemoryError) or out_of_memory:
            raise click.ClickException(
                "zoo ran out of memory; ask for less (a smaller -n, --batch-size, image or model) "
                "or use a machine with more memory."
            ) from None
        raise click.ClickException(
            f"zoo hit an internal error ({type(exc).__name__}: {_first_line(exc)}); this is a bug in zoo or a "
            f"plugin: please report it, with {DEBUG_ENV}=1 for the traceback."
        ) from None

    def main(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().main(*args, **kwargs)
        finally:
            try:  # output still buffered for a reader that has gone (`zoo list | head -1`): drop it quietly
                sys.stdout.flush()
            except (BrokenPipeError, ValueError):
                with contextlib.suppress(OSError, ValueError):
                    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
