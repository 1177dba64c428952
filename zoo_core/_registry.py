"""Catalog files (registry.json and the user's own): reading, the JSON Schema, model names, the one writer.

No torch here. A catalog file is ``{"version": 1, "models": {"arch.tag": entry, ...}}``; the shipped
``registry.json`` is one, each path of ``$ZOO_REGISTRY`` (an ``os.pathsep``-separated list) is another, and a
plugin package may carry one (see ``zoo_core._catalog`` for how they are layered). ``write_registry`` is the
only code that writes a catalog file: atomically, keeping the file's key order and formatting.
"""

from __future__ import annotations

import json
import os
import re
from functools import cache
from pathlib import Path
from typing import Any

from ._errors import RegistryError

__all__ = [
    "MODEL_NAME",
    "check_model_name",
    "check_repo_filename",
    "empty_registry",
    "load_registry",
    "parse_json_strictly",
    "registry_path",
    "shipped_registry_path",
    "update_registry",
    "user_registry_paths",
    "validate_entry",
    "validate_registry",
    "write_registry",
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


#: A model name, ``arch.tag``: the schema's ``models.propertyNames`` pattern (a test keeps the two equal).
MODEL_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*\.[a-z0-9][a-z0-9_.-]*$")
_ARCHITECTURE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def check_model_name(name: str, architecture: str | None = None, *, where: str = "") -> str:
    """``name`` if it is a model name ``ARCHITECTURE.TAG`` (of ``architecture`` when given), else a ZooError.

    Every place that accepts a model name calls this before doing any work: ``zoo train --name``,
    ``zoo registry add``, ``register_model``, a plugin's ``register_models`` and every catalog file.

    Example:
        >>> check_model_name("wgan-gp.mnist", "wgan-gp")
        'wgan-gp.mnist'
        >>> check_model_name("wgangp.mnist", "wgan-gp")  # ZooError: ... must be named wgan-gp.<tag> ...
    """
    prefix = f"{where}: " if where else ""
    if architecture is not None and _ARCHITECTURE_NAME.match(architecture or ""):
        form, example = f"{architecture}.<tag>", f"{architecture}.mnist"
        if not isinstance(name, str) or name.split(".", 1)[0] != architecture or not MODEL_NAME.match(name):
            raise RegistryError(
                f"{prefix}{name!r} is not a name for a model of the architecture {architecture!r}: name it {form} "
                f"(the tag: lower-case letters, digits, '-', '_' and '.'), e.g. {example}."
            )
        return name
    if not isinstance(name, str) or not MODEL_NAME.match(name):
        raise RegistryError(
            f"{prefix}{name!r} is not a model name: a name is ARCHITECTURE.TAG in lower-case letters, digits, "
            "'-' and '_' (the tag may also hold '.'), e.g. vae.mnist."
        )
    return name


def shipped_registry_path() -> Path:
    """The registry.json shipped with zoo_core: the catalog of the models this project publishes."""
    return _PACKAGE_DIR / "registry.json"


def user_registry_paths() -> list[Path]:
    """The user's catalogs: the paths of ``$ZOO_REGISTRY`` (``os.pathsep``-separated), highest precedence first.

    Example:
        >>> os.environ["ZOO_REGISTRY"] = os.pathsep.join(["~/my-models.json", "/shared/lab.json"])
        >>> user_registry_paths()
        [PosixPath('/home/me/my-models.json'), PosixPath('/shared/lab.json')]
    """
    value = os.environ.get("ZOO_REGISTRY") or ""
    return [Path(part).expanduser() for part in value.split(os.pathsep) if part.strip()]


def registry_path() -> Path:
    """The catalog file that ``zoo registry add`` (``register_model``) writes by default.

    The first path of ``$ZOO_REGISTRY`` (created on the first write), else the shipped registry.json (this
    project's own models).
    """
    users = user_registry_paths()
    return users[0] if users else shipped_registry_path()


def empty_registry() -> dict[str, Any]:
    """The document of a new, empty catalog file."""
    return {"version": 1, "models": {}}


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


def _check_names(models: Any) -> str | None:
    if not isinstance(models, dict):
        return None  # the schema says what is wrong
    for name, entry in models.items():
        if not MODEL_NAME.match(name):
            return (
                f"{_json_path(['models', name])}: {name!r} is not a model name, which is ARCHITECTURE.TAG in "
                "lower-case letters, digits, '-' and '_' (e.g. vae.mnist)"
            )
        if isinstance(entry, dict) and name.split(".", 1)[0] != entry.get("architecture"):
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
    problem = _check_names(document.get("models")) or _first_error(_validator(), document)
    if problem:
        raise RegistryError(f"{source} is invalid at {problem}. Fix that field and try again.")
    return document


def validate_entry(name: str, entry: Any, source: str) -> dict[str, Any]:
    """Check one model entry (as a plugin registers it) against the same schema."""
    return validate_registry({"version": 1, "models": {name: entry}}, source)["models"][name]


def _describe(path: Path) -> str:
    """The registry file as a message names it: ``$ZOO_REGISTRY`` is named when it chose the file."""
    return f"The registry file {path} (from ZOO_REGISTRY)" if path in user_registry_paths() else f"{path}"


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


def _read_text(path: Path, source: str) -> str:
    """A catalog file's text, or one sentence for a folder, unreadable or non-UTF-8 bytes."""
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise RegistryError(f"{source} does not exist; check ZOO_REGISTRY.") from exc
    except IsADirectoryError as exc:
        raise RegistryError(f"{source} is a folder, not a file; point ZOO_REGISTRY at a registry JSON file.") from exc
    except OSError as exc:
        raise RegistryError(f"{source} cannot be read ({exc.strerror or exc}); check ZOO_REGISTRY.") from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RegistryError(
            f"{source} is not a text file (byte {exc.start} is not UTF-8); point ZOO_REGISTRY at a registry JSON file."
        ) from None


def _parse(text: str, source: str) -> Any:
    if not text.strip():
        raise RegistryError(f'{source} is empty; it must hold {{"version": 1, "models": {{...}}}}.')
    try:
        return parse_json_strictly(text, source)
    except (json.JSONDecodeError, RecursionError) as exc:
        where = f"line {exc.lineno}, column {exc.colno}: {exc.msg}" if isinstance(exc, json.JSONDecodeError) else ""
        raise RegistryError(f"{source} is not valid JSON ({where or 'nested too deeply'}); fix the file.") from None


def load_registry(path: str | os.PathLike[str] | None = None, *, missing_ok: bool = False) -> dict[str, Any]:
    """Read and validate a catalog file (default: ``registry_path()``).

    One sentence for a folder, non-text bytes, bad JSON, a duplicate key or a schema error. ``missing_ok``: a file
    that does not exist yet is an empty catalog (a user catalog before its first ``zoo registry add``).

    Example:
        >>> load_registry(shipped_registry_path())["models"]["vae.mnist"]["architecture"]
        'vae'
    """
    path = Path(path or registry_path())
    source = _describe(path)
    if missing_ok and not os.path.lexists(path):
        return empty_registry()
    return validate_registry(_parse(_read_text(path, source), source), source)


# -- the one writer ------------------------------------------------------------------------------------
def _style(text: str) -> dict[str, Any]:
    """How a JSON file is written: indent (spaces, a tab, or none), ASCII escapes, line ending, final newline."""
    indent: int | str | None = None
    for line in text.splitlines()[1:]:
        stripped = line.lstrip(" \t")
        if stripped and len(stripped) < len(line):
            whitespace = line[: len(line) - len(stripped)]
            indent = "\t" if whitespace.startswith("\t") else len(whitespace)
            break
    return {
        "indent": indent,
        "ensure_ascii": not any(ord(char) > 127 for char in text),
        "newline": "\r\n" if "\r\n" in text else "\n",
        "final_newline": text.endswith(("\n", "\r")) if text else True,
    }


_NEW_FILE_STYLE = {"indent": 2, "ensure_ascii": True, "newline": "\n", "final_newline": True}


def write_registry(path: str | os.PathLike[str], document: dict[str, Any], *, style_of: str | None = None) -> None:
    """Validate ``document`` and write it to ``path`` atomically, in the formatting of ``style_of`` (the file's text).

    The only code that writes a catalog file (``zoo registry add``, ``register_model``, plugins' scripts such as
    ``python -m zoo_cyclegan.upstream``): a reader sees the old file or the new one, never half of one; keys keep
    the document's order; indent, ASCII escapes, line endings and the final newline are the file's own (a new file:
    2 spaces and a final newline).

    Example:
        >>> document = load_registry(path)
        >>> document["models"]["vae.tiny"] = entry
        >>> write_registry(path, document, style_of=path.read_text())
    """
    from ._atomic import atomic_write_text

    path = Path(path)
    validate_registry(document, _describe(path))
    style = _style(style_of) if style_of else _NEW_FILE_STYLE
    text = json.dumps(document, indent=style["indent"], ensure_ascii=style["ensure_ascii"])
    if style["newline"] != "\n":
        text = text.replace("\n", style["newline"])
    if style["final_newline"]:
        text += style["newline"]
    atomic_write_text(path.resolve(), text)


def update_registry(path: str | os.PathLike[str], entries: dict[str, dict[str, Any]]) -> bool:
    """Add or replace ``entries`` in the catalog file ``path``, read just before it is written; every other entry
    stays as it is. A file that does not exist yet is created (with its folders). Returns whether it was created.

    A replaced entry keeps its place; a new one goes where sorting puts it when the file's names are sorted,
    else at the end.

    Example:
        >>> update_registry("~/my-models.json", {"wgan-gp.mnist": entry})  # True: the file was created
        True
    """
    path = Path(path).expanduser()
    source = _describe(path)
    for name, entry in entries.items():
        check_model_name(name, entry.get("architecture") if isinstance(entry, dict) else None, where=source)
    created = not os.path.lexists(path)
    if created:
        text, document = None, empty_registry()
    else:
        text = _read_text(path, source)
        document = validate_registry(_parse(text, source), source)
    models = document["models"]
    was_sorted = list(models) == sorted(models)
    models.update(entries)
    if was_sorted:
        document["models"] = dict(sorted(models.items()))
    write_registry(path, document, style_of=text)
    return created
