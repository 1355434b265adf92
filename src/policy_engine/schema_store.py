"""Decision input and output schemas, loaded and compiled once per file (and per text) for every version."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from jsonschema.protocols import Validator

from policy_engine.coerce import Coercer, build_coercer
from policy_engine.expr.types import Kind, Type, type_of_schema
from policy_engine.fast_document import schema_in_subset
from policy_engine.fast_input import FastInput, compile_fast_input
from policy_engine.schemas import (
    SchemaFileError,
    compile_validator,
    parse_schema,
    read_schema_text,
)

__all__ = ("LoadedSchema", "SchemaStore")


class _Compiled:
    """What one schema text compiles to; shared by every file with that text (copies of a program)."""

    def __init__(self, schema: Mapping[str, Any], type_: Type, fast_name: str) -> None:
        self.schema = schema
        self.validator = compile_validator(schema, check=False)  # checked by the caller
        self.type = type_
        self._fast_name = fast_name

    @cached_property
    def coercer(self) -> Coercer:
        """Built when a decision takes it (at load, for its input schema): output schemas need none."""
        return build_coercer(self.type)

    @cached_property
    def fast_input(self) -> FastInput | None:
        """Generated on first use: only a decision's input schema needs it, not its output schema."""
        return compile_fast_input(self.schema, self._fast_name)


@dataclass(frozen=True)
class LoadedSchema:
    """One decision schema file: its text (for the digest), schema, validator, type and input coercers."""

    name: str
    """``<program>/<file>``, relative to ``schemas/``."""
    text: str
    _compiled: _Compiled

    @property
    def schema(self) -> Mapping[str, Any]:
        """The schema as read (numbers as ``Decimal``)."""
        return self._compiled.schema

    @property
    def validator(self) -> Validator:
        """The jsonschema validator (it words the problems of invalid input)."""
        return self._compiled.validator

    @property
    def type(self) -> Type:
        """The evaluation type the schema describes."""
        return self._compiled.type

    @property
    def coercer(self) -> Coercer:
        """JSON value → evaluation values, for valid input."""
        return self._compiled.coercer

    @property
    def fast_input(self) -> FastInput | None:
        """Generated check-and-coerce (None when the schema uses keywords outside its subset)."""
        return self._compiled.fast_input


class SchemaStore:
    """Loads ``schemas/<program>/<file>`` on first use and keeps it for the rest of the load.

    A schema text is compiled once per load, whichever files hold it: renamed copies of a program share
    their schemas' validators, types and generated input checks.
    """

    def __init__(self, schemas_dir: Path) -> None:
        self.schemas_dir = schemas_dir
        self._cache: dict[str, LoadedSchema | str] = {}
        self._by_text: dict[str, _Compiled] = {}

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
            text = read_schema_text(path)
        except SchemaFileError as exc:
            return str(exc)
        compiled = self._by_text.get(text)
        if compiled is None:
            result = _compile(text, path, name)
            if isinstance(result, str):
                return result
            compiled = self._by_text[text] = result
        return LoadedSchema(name, text, compiled)

    def text(self, name: str) -> str | None:
        """The text of one schema loaded so far (``<program>/<file>``), else None."""
        loaded = self._cache.get(name)
        return loaded.text if isinstance(loaded, LoadedSchema) else None


def _compile(text: str, path: Path, name: str) -> _Compiled | str:
    """A schema text checked and compiled, or a message saying why it cannot be used."""
    fast: FastInput | None = None
    try:
        schema = parse_schema(text, path)
        # A schema either fast check accepts has had every keyword value checked: no meta-schema check.
        checked = schema_in_subset(schema)
        if not checked:
            fast = compile_fast_input(schema, name)
            if fast is None:
                compile_validator(schema)
    except SchemaFileError as exc:
        return str(exc)
    type_ = type_of_schema(schema)
    if type_.kind is not Kind.OBJECT:
        return f"schema {name} must describe an object (type: object with properties)"
    bad = _unusable_field(type_)
    if bad is not None:
        return f"schema {name}: property {bad!r} must be a name: letters, digits and _, not a digit first"
    compiled = _Compiled(schema, type_, name)
    if fast is not None:
        compiled.fast_input = fast  # already generated: keep it
    bad = _invalid_default(schema, compiled.validator)
    if bad is not None:
        return f"schema {name}: the default of property {bad} does not match the property's own schema"
    return compiled


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
