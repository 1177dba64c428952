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
