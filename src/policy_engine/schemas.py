"""JSON Schema (2020-12) validation of policy files, policy-test tables and decision requests.

This is the only code that reads the ``schemas/`` folder. Schema files are read as JSON with
``parse_float=Decimal`` and duplicate keys rejected; every validator is compiled once, with a type checker
that knows :class:`~decimal.Decimal` (the YAML reader and the request decoder never produce floats) and a
format checker that asserts ``money`` and ``date-time`` with the same rules as the engine's values. Policy
files and test tables are first checked by :mod:`policy_engine.fast_document` (a yes/no check built once
from the schema); only a file it does not pass goes through jsonschema, which words every problem.

Validation errors become plain-words problems:

* :func:`validate_policy` / :func:`validate_policy_tests` give one located
  :class:`~policy_engine.errors.PolicySchemaError` per leaf error, at the file, line and column of the node
  (of the key, for an unknown field), with codes ``schema-type``, ``schema-unknown-field``,
  ``schema-required``, ``schema-enum``, ``schema-pattern`` and ``schema-value`` (formats, bounds, sizes);
* :func:`validate_input` gives one :class:`~policy_engine.errors.InputProblem` per error, located by a JSON
  pointer into the request body (the missing or unknown field itself).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker, TypeChecker, validators
from jsonschema.exceptions import SchemaError, ValidationError, best_match
from jsonschema.protocols import Validator

from policy_engine.errors import InputProblem, PolicyError, PolicySchemaError, did_you_mean
from policy_engine.expr.values import is_money, is_timestamp
from policy_engine.fast_document import DocumentCheck, compile_fast_document
from policy_engine.jsonio import deeper_than, object_without_duplicates
from policy_engine.source import SourceDocument, escape_pointer_token

__all__ = (
    "BUNDLED_SCHEMAS_DIR",
    "MAX_SCHEMA_DEPTH",
    "POLICY_SCHEMA",
    "POLICY_TESTS_SCHEMA",
    "SchemaFileError",
    "compile_validator",
    "find_schemas_dir",
    "format_checker",
    "load_schema",
    "parse_schema",
    "read_schema_text",
    "validate_input",
    "validate_policy",
    "validate_policy_tests",
)

BUNDLED_SCHEMAS_DIR = Path(__file__).resolve().parents[2] / "schemas"
"""The repository's ``schemas/`` folder, whose policy-file schemas match this code."""
POLICY_SCHEMA = "policy.schema.json"
"""File name of the policy-file schema in a schemas folder."""
POLICY_TESTS_SCHEMA = "policy-tests.schema.json"
"""File name of the policy-test-table schema in a schemas folder."""
MAX_SCHEMA_DEPTH = 64
"""Deepest nesting of ``[`` and ``{`` in a schema file, checked before the JSON is parsed."""

MONEY_MESSAGE = "must be a non-negative amount in yuan with at most two decimal places"
TIMESTAMP_MESSAGE = "must be an RFC 3339 timestamp with an offset, e.g. 2021-09-01T10:00:00+08:00"
_FORMAT_MESSAGES = {"money": MONEY_MESSAGE, "date-time": TIMESTAMP_MESSAGE}
_POLICY_TYPE_WORDS = {
    "string": "a string",
    "number": "a number",
    "integer": "an integer",
    "boolean": "true or false",
    "null": "null",
    "object": "a mapping",
    "array": "a list",
}
_INPUT_TYPE_WORDS = {**_POLICY_TYPE_WORDS, "boolean": "a boolean", "object": "an object", "array": "an array"}
_BOUNDS = {
    "minimum": "must be at least {}",
    "maximum": "must be at most {}",
    "exclusiveMinimum": "must be more than {}",
    "exclusiveMaximum": "must be less than {}",
    "minLength": "must be at least {} characters long",
    "maxLength": "must be at most {} characters long",
    "minItems": "must have at least {} items",
    "maxItems": "must have at most {} items",
    "minProperties": "must have at least {} fields",
    "maxProperties": "must have at most {} fields",
    "multipleOf": "must be a multiple of {}",
}
_CODES = {
    "type": "schema-type",
    "additionalProperties": "schema-unknown-field",
    "required": "schema-required",
    "enum": "schema-enum",
    "const": "schema-enum",
    "pattern": "schema-pattern",
}


