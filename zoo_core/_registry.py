"""registry.json: reading it and enforcing its JSON Schema (no torch here)."""

from __future__ import annotations

import json
import os
import re
from functools import cache
from pathlib import Path
from typing import Any

from ._errors import RegistryError

__all__ = [
    "check_repo_filename",
    "load_registry",
    "parse_json_strictly",
    "registry_path",
    "validate_entry",
    "validate_registry",
]

_PACKAGE_DIR = Path(__file__).resolve().parent
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


# A file inside a Hub repository: "/"-separated segments, none empty, "." or "..", no backslash, colon (drive
# letters) or control character. The schema's weights.filename carries the same pattern.
_END = r"(?![\s\S])"  # the very end ("$" would also match before a final newline)
_SEGMENT = rf"(?!\.{{1,2}}(?:/|{_END}))[^/\\:\x00-\x1f]+"
REPO_FILENAME = re.compile(rf"^{_SEGMENT}(?:/{_SEGMENT})*{_END}")


def check_repo_filename(filename: str, where: str) -> str:
    """``filename`` if it is a relative path inside a repository (as the schema demands), else a ZooError.

    Example:
        >>> check_repo_filename("weights/model.safetensors", "vae.mnist")
        'weights/model.safetensors'
    """
    if not isinstance(filename, str) or not REPO_FILENAME.match(filename):
        raise RegistryError(
            f"The file name {filename!r} of {where} is not a relative path inside its repository "
            "(no leading /, no .. or empty segments, no backslash or drive letter); fix the entry."
        )
    return filename


def registry_path() -> Path:
    """``$ZOO_REGISTRY`` if set, else the registry.json shipped with zoo_core."""
    override = os.environ.get("ZOO_REGISTRY")
    return Path(override) if override else Path(__file__).parent / "registry.json"


@cache
def _validator() -> Any:
    import jsonschema

    schema = json.loads((_PACKAGE_DIR / "schema" / "registry.schema.json").read_text())
    return jsonschema.Draft202012Validator(schema)


def _json_path(parts: Any) -> str:
    path = "$"
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        elif _IDENTIFIER.match(part):
            path += f".{part}"
        else:
            path += f"[{json.dumps(part)}]"
    return path


def _first_error(validator: Any, document: Any, schema_path: tuple[str, ...] = ()) -> str | None:
    import jsonschema

    errors = list(validator.iter_errors(document))
    if not errors:
        return None
    error = jsonschema.exceptions.best_match(errors)
    return f"{_json_path([*schema_path, *error.absolute_path])}: {_message(error)}"


def _message(error: Any) -> str:
    """The schema's own ``errorMessage`` for the failing rule (or a rule around it), else jsonschema's."""
    node = error
    while node is not None:
        if isinstance(node.schema, dict) and "errorMessage" in node.schema:
            return node.schema["errorMessage"].replace("{value}", json.dumps(node.instance))
        node = node.parent
    return error.message


def _check_names(models: dict[str, Any]) -> str | None:
    for name, entry in models.items():
        if name.split(".", 1)[0] != entry.get("architecture"):
            return (
                f"{_json_path(['models', name, 'architecture'])}: a model named {name!r} must have "
                f"architecture {name.split('.', 1)[0]!r}, not {entry.get('architecture')!r}"
            )
    return None


def validate_registry(document: Any, source: str = "registry.json") -> dict[str, Any]:
    """Check a whole registry document; fail with the JSON path of the first error."""
    if not isinstance(document, dict):
        kinds = {type(None): "null", list: "a list", str: "a string", bool: "a boolean"}
        kind = kinds.get(type(document), "a number")
        raise RegistryError(
            f'{source} holds {kind}, not a JSON object; a registry is {{"version": 1, "models": {{...}}}}.'
        )
    problem = _first_error(_validator(), document) or _check_names(document["models"])
    if problem:
        raise RegistryError(f"{source} is invalid at {problem}. Fix that field and try again.")
    return document


def validate_entry(name: str, entry: Any, source: str) -> dict[str, Any]:
    """Check one model entry (as a plugin registers it) against the same schema."""
    return validate_registry({"version": 1, "models": {name: entry}}, source)["models"][name]


