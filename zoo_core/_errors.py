"""Errors that zoo reports to users as one sentence, without a traceback."""

from __future__ import annotations

__all__ = [
    "ChecksumMismatchError",
    "HubUnavailableError",
    "PluginError",
    "RegistryError",
    "UnknownNameError",
    "ZooError",
]


class ZooError(Exception):
    """Base of every error zoo raises on purpose: the message names the problem and the fix."""


class UnknownNameError(ZooError, KeyError):
    """A model, architecture, dataset or metric name that nothing registered."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class RegistryError(ZooError):
    """registry.json (or an entry a plugin registered) does not follow the schema."""


class PluginError(ZooError):
    """Two plugins registered the same name, or a plugin broke a hook's contract."""


class ChecksumMismatchError(ZooError):
    """A downloaded file's sha256 differs from the one the registry pins."""


class HubUnavailableError(ZooError):
    """The Hub could not be reached, or the file is not in the offline cache."""


#: Fixes that trade safety for convenience: no zoo message ever suggests one (the tests scan for them).
UNSAFE_ADVICE = (
    "weights_only=False",
    "trust_remote_code",
    "force_download",
    "add_safe_globals",
    "safe_globals",
    "allow_pickle=True",
)


def unsafe_advice(text: str) -> str | None:
    """The first of ``UNSAFE_ADVICE`` that ``text`` gives (spaces, quotes and backticks aside), if any."""
    flat = "".join(ch for ch in text.lower() if ch not in " `'\"").replace("setto", "=")
    found = [advice for advice in UNSAFE_ADVICE if advice.lower() in flat]
    if not found and "weights_only" in flat and "false" in flat:  # "with `weights_only` set to `False`"
        found.append(UNSAFE_ADVICE[0])
    return found[0] if found else None


def foreign_reason(exc: BaseException, limit: int = 200) -> str:
    """What another library's exception says, short enough for a clause of one sentence, and never its advice
    to switch a safety off (torch's ``weights_only=False``, huggingface_hub's ``force_download=True`` ...)."""
    text = str(exc)
    if "WeightsUnpickler error:" in text:  # after torch's long preamble of ways to load the file unsafely
        text = text.rsplit("WeightsUnpickler error:", 1)[1]
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    sentences = [s for s in (lines[0] if lines else "").split(". ") if unsafe_advice(s) is None]
    text = sentences[0].strip().rstrip(".") if sentences else ""
    if len(text) > limit:
        text = text[: limit - 3].rstrip() + "..."
    return text or type(exc).__name__
