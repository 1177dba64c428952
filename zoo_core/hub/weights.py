"""A registry entry's weights, ready to load: found (``ZOO_HUB_DIR``, the caches) or downloaded, checked
against their sha256, and converted once to safetensors when they are a foreign pickle.

``ZOO_HUB_DIR`` is a list of local folders in Hub layout (``org/name/file``), separated by ``os.pathsep``
(``:`` on POSIX, ``;`` on Windows), used instead of the network by air-gapped users: the first folder that
holds the entry's file wins. Its files are verified all the same, and never deleted.

Example:
    >>> path = fetch_weights(zoo.info("vae.mnist"))  # verified; a later process trusts it without re-hashing
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._errors import ZooError
from .cache import discard_cached, repo_cache_folder, zoo_cache_dir
from .download import download_file
from .pins import expected_sha256, pin_sha256, pins_path
from .urls import download_url, url_download_path
from .verify import (
    _identity,
    converted_problem,
    drop_converted,
    hash_mismatch,
    remember_verified,
    sha256_file,
    verify_file,
    write_converted,
)

if TYPE_CHECKING:
    from .._catalog import ModelInfo

__all__ = ["cached_paths", "cached_weights", "check_converted", "fetch_weights", "hub_dirs", "local_hub_file"]


def hub_dirs() -> list[Path]:
    """The folders of ``ZOO_HUB_DIR``, in order: a list separated by ``os.pathsep`` (empty items are skipped).

    Example:
        >>> os.environ["ZOO_HUB_DIR"] = os.pathsep.join(["/srv/mirror", "~/my-models"])
        >>> hub_dirs()
        [PosixPath('/srv/mirror'), PosixPath('/home/me/my-models')]
    """
    return [Path(item).expanduser() for item in os.environ.get("ZOO_HUB_DIR", "").split(os.pathsep) if item.strip()]


def local_hub_file(info: ModelInfo) -> Path | None:
    """The entry's weights in the first ``ZOO_HUB_DIR`` folder that holds ``<repo_id>/<filename>``, if any."""
    folders = hub_dirs()
    if not folders or "url" in info.weights:
        return None
    from .._registry import check_repo_filename

    filename = check_repo_filename(info.weights["filename"], info.name)  # never a path outside ZOO_HUB_DIR
    for folder in folders:
        path = folder / info.weights["repo_id"] / filename
        if path.is_file():
            return path
    return None


def _converted_path(info: ModelInfo, sha256: str) -> Path:
    return zoo_cache_dir() / "converted" / f"{sha256}-{info.architecture}.safetensors"


def _converted(info: ModelInfo, path: Path, sha256: str, *, discard: bool = False) -> Path:
    """A foreign pickle converted once to safetensors in zoo's cache (then never unpickled again).

    ``discard``: ``path`` is a download in a cache; if it cannot be read, it is deleted so that the
    next run fetches it afresh.
    """
    target = _converted_path(info, sha256)
    if target.is_file() and converted_problem(target) is None:
        return target  # verified against its sidecar (cheaply, when the record knows it untouched)
    from filelock import FileLock

    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(f"{target}.lock"):  # another process converting the same file: wait for it, then use it
        if target.is_file():
            problem = converted_problem(target)
            if problem is None:
                return target
            drop_converted(target)
            sys.stderr.write(
                f"zoo: {info.name}: {problem}; it was deleted and is converted again from the verified original.\n"
            )
        _convert_into(info, path, target, discard=discard)
    return target


def _convert_into(info: ModelInfo, path: Path, target: Path, *, discard: bool) -> None:
    """Convert the (verified) pickle ``path`` into ``target`` and its sha256 sidecar."""
    from safetensors.torch import save

    from ..checkpoints import convert_state, converter_spec

    spec = converter_spec(info.weights["converter"], needed_by=f"{info.name} (plugin {info.plugin})")
    try:
        state = convert_state(spec, path, dict(info.config))
    except ZooError as exc:
        if not discard:
            raise
        discard_cached(path)
        raise ZooError(
            f"{str(exc).rstrip('.')} (the download was deleted from the cache, so the next run fetches it afresh)."
        ) from exc
    write_converted(target, save({k: v.contiguous() for k, v in state.items()}, metadata={"format": "pt"}))


def check_converted(info: ModelInfo) -> tuple[Path, str | None] | None:
    """``zoo cache verify`` of a model's converted weights: re-hash them against their sidecar.

    None when there are none; else (their path, None when sound, or one sentence saying what was
    wrong and what was done: deleted, and converted again when a verified original is in the cache).
    """
    expected = expected_sha256(info)
    if info.weights.get("format") != "pickle" or expected is None:
        return None
    target = _converted_path(info, expected)
    if not target.is_file():
        return None
    return target, _recheck_converted(info, target, expected)


