"""Decision input and output schemas, loaded and compiled once per file and shared by every version."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema.protocols import Validator

from policy_engine.coerce import Coercer, build_coercer
from policy_engine.expr.types import Kind, Type, type_of_schema
from policy_engine.fast_input import FastInput, compile_fast_input
from policy_engine.schemas import SchemaFileError, compile_validator, load_schema

__all__ = ("LoadedSchema", "SchemaStore")


@dataclass(frozen=True)
class LoadedSchema:
    """One decision schema file: its text (for the digest), schema, validator, type and input coercers."""

    name: str
    """``<program>/<file>``, relative to ``schemas/``."""
    text: str
    schema: Mapping[str, Any]
    validator: Validator
    type: Type
    coercer: Coercer
    fast_input: FastInput | None
    """Generated check-and-coerce (None when the schema uses keywords outside its subset)."""


class SchemaStore:
    """Loads ``schemas/<program>/<file>`` on first use and keeps it for the rest of the load."""

    def __init__(self, schemas_dir: Path) -> None:
        self.schemas_dir = schemas_dir
        self._cache: dict[str, LoadedSchema | str] = {}

    def load(self, program: str, file_name: str) -> LoadedSchema | str:
        """The loaded schema, or a message saying why it cannot be used."""
        name = f"{program}/{file_name}"
        cached = self._cache.get(name)
        if cached is None:
            cached = self._load(name, file_name)
            self._cache[name] = cached
        return cached

    def _load(self, name: str, file_name: str) -> LoadedSchema | str:
        if "/" in file_name or "\\" in file_name or file_name.startswith("."):
            return f"schema {file_name!r}: name a file in schemas/{name.split('/')[0]}/ (no folders)"
        path = self.schemas_dir / name
        try:
            schema = load_schema(path)
            fast = compile_fast_input(schema, name)
            # A schema the fast path compiled is within a subset already checked keyword by keyword.
            validator = compile_validator(schema, check=fast is None)
        except SchemaFileError as exc:
            return str(exc)
        type_ = type_of_schema(schema)
        if type_.kind is not Kind.OBJECT:
            return f"schema {name} must describe an object (type: object with properties)"
        bad = _unusable_field(type_)
        if bad is not None:
            return f"schema {name}: property {bad!r} must be a name: letters, digits and _, not a digit first"
        bad = _invalid_default(schema, validator)
        if bad is not None:
            return f"schema {name}: the default of property {bad} does not match the property's own schema"
        text = path.read_text(encoding="utf-8")
        return LoadedSchema(name, text, schema, validator, type_, build_coercer(type_), fast)

    def texts(self) -> dict[str, str]:
        """Every schema loaded so far, by name."""
        return {name: s.text for name, s in self._cache.items() if isinstance(s, LoadedSchema)}


_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _unusable_field(type_: Type) -> str | None:
    """The first property name that is not a plain name (field names become names in generated code)."""
    pending = [type_]
    while pending:
        current = pending.pop()
        for field, sub in current.fields:
            if _FIELD_NAME.fullmatch(field) is None:
                return field
            pending.append(sub)
        if current.item is not None:
            pending.append(current.item)
    return None


def _invalid_default(schema: Mapping[str, Any], validator: Validator) -> str | None:
    """The first property whose ``default`` its own schema refuses (a default becomes an answer as is)."""
    properties = schema.get("properties")
    if not isinstance(properties, Mapping):
        return None
    for field, sub in properties.items():
        if (
            isinstance(sub, Mapping)
            and "default" in sub
            and not validator.evolve(schema=sub).is_valid(sub["default"])
        ):
            return str(field)
    return None