class SchemaFileError(ValueError):
    """A schema file that is missing, is not strict JSON, or is not a valid JSON Schema 2020-12."""

    def __init__(self, path: Path | None, message: str) -> None:
        self.path = path
        self.message = message
        super().__init__(f"{path}: {message}" if path is not None else message)


# ----------------------------------------------------------------------------------------- loading


def find_schemas_dir(policies_dir: Path) -> Path:
    """The ``schemas/`` folder that belongs to a ``policies/`` folder: its sibling.

    Args:
        policies_dir: The policy directory (``policies/``).

    Returns:
        ``policies_dir.parent / "schemas"``.
    """
    return policies_dir.parent / "schemas"


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def load_schema(path: Path) -> dict[str, Any]:
    """Read one schema file as strict JSON: decimals as ``Decimal``, integers as ``int``, no duplicate keys.

    Args:
        path: The file.

    Returns:
        The schema (a JSON object).

    Raises:
        SchemaFileError: When the file cannot be read, is nested deeper than :data:`MAX_SCHEMA_DEPTH`, is
            not strict JSON, or is not an object.
    """
    return parse_schema(read_schema_text(path), path)


def read_schema_text(path: Path) -> str:
    """The text of a schema file.

    Raises:
        SchemaFileError: When the file is missing or cannot be read as UTF-8.
    """
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SchemaFileError(path, "no such schema file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SchemaFileError(path, f"cannot read the schema file: {exc}") from None


def parse_schema(text: str, path: Path | None) -> dict[str, Any]:
    """A schema file's text as strict JSON (see :func:`load_schema`); ``path`` is named in errors.

    Raises:
        SchemaFileError: When the text is nested deeper than :data:`MAX_SCHEMA_DEPTH`, is not strict JSON,
            or is not an object.
    """
    if deeper_than(text, MAX_SCHEMA_DEPTH):
        raise SchemaFileError(path, f"the schema is nested deeper than {MAX_SCHEMA_DEPTH} levels")
    try:
        data = json.loads(
            text,
            parse_float=Decimal,
            object_pairs_hook=object_without_duplicates,
            parse_constant=_no_constant,
        )
    except json.JSONDecodeError as exc:
        raise SchemaFileError(
            path, f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    except ValueError as exc:
        raise SchemaFileError(path, f"invalid JSON: {exc}") from None
    except ArithmeticError:  # Decimal cannot hold the number (an exponent of 10^18 or more)
        raise SchemaFileError(path, "invalid JSON: a number with an exponent too large to hold") from None
    if not isinstance(data, dict):
        raise SchemaFileError(path, "a schema file must hold a JSON object")
    return data


# ------------------------------------------------------------------------------------- compiling


def _money_format(instance: object) -> bool:
    if isinstance(instance, bool) or not isinstance(instance, str | int | float | Decimal):
        return True  # the type keyword reports values of the wrong type
    return is_money(instance)


def _date_time_format(instance: object) -> bool:
    return not isinstance(instance, str) or is_timestamp(instance)


@functools.cache
def format_checker() -> FormatChecker:
    """The format checker of every schema: ``money`` and ``date-time`` only, asserted.

    ``money`` accepts what :func:`~policy_engine.expr.values.is_money` accepts; ``date-time`` what
    :func:`~policy_engine.expr.values.is_timestamp` accepts (RFC 3339 with an offset, years 2000-2099).
    Values of other types pass: the ``type`` keyword reports them.

    Returns:
        The checker (one per process).
    """
    checker = FormatChecker(formats=())
    checker.checks("money")(_money_format)
    checker.checks("date-time")(_date_time_format)
    return checker


def _is_integer(checker: TypeChecker, instance: object) -> bool:
    if isinstance(instance, bool):
        return False
    if isinstance(instance, int):
        return True
    if isinstance(instance, Decimal):
        return instance.is_finite() and instance == instance.to_integral_value()
    return isinstance(instance, float) and instance.is_integer()


@functools.cache
def _validator_class() -> type[Validator]:
    type_checker = Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_integer)
    cls: type[Validator] = validators.extend(  # type: ignore[no-untyped-call]
        Draft202012Validator, type_checker=type_checker, validators={"multipleOf": _multiple_of}
    )
    return cls


def _multiple_of(validator: Validator, step: Any, instance: Any, schema: Mapping[str, Any]) -> Any:
    """``multipleOf`` that answers for every number: ``1E+39 % 0.01`` is beyond decimal's precision."""
    if not validator.is_type(instance, "number"):
        return
    try:
        remainder = Decimal(instance) % Decimal(step)
    except (ArithmeticError, ValueError, TypeError):
        remainder = None
    if remainder != 0:
        yield ValidationError(f"{instance} is not a multiple of {step}")


def compile_validator(
    schema: Mapping[str, Any], *, path: Path | None = None, check: bool = True
) -> Validator:
    """Check a schema against the 2020-12 meta-schema and compile its validator.

    The validator is Draft 2020-12 with the :func:`format_checker` turned on and ``Decimal`` numbers
    understood (a whole ``Decimal`` is an ``integer``). Call this once per schema and keep the result.

    Args:
        schema: The schema, as :func:`load_schema` read it.
        path: The schema's file, named in the error.
        check: Whether to check the schema against the meta-schema (skip only for a schema already
            checked otherwise, as :mod:`policy_engine.fast_input` does).

    Returns:
        The validator.

    Raises:
        SchemaFileError: When the schema is not a valid JSON Schema 2020-12.
    """
    cls = _validator_class()
    try:
        if check:
            cls.check_schema(dict(schema))
    except SchemaError as exc:
        where = "/".join(str(p) for p in exc.absolute_path)
        raise SchemaFileError(path, f"not a valid JSON Schema 2020-12 at /{where}: {exc.message}") from None
    return cls(schema, format_checker=format_checker())


@dataclass(frozen=True)
class _FileValidator:
    """A policy or test-table schema: jsonschema's validator, and the fast yes/no check when there is one."""

    validator: Validator
    fast: DocumentCheck | None


@functools.lru_cache(maxsize=8)
def _file_validator(path: Path) -> _FileValidator:
    schema = load_schema(path)
    fast = compile_fast_document(schema, format_checker())
    # A schema the fast check was built from has had its keyword values checked: no meta-schema check.
    return _FileValidator(compile_validator(schema, path=path, check=fast is None), fast)


# ------------------------------------------------------------------------------------ error words


@dataclass(frozen=True)
class _Leaf:
    """One problem, before it is located in a file or a request."""

    code: str
    path: tuple[str | int, ...]
    """Instance path of the node the problem names (the missing or unknown field itself, if any)."""
    message: str
    """Plain words, without the "did you mean" part."""
    field: str | None = None
    """For a missing or unknown field: its name (the last element of ``path``)."""
    suggestion: str | None = None


def _join(words: Sequence[str], conjunction: str = "or") -> str:
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} {conjunction} {words[-1]}"