def _recheck_converted(info: ModelInfo, target: Path, expected: str) -> str | None:
    problem = converted_problem(target, rehash=True)
    if problem is None:
        return None
    drop_converted(target)
    original = cached_weights(info)
    if original is not None and hash_mismatch(original, expected) is None:
        _converted(info, original, expected, discard=True)
        return f"{problem[0].upper()}{problem[1:]}; it was deleted and converted again from the verified original."
    return (
        f"{problem[0].upper()}{problem[1:]}; it was deleted, and the original is not in the cache: "
        f"`zoo load {info.name}` downloads and converts it again."
    )


def _download_url_weights(info: ModelInfo) -> Path:
    weights = info.weights
    target = url_download_path(weights["url"], weights["filename"])
    if weights.get("manual"):  # a file-sharing page: a person downloads it, zoo takes it from its cache
        if target.is_file():
            return target
        convert = ""
        if weights.get("converter"):
            convert = (
                f" (or convert it yourself: `zoo convert {weights['converter']} {weights['filename']} -o DIR`, "
                "then `zoo load DIR`)"
            )
        raise ZooError(
            f"The weights of {info.name!r} cannot be downloaded automatically: get {weights['filename']} from "
            f"{weights['url']} in a browser and save it as {target}, then run the command again{convert}."
        )
    if weights.get("format") == "pickle":
        convert = f"zoo convert {weights['converter']} FILE -o DIR"
        fix = f"download the file yourself and run `{convert}` (then `zoo load DIR`)"
    else:
        fix = f"download the file yourself and save it as {target}"
    return download_url(weights["url"], target, what=f"the weights of {info.name!r}", size=weights.get("size"), fix=fix)


def fetch_weights(info: ModelInfo) -> Path:
    """Download (or find in the cache) a model's weights file and verify its sha256 before use.

    The file comes from the entry's Hub repository (or ``ZOO_HUB_DIR``), or from its ``url``.
    Upstream weights that nobody here could fetch carry no sha256 in the registry: the first
    download pins its hash in zoo's cache (``pins.json``), once the file has proved readable, and
    later downloads must match it. A pickled upstream checkpoint is read with
    ``torch.load(weights_only=True)`` and converted once to safetensors; the safetensors file is
    what gets loaded.
    """
    weights = info.weights
    pickle = weights.get("format", "safetensors") == "pickle"
    local = local_hub_file(info)
    if "url" in weights:
        path = _download_url_weights(info)
    elif local is not None:
        path = local
    else:
        path = download_file(
            weights["repo_id"],
            weights["filename"],
            revision=weights["revision"],
            what=f"the weights of {info.name!r}",
            size=weights.get("size"),
        )
    owned = local is None  # a download in a cache (deleted when bad), not a file of the user's
    expected = expected_sha256(info)
    if expected is None:
        identity, hashed_at = _identity(path), time.time_ns()
        expected = sha256_file(path)
        usable = _converted(info, path, expected, discard=owned) if pickle else path
        pin_sha256(info, expected)
        remember_verified(path, expected, hashed_at=hashed_at, identity=identity)
        return usable
    pinned_in = None if weights["sha256"] else pins_path()
    verify_file(path, expected, info.name, discard=owned, pinned_in=pinned_in)
    if pickle:
        return _converted(info, path, expected, discard=owned)
    return path


def cached_weights(info: ModelInfo) -> Path | None:
    """The cached weights file of a model, if any (no network)."""
    weights = info.weights
    if "url" in weights:
        path = url_download_path(weights["url"], weights["filename"])
        return path if path.is_file() else None
    from huggingface_hub import try_to_load_from_cache

    found: Any = try_to_load_from_cache(weights["repo_id"], weights["filename"], revision=weights["revision"])
    return Path(found) if isinstance(found, str) else None


def cached_paths(info: ModelInfo) -> list[Path]:
    """What ``zoo cache rm`` removes for a model: its download folder (the Hub repository's, or the url's) and
    the safetensors converted from it. The pins stay, so that a new download must match them."""
    weights = info.weights
    if "url" in weights:
        paths = [url_download_path(weights["url"], weights["filename"]).parent]
    else:
        paths = [repo_cache_folder(weights["repo_id"])]
    expected = expected_sha256(info)
    if weights.get("format") == "pickle" and expected:
        from .verify import sidecar_path

        converted = _converted_path(info, expected)
        paths += [converted, sidecar_path(converted), converted.with_name(converted.name + ".lock")]
    return [path for path in paths if path.exists()]
