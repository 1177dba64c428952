"""``zoo push``: upload a Hub-layout model folder to the Hugging Face Hub with ``huggingface_hub``.

The folder is checked first (``config.json`` naming an architecture, a readable
``model.safetensors``, a ``README.md`` whose YAML metadata the Hub reads, model-index
included), then ``HfApi().create_repo(repo_id, private=..., exist_ok=True)`` (and
``create_branch`` for a revision other than ``main``) and ``upload_folder(...)`` restricted
to exactly the files ``--dry-run`` lists: every regular file of the folder but hidden ones
(``.git``, ``.cache``, editor and temporary files). The token comes from the usual places
(``HF_TOKEN``, ``hf auth login``), or ``token=``. Failures become one sentence.

Example:
    >>> plan = push("runs/vae/model", "me/vae-mnist", dry_run=True)
    >>> [(f.path, f.size) for f in plan.files]
    [('README.md', 2113), ('config.json', 96), ('model.safetensors', 2612048), ('samples.png', 9010)]
    >>> push("runs/vae/model", "me/vae-mnist", private=True).commit_url
    'https://huggingface.co/me/vae-mnist/commit/...'
"""

from __future__ import annotations

import glob
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._errors import ZooError
from .hub.verify import sha256_file

__all__ = ["HubFile", "PushPlan", "check_hub_folder", "hub_files", "push"]

_REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")
REQUIRED = ("config.json", "model.safetensors", "README.md")


@dataclass(frozen=True)
class HubFile:
    """One file to upload: its path in the repository (POSIX), size in bytes and sha256."""

    path: str
    size: int
    sha256: str


@dataclass
class PushPlan:
    """What ``push`` uploads (``dry_run`` stops here) and, after an upload, where it went."""

    folder: Path
    repo_id: str
    revision: str
    private: bool
    files: list[HubFile]
    commit_message: str
    commit_url: str | None = None
    uploaded: bool = False

    @property
    def total_size(self) -> int:
        return sum(f.size for f in self.files)


def hub_files(folder: str | os.PathLike[str]) -> list[HubFile]:
    """Every regular file under ``folder`` except hidden ones, sorted, with size and sha256."""
    folder = Path(folder)
    files = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(part.startswith(".") for part in relative.parts) or not path.is_file() or path.is_symlink():
            continue
        files.append(HubFile(relative.as_posix(), path.stat().st_size, sha256_file(path)))
    return files


def check_hub_folder(folder: str | os.PathLike[str]) -> list[HubFile]:
    """Fail in one sentence unless ``folder`` is a model folder in Hub layout; return its files.

    Example:
        >>> [f.path for f in check_hub_folder("runs/vae/model")]
        ['README.md', 'config.json', 'model.safetensors', 'samples.png']
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ZooError(f"{folder} is not a folder; give a model folder in Hub layout (e.g. the model/ of a run).")
    missing = [name for name in REQUIRED if not (folder / name).is_file()]
    if missing:
        raise ZooError(
            f"{folder} is not a model folder in Hub layout: it has no {missing[0]} "
            "(expected config.json, model.safetensors and README.md)."
        )
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ZooError(f"{folder / 'config.json'} is not valid JSON ({exc}).") from exc
    if not isinstance(config, dict) or not config.get("architecture"):
        raise ZooError(f'{folder / "config.json"} names no architecture; add "architecture": "<name>".')
    _check_safetensors(folder / "model.safetensors")
    _check_card(folder / "README.md")
    return hub_files(folder)


def _check_safetensors(path: Path) -> None:
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="pt") as handle:
            if not list(handle.keys()):
                raise ZooError(f"{path} holds no tensors.")
    except (SafetensorError, OSError) as exc:
        raise ZooError(f"{path} is not a readable safetensors file ({exc}).") from exc


def _check_card(path: Path) -> None:
    from huggingface_hub.repocard import metadata_load, model_index_to_eval_results

    try:
        metadata = metadata_load(path)
    except Exception as exc:  # yaml errors of any kind
        raise ZooError(f"The YAML metadata of {path} does not parse ({type(exc).__name__}: {exc}).") from exc
    if not metadata:
        raise ZooError(f"{path} has no YAML metadata block (--- ... --- at the top); the Hub would not index it.")
    if not metadata.get("library_name"):
        raise ZooError(f"The YAML metadata of {path} has no library_name.")
    if "model-index" in metadata:
        try:
            model_index_to_eval_results(metadata["model-index"])
        except Exception as exc:
            raise ZooError(f"The model-index in {path} is not one the Hub reads ({type(exc).__name__}: {exc})") from exc


def push(
    folder: str | os.PathLike[str],
    repo_id: str,
    *,
    revision: str | None = None,
    private: bool = False,
    dry_run: bool = False,
    token: str | None = None,
    commit_message: str | None = None,
) -> PushPlan:
    """Upload ``folder`` to the Hub model repository ``repo_id`` (created if needed); ``dry_run`` uploads nothing.

    Example:
        >>> push("runs/vae/model", "me/vae-mnist", revision="v1", private=True, dry_run=True).files[0].path
        'README.md'
    """
    if not _REPO_ID.match(repo_id or ""):
        raise ZooError(f"{repo_id!r} is not a Hub repository id; use ORG/NAME (letters, digits, '-', '_', '.').")
    folder = Path(folder)
    files = check_hub_folder(folder)
    plan = PushPlan(
        folder=folder,
        repo_id=repo_id,
        revision=revision or "main",
        private=private,
        files=files,
        commit_message=commit_message or f"Upload {repo_id} with zoo push",
    )
    if dry_run:
        return plan

    import huggingface_hub

    token = token or huggingface_hub.get_token()
    if not token:
        raise ZooError(
            "No Hugging Face token found: run `hf auth login` or set HF_TOKEN (a token with write access), then retry."
        )
    api = huggingface_hub.HfApi(token=token)
    try:
        api.create_repo(repo_id, private=private, exist_ok=True, repo_type="model")
        if plan.revision != "main":
            api.create_branch(repo_id, branch=plan.revision, exist_ok=True, repo_type="model")
        info = api.upload_folder(
            repo_id=repo_id,
            folder_path=str(folder),
            repo_type="model",
            revision=plan.revision,
            commit_message=plan.commit_message,
            allow_patterns=[glob.escape(f.path) for f in files],
        )
    except ZooError:
        raise
    except Exception as exc:  # the network boundary: HTTP errors, connection errors, timeouts ...
        raise ZooError(_upload_error(exc, repo_id)) from exc
    plan.uploaded = True
    plan.commit_url = getattr(info, "commit_url", None) or (str(info) if info is not None else None)
    return plan


def _upload_error(exc: BaseException, repo_id: str) -> str:
    response: Any = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    if status in (401, 403):
        return (
            f"The Hub refused the upload to {repo_id} ({status}): the token cannot write there; "
            "check HF_TOKEN or `hf auth login`, and that you may write to that organisation."
        )
    if status is not None:
        return f"The upload to {repo_id} failed with HTTP {status}: {first}"
    return f"The upload to {repo_id} failed ({type(exc).__name__}: {first}); check the network and HF_ENDPOINT."