def _show(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _schema(error: ValidationError) -> Mapping[str, Any]:
    return error.schema if isinstance(error.schema, Mapping) else {}


def _extra_keys(instance: Mapping[str, Any], schema: Mapping[str, Any]) -> list[str]:
    properties = schema.get("properties", {})
    patterns = schema.get("patternProperties", {})
    return [k for k in instance if k not in properties and not any(re.search(p, k) for p in patterns)]


def _type_message(error: ValidationError, policy: bool) -> str:
    expected: Any = error.validator_value
    types: list[str] = [expected] if isinstance(expected, str) else list(expected)
    fmt = _schema(error).get("format")
    if not policy and fmt in _FORMAT_MESSAGES:
        return _FORMAT_MESSAGES[fmt] + (" or null" if "null" in types else "")
    if policy and "string" in types and isinstance(error.instance, Decimal):
        return f'must be a quoted string: write "{error.instance}"'
    words = _POLICY_TYPE_WORDS if policy else _INPUT_TYPE_WORDS
    return "must be " + _join([words.get(t, t) for t in types])


def _one_of(error: ValidationError, validator: Validator, policy: bool) -> Iterator[_Leaf]:
    """The useful part of a failed ``oneOf`` / ``anyOf``: the branch the value means, or what is missing."""
    holder = _schema(error)
    instance: Any = error.instance
    declared = holder.get("type")
    if declared is not None:
        types = [declared] if isinstance(declared, str) else declared
        if not any(validator.is_type(instance, t) for t in types):
            return  # the holder's own type error says it
    branches: Any = error.validator_value
    keys: list[Any] = [b.get("required", [None])[0] if isinstance(b, Mapping) else None for b in branches]
    path = tuple(error.absolute_path)
    if (
        isinstance(instance, Mapping)
        and all(isinstance(k, str) for k in keys)
        and len(set(keys)) == len(keys)
    ):
        present = [k for k in keys if k in instance]
        if len(present) == 1:
            index = keys.index(present[0])
            subs = [e for e in error.context if e.relative_schema_path and e.relative_schema_path[0] == index]
            for sub in subs:
                yield from _leaves(sub, validator, policy)
            if subs:
                return
        noun = str(holder.get("title", "value")).lower()
        article = "an" if noun[:1] in "aeiou" else "a"
        head = f"{article} {noun} needs exactly one type key: {', '.join(str(k) for k in keys)}"
        if present:
            yield _Leaf("schema-value", path, f"{head} (it has {_join(present, 'and')})")
            return
        type_keys = [str(k) for k in keys]
        guesses = (did_you_mean(str(name), type_keys) for name in instance)
        suggestion = next((g for g in guesses if g is not None), None)
        message = head if suggestion is not None else f"{head} (it has none)"
        yield _Leaf("schema-required", path, message, suggestion=suggestion)
        return
    if error.context:
        yield from _leaves(best_match(error.context), validator, policy)
    else:
        yield _Leaf("schema-value", path, "does not match any of the allowed forms")


def _leaves(error: ValidationError, validator: Validator, policy: bool) -> Iterator[_Leaf]:
    """The plain-words problems of one validation error (several for several unknown fields)."""
    kind = str(error.validator)
    value: Any = error.validator_value
    instance: Any = error.instance
    schema = _schema(error)
    path = tuple(error.absolute_path)
    code = _CODES.get(kind, "schema-value")
    schema_path = error.absolute_schema_path
    if len(schema_path) >= 2 and schema_path[-2] == "propertyNames" and isinstance(instance, str):
        # A map key failed: point at the key itself.
        reason = schema.get("patternErrorMessage") or f"must match the pattern {schema.get('pattern')}"
        yield _Leaf(code, (*path, instance), f'name "{instance}" {reason}', field=instance)
    elif kind == "required" and isinstance(instance, Mapping):
        for name in value:
            if name not in instance:
                message = "is required" if not policy else f'missing required field "{name}"'
                yield _Leaf(code, (*path, name), message, field=name)
    elif kind == "additionalProperties" and isinstance(instance, Mapping):
        names = list(schema.get("properties", {}))
        for name in _extra_keys(instance, schema):
            message = "is not allowed" if not policy else f'unknown field "{name}"'
            yield _Leaf(code, (*path, name), message, field=name, suggestion=did_you_mean(name, names))
    elif kind in {"oneOf", "anyOf"}:
        yield from _one_of(error, validator, policy)
    elif kind == "type":
        yield _Leaf(code, path, _type_message(error, policy))
    elif kind == "enum":
        options = [_show(v) for v in value]
        names = [o for o in options if o != "null"]
        guess = did_you_mean(instance, names) if isinstance(instance, str) else None
        yield _Leaf(code, path, f"must be one of: {', '.join(options)}", suggestion=guess)
    elif kind == "minimum" and schema.get("format") == "money":
        return  # the money format's message already says "non-negative"
    else:
        yield _Leaf(code, path, _value_message(error, kind, value, schema))


def _value_message(error: ValidationError, kind: str, value: Any, schema: Mapping[str, Any]) -> str:
    """The words for a keyword that constrains a single value: const, pattern, format, bounds, sizes."""
    if kind == "const":
        return f"must be {_show(value)}"
    if kind == "pattern":
        return str(schema.get("patternErrorMessage") or f"must match the pattern {value}")
    if kind == "format":
        return _FORMAT_MESSAGES.get(str(value), f"must be a valid {value}")
    if kind == "minProperties" and value == 1 and schema.get("properties"):
        return f"must give at least one of: {', '.join(schema['properties'])}"
    if kind in {"minLength", "minProperties"} and value == 1:
        return "must not be empty"
    if kind in _BOUNDS:
        return _BOUNDS[kind].format(_show(value))
    if kind == "uniqueItems":
        return "must not contain the same item twice"
    return error.message


def _pointer(path: Sequence[str | int]) -> str:
    return "".join(f"/{escape_pointer_token(str(p))}" for p in path)


def _with_suggestion(leaf: _Leaf) -> str:
    if leaf.suggestion is None:
        return leaf.message
    return f"{leaf.message} (did you mean {leaf.suggestion}?)"


# ------------------------------------------------------------------------------------- validating


def _validate_document(doc: SourceDocument, checker: _FileValidator) -> list[PolicyError]:
    if checker.fast is not None and checker.fast(doc.data):
        return []  # valid: jsonschema would find nothing (an invalid document is worded by jsonschema)
    validator = checker.validator
    found: dict[tuple[str, str, str], PolicyError] = {}
    for error in validator.iter_errors(doc.data):
        for leaf in _leaves(error, validator, policy=True):
            if leaf.code == "schema-required" and leaf.field is not None:
                # A missing field is reported at the object that lacks it.
                location = doc.location(_pointer(leaf.path[:-1]), key=len(leaf.path) > 1)
            else:
                location = doc.location(_pointer(leaf.path), key=leaf.field is not None)
            message = _with_suggestion(leaf)
            found.setdefault(
                (leaf.code, location.pointer, message),
                PolicySchemaError(leaf.code, message, location, suggestion=leaf.suggestion),
            )
    return sorted(found.values(), key=PolicyError.sort_key)


def validate_policy(doc: SourceDocument, *, schemas_dir: Path | None = None) -> list[PolicyError]:
    """Check a policy file against ``policy.schema.json``.

    Args:
        doc: The file as the strict YAML reader read it.
        schemas_dir: The folder holding ``policy.schema.json``; the repository's ``schemas/`` by default.

    Returns:
        One located :class:`~policy_engine.errors.PolicySchemaError` per problem, sorted; empty when valid.

    Raises:
        SchemaFileError: When the schema file itself is missing or broken.
    """
    path = (schemas_dir or BUNDLED_SCHEMAS_DIR) / POLICY_SCHEMA
    return _validate_document(doc, _file_validator(path))


def validate_policy_tests(doc: SourceDocument, *, schemas_dir: Path | None = None) -> list[PolicyError]:
    """Check a policy-test table against ``policy-tests.schema.json``.

    Args:
        doc: The file as the strict YAML reader read it.
        schemas_dir: The folder holding ``policy-tests.schema.json``; by default the repository's
            ``schemas/``.

    Returns:
        One located :class:`~policy_engine.errors.PolicySchemaError` per problem, sorted; empty when valid.

    Raises:
        SchemaFileError: When the schema file itself is missing or broken.
    """
    path = (schemas_dir or BUNDLED_SCHEMAS_DIR) / POLICY_TESTS_SCHEMA
    return _validate_document(doc, _file_validator(path))


def validate_input(validator: Validator, data: Any, prefix: str = "/input") -> list[InputProblem]:
    """Check a decision's input against its compiled input schema.

    Args:
        validator: The decision's input validator (:func:`compile_validator`).
        data: The input as decoded from the request (numbers as ``Decimal``).
        prefix: JSON pointer of the input in the request body.

    Returns:
        One problem per error, pointing at the field concerned (a missing or unknown field itself),
        sorted by pointer and deduplicated; empty when the input is valid.
    """
    found: set[InputProblem] = set()
    for error in validator.iter_errors(data):
        for leaf in _leaves(error, validator, policy=False):
            found.add(InputProblem(prefix + _pointer(leaf.path), _with_suggestion(leaf)))
    return sorted(found, key=lambda p: (p.pointer, p.message))
