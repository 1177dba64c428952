"""registry.json: reading it and enforcing its JSON Schema (no torch here)."""

from __future__ import annotations

import json
import os
import re
from functools import cache
from pathlib import Path
from typing import Any

from ._errors import RegistryError

__all__ = ["load_registry", "registry_path", "validate_entry", "validate_registry"]

_PACKAGE_DIR = Path(__file__).resolve().parent
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


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
    problem = _first_error(_validator(), document) or _check_names(document["models"])
    if problem:
        raise RegistryError(f"{source} is invalid at {problem}. Fix that field and try again.")
    return document


def validate_entry(name: str, entry: Any, source: str) -> dict[str, Any]:
    """Check one model entry (as a plugin registers it) against the same schema."""
    return validate_registry({"version": 1, "models": {name: entry}}, source)["models"][name]


def load_registry(path: Path | None = None) -> dict[str, Any]:
    """Read and validate registry.json."""
    path = path or registry_path()
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise RegistryError(f"The registry file {path} does not exist; check ZOO_REGISTRY.") from exc
    except json.JSONDecodeError as exc:
        raise RegistryError(
            f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); fix the file."
        ) from exc
    return validate_registry(document, str(path))