def _describe(path: Path) -> str:
    """The registry file as a message names it: ``$ZOO_REGISTRY`` is named when it chose the file."""
    override = os.environ.get("ZOO_REGISTRY")
    return f"The registry file {path} (from ZOO_REGISTRY)" if override and Path(override) == path else f"{path}"


class _DuplicateKeys:
    """``object_pairs_hook`` that builds dicts and remembers the first object holding a key twice."""

    def __init__(self) -> None:
        self.found: tuple[dict[str, Any], str] | None = None

    def __call__(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        document = dict(pairs)
        if self.found is None and len(document) != len(pairs):
            seen: set[str] = set()
            key = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
            self.found = (document, key)
        return document


def _find_object(document: Any, target: object, parts: list[Any]) -> list[Any] | None:
    if document is target:
        return parts
    if isinstance(document, dict):
        children: Any = document.items()
    elif isinstance(document, list):
        children = enumerate(document)
    else:
        return None
    for key, value in children:
        found = _find_object(value, target, [*parts, key])
        if found is not None:
            return found
    return None


def _duplicate_lines(text: str, key: str) -> list[int]:
    """Lines where ``key`` appears as an object key (the caller needs the second occurrence in one object).

    A small scan of strings and nesting: it finds, for every object, the keys at that object's own level.
    """
    from json.decoder import scanstring

    stack: list[set[str] | None] = []  # one entry per open {...} or [...]: keys seen so far (None for a list)
    index, lines = 0, []
    while index < len(text):
        char = text[index]
        if char == '"':
            value, end = scanstring(text, index + 1)
            rest = text[end:].lstrip()
            keys = stack[-1] if stack else None
            if keys is not None and rest.startswith(":"):
                if value == key and value in keys:
                    lines.append(text.count("\n", 0, index) + 1)
                keys.add(value)
            index = end
            continue
        if char == "{":
            stack.append(set())
        elif char == "[":
            stack.append(None)
        elif char in "}]" and stack:
            stack.pop()
        index += 1
    return lines


def parse_json_strictly(text: str, source: str) -> Any:
    """``json.loads`` that refuses an object holding one key twice (json keeps the last one silently)."""
    hook = _DuplicateKeys()
    document = json.loads(text, object_pairs_hook=hook)
    if hook.found is not None:
        holder, key = hook.found
        parts = _find_object(document, holder, [])
        where = _json_path(parts) if parts is not None else "an object"
        lines = _duplicate_lines(text, key)
        line = f" (line {lines[0]})" if lines else ""
        raise RegistryError(
            f"{source} has the key {json.dumps(key)} twice in {where}{line}: JSON would keep only the last one, "
            "so zoo refuses the file; remove one of them."
        )
    return document


def load_registry(path: Path | None = None) -> dict[str, Any]:
    """Read and validate registry.json: one sentence for a folder, non-text bytes, bad JSON or a duplicate key."""
    path = Path(path or registry_path())
    source = _describe(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise RegistryError(f"{source} does not exist; check ZOO_REGISTRY.") from exc
    except IsADirectoryError as exc:
        raise RegistryError(f"{source} is a folder, not a file; point ZOO_REGISTRY at a registry JSON file.") from exc
    except OSError as exc:
        raise RegistryError(f"{source} cannot be read ({exc.strerror or exc}); check ZOO_REGISTRY.") from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RegistryError(
            f"{source} is not a text file (byte {exc.start} is not UTF-8); point ZOO_REGISTRY at a registry JSON file."
        ) from None
    if not text.strip():
        raise RegistryError(f'{source} is empty; it must hold {{"version": 1, "models": {{...}}}}.')
    try:
        document = parse_json_strictly(text, source)
    except (json.JSONDecodeError, RecursionError) as exc:
        where = f"line {exc.lineno}, column {exc.colno}: {exc.msg}" if isinstance(exc, json.JSONDecodeError) else ""
        raise RegistryError(f"{source} is not valid JSON ({where or 'nested too deeply'}); fix the file.") from None
    return validate_registry(document, source)
