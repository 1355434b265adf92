"""The fast policy-file check agrees with jsonschema; validation errors stay exactly as jsonschema words them.

Checked on every YAML file of the repository (bundled policies and test tables, the golden error cases, the
hostile corpus, fixtures) and on hypothesis mutations of the bundled policies: a node replaced by another
value, a key removed or an unknown key added. A schema the fast check accepts passes the meta-schema check.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from policy_engine.errors import PolicyLoadError
from policy_engine.fast_document import compile_fast_document, schema_in_subset
from policy_engine.jsonio import dumps_exact, loads_strict
from policy_engine.policy_tests import load_test_cases
from policy_engine.schemas import (
    BUNDLED_SCHEMAS_DIR,
    POLICY_SCHEMA,
    POLICY_TESTS_SCHEMA,
    _file_validator,
    _FileValidator,
    _validate_document,
    compile_validator,
    format_checker,
    load_schema,
    validate_policy,
)
from policy_engine.source import SourceDocument, parse_source

ROOT = Path(__file__).resolve().parent.parent
POLICY = _file_validator(BUNDLED_SCHEMAS_DIR / POLICY_SCHEMA)
TESTS = _file_validator(BUNDLED_SCHEMAS_DIR / POLICY_TESTS_SCHEMA)
SLOW_POLICY = _FileValidator(POLICY.validator, None)


def _documents(pattern: str) -> list[Path]:
    return sorted(p for p in ROOT.glob(pattern) if ".venv" not in p.parts and "var" not in p.parts)


BUNDLED = _documents("policies/*/*.yaml")
TABLES = _documents("policies/*/tests/*.cases.yaml")


def _read(path: Path) -> SourceDocument | None:
    try:
        return parse_source(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    except (PolicyLoadError, UnicodeDecodeError):
        return None


def _is_mapping_file(path: Path) -> bool:
    doc = _read(path)
    return doc is not None and isinstance(doc.data, dict)


# The other YAML files of the tests that read as a mapping (the rest never reach a schema).
OTHERS = sorted(
    p for p in set(_documents("tests/**/*.yaml")) - set(BUNDLED) - set(TABLES) if _is_mapping_file(p)
)


def _agree(checker: _FileValidator, data: Any) -> bool:
    """The fast answer equals jsonschema's; returns it."""
    assert checker.fast is not None
    fast = checker.fast(copy.deepcopy(data))
    valid = checker.validator.is_valid(data)
    assert fast == valid, f"fast check says {fast}, jsonschema says {valid}: {data!r}"
    return valid


def test_both_bundled_schemas_have_a_fast_check() -> None:
    assert POLICY.fast is not None
    assert TESTS.fast is not None


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_bundled_policy_is_valid_by_both(path: Path) -> None:
    doc = _read(path)
    assert doc is not None
    assert _agree(POLICY, doc.data)


@pytest.mark.parametrize("path", TABLES, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_every_bundled_test_table_is_valid_by_both(path: Path) -> None:
    doc = _read(path)
    assert doc is not None
    assert _agree(TESTS, doc.data)


@pytest.mark.parametrize("path", OTHERS, ids=lambda p: str(p.relative_to(ROOT / "tests")))
def test_every_other_yaml_file_gets_the_same_answer_and_the_same_errors(path: Path) -> None:
    doc = _read(path)
    assert doc is not None
    checker = TESTS if path.name.endswith(".cases.yaml") else POLICY
    _agree(checker, doc.data)
    if checker is POLICY:
        assert validate_policy(doc) == _validate_document(doc, SLOW_POLICY)


# -------------------------------------------------------------------------------- mutations

_WORDS = [
    "",
    "x",
    "first",
    "collect",
    "max",
    "money",
    "integer",
    "string",
    "2021.08",
    "2021.8",
    "2021-08-10T00:00:00+08:00",
    "2021-08-10",
    "Asia/Shanghai",
    "CNY",
    "cny",
    "6h",
    "16:00",
    "16:00:00",
    "order.amount > 0",
    "Bad-Name",
    "claim.input.schema.json",
    "a_b",
    "approve",
    "299.00",
    "1.005",
    "-1.00",
    "2021-09-01T10:00:00",
    "instant_refund",
    "general",
]
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 10**6),
    st.sampled_from([Decimal("0.01"), Decimal("1E+39"), Decimal("0.005"), 100, Decimal("7.0")]),
    st.decimals(allow_nan=False, allow_infinity=False, places=3, min_value=-1000, max_value=10**6),
    st.sampled_from(_WORDS),
    st.text(max_size=8),
)
_KEYS = st.one_of(
    st.sampled_from(_WORDS), st.sampled_from(["money", "then", "when", "id", "input", "list", "of"])
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_KEYS, inner, max_size=3)),
    max_leaves=6,
)
_BASES = [doc.data for doc in (_read(p) for p in BUNDLED) if doc is not None]


def _slots(data: Any) -> list[tuple[Any, Any]]:
    """Every (container, key or index) of a document, outermost first."""
    found: list[tuple[Any, Any]] = []
    pending = [data]
    while pending:
        node = pending.pop()
        keys = list(node) if isinstance(node, dict) else range(len(node)) if isinstance(node, list) else []
        for key in keys:
            found.append((node, key))
            pending.append(node[key])
    return found


