"""sha256 verification of weights: refused files name both hashes and leave the cache; hashing once per file."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

import zoo_core as zoo
from zoo_core.hub import verify as _verify


@pytest.fixture
def cached(tmp_path: Path) -> tuple[Path, Path, str]:
    """A file laid out as the Hugging Face cache does: a snapshot link to a blob."""
    blob = tmp_path / "blobs" / "abc"
    blob.parent.mkdir()
    blob.write_bytes(b"weights" * 100)
    link = tmp_path / "snapshots" / "rev" / "model.safetensors"
    link.parent.mkdir(parents=True)
    link.symlink_to(Path("../../blobs/abc"))
    return link, blob, hashlib.sha256(blob.read_bytes()).hexdigest()


def test_a_mismatch_names_both_hashes_and_deletes_link_and_blob(cached: tuple[Path, Path, str]) -> None:
    link, blob, good = cached
    wrong = "0" * 64
    with pytest.raises(zoo.ChecksumMismatchError) as info:
        _verify.verify_file(link, wrong, "vae.mnist", discard=True)
    message = str(info.value)
    assert "'vae.mnist'" in message and wrong in message and good in message and str(link) in message
    assert not link.exists() and not link.is_symlink() and not blob.exists()


def test_a_local_file_is_refused_but_kept(cached: tuple[Path, Path, str]) -> None:
    _, blob, _ = cached
    with pytest.raises(zoo.ChecksumMismatchError, match="it was not used"):
        _verify.verify_file(blob, "1" * 64, "vae.mnist", discard=False)
    assert blob.exists()


def test_each_file_is_hashed_once_until_it_changes(
    cached: tuple[Path, Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    link, blob, good = cached
    _verify.forget_verified()
    calls: list[Path] = []
    real_hash = _verify.sha256_file
    monkeypatch.setattr(_verify, "sha256_file", lambda p: calls.append(p) or real_hash(p))
    _verify.verify_file(link, good, "m", discard=True)
    _verify.verify_file(link, good, "m", discard=True)
    assert len(calls) == 1
    blob.write_bytes(b"tampered" * 100)  # a rewrite changes size / mtime: hashed again, and refused
    with pytest.raises(zoo.ChecksumMismatchError):
        _verify.verify_file(link, good, "m", discard=True)
    assert len(calls) == 2