def _mutate(data: st.DataObject, doc: Any) -> None:
    """Replace, remove or add one value somewhere in ``doc`` (a no-op when it holds nothing)."""
    slots = _slots(doc)
    if not slots:
        return
    container, key = data.draw(st.sampled_from(slots))
    action = data.draw(st.sampled_from(["replace", "replace", "remove", "add"]))
    if action == "replace":
        container[key] = data.draw(_VALUES)
    elif action == "remove":
        del container[key]
    else:
        target = container[key]
        if isinstance(target, dict):
            target[data.draw(_KEYS)] = data.draw(_VALUES)
        elif isinstance(target, list):
            target.append(data.draw(_VALUES))
        elif isinstance(container, dict):
            container[data.draw(_KEYS)] = data.draw(_VALUES)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_policies_get_the_same_answer_and_the_same_errors(data: st.DataObject) -> None:
    doc = copy.deepcopy(data.draw(st.sampled_from(_BASES)))
    for _ in range(data.draw(st.integers(1, 3))):
        _mutate(data, doc)
    event("valid" if _agree(POLICY, doc) else "invalid")
    document = SourceDocument(path="p.yaml", text="", data=doc)
    assert validate_policy(document) == _validate_document(document, SLOW_POLICY)


# --------------------------------------------------------------------------------- schemas

_SCHEMA_VALUES = st.one_of(
    _SCALARS,
    st.sampled_from([[], ["string"], ["string", "string"], {}, {"type": "nope"}, "(", "#/$defs/nope", True]),
    st.lists(st.sampled_from(["string", "number", "x"]), max_size=3),
)


def _schema_slots(schema: Any) -> list[tuple[Any, Any]]:
    return [(node, key) for node, key in _slots(schema) if isinstance(node, dict)]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_schema_the_fast_check_accepts_passes_the_meta_schema(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from([POLICY_SCHEMA, POLICY_TESTS_SCHEMA]))
    schema = load_schema(BUNDLED_SCHEMAS_DIR / name)
    node, key = data.draw(st.sampled_from(_schema_slots(schema)))
    if data.draw(st.booleans()):
        node[key] = data.draw(_SCHEMA_VALUES)
    else:
        node[data.draw(st.sampled_from(["const", "maxLength", "minimum", "items", "enum", "$ref", "x"]))] = (
            data.draw(_SCHEMA_VALUES)
        )
    accepted = compile_fast_document(schema, format_checker()) is not None
    assert schema_in_subset(schema) == accepted
    event("accepted" if accepted else "refused")
    if accepted:
        Draft202012Validator.check_schema(schema)


def test_a_schema_outside_the_subset_has_no_fast_check() -> None:
    for extra in ({"const": 1}, {"$id": "x"}, {"patternProperties": {}}, {"unevaluatedProperties": False}):
        assert compile_fast_document({"type": "object", **extra}, format_checker()) is None
        assert not schema_in_subset({"type": "object", **extra})
    assert compile_fast_document({"$ref": "#/$defs/missing"}, format_checker()) is None
    assert (
        compile_fast_document({"$schema": "http://json-schema.org/draft-07/schema#"}, format_checker())
        is None
    )


def test_values_the_reader_never_makes_are_left_to_jsonschema() -> None:
    check = compile_fast_document({"type": "number", "minimum": 0}, format_checker())
    assert check is not None
    assert check(Decimal("1")) is True
    assert check(1.5) is False  # a float: not decided here
    assert check(Decimal("-1")) is False


# ------------------------------------------------------------------------------ decision schemas

DECISION_SCHEMAS = sorted(BUNDLED_SCHEMAS_DIR.glob("*/*.json"))
_CASES, _ = load_test_cases(ROOT / "policies")


def _decision_checker(path: Path) -> _FileValidator:
    schema = load_schema(path)
    return _FileValidator(compile_validator(schema), compile_fast_document(schema, format_checker()))


DECISION_CHECKERS = {p: _decision_checker(p) for p in DECISION_SCHEMAS}


def _inputs(path: Path) -> list[Any]:
    """Every input of the policy tables (as a request would carry it), for an input schema; else outputs."""
    program, name = path.parent.name, path.name.split(".")[0].split("-")[0]
    found = []
    for case in _CASES:
        if case.program == program and case.decision == name:
            found.append(loads_strict(dumps_exact(case.input)))
            if isinstance(case.expect.get("result"), dict):
                found.append(loads_strict(dumps_exact(case.expect["result"])))
    return found


@pytest.mark.parametrize("path", DECISION_SCHEMAS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_decision_schema_has_a_fast_check_that_agrees_on_the_table_values(path: Path) -> None:
    checker = DECISION_CHECKERS[path]
    assert checker.fast is not None
    values = _inputs(path)
    assert values, f"no policy test reaches {path.name}"
    for value in values:
        _agree(checker, value)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_decision_values_get_the_same_answer(data: st.DataObject) -> None:
    path = data.draw(st.sampled_from(DECISION_SCHEMAS))
    value = copy.deepcopy(data.draw(st.sampled_from(_inputs(path))))
    _mutate(data, value)
    event("valid" if _agree(DECISION_CHECKERS[path], value) else "invalid")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_decision_schema_the_fast_check_accepts_passes_the_meta_schema(data: st.DataObject) -> None:
    schema = load_schema(data.draw(st.sampled_from(DECISION_SCHEMAS)))
    node, key = data.draw(st.sampled_from(_schema_slots(schema)))
    node[key] = data.draw(_SCHEMA_VALUES)
    accepted = compile_fast_document(schema, format_checker()) is not None
    assert schema_in_subset(schema) == accepted
    event("accepted" if accepted else "refused")
    if accepted:
        Draft202012Validator.check_schema(schema)
