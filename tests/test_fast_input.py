"""The generated input check never accepts what jsonschema refuses, and coerces exactly as the coercer does.

Checked over every input of every bundled policy test table (valid and invalid), and over hypothesis
mutations of them: a field replaced by any JSON value, removed, or an unknown field added.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policy_engine import CompiledDecision, Registry, load_registry
from policy_engine.coerce import build_coercer
from policy_engine.expr.types import type_of_schema
from policy_engine.fast_input import INVALID, compile_fast_input
from policy_engine.jsonio import dumps_exact, loads_strict
from policy_engine.policy_tests import load_test_cases
from policy_engine.schemas import compile_validator, validate_input

ROOT = Path(__file__).resolve().parent.parent
REGISTRY: Registry = load_registry(ROOT / "policies")


def _decisions() -> dict[str, CompiledDecision]:
    found: dict[str, CompiledDecision] = {}
    for versions in REGISTRY.programs.values():
        for window in versions.windows:
            for decision in window.policy.decisions.values():
                found.setdefault(decision.schema_files[0], decision)
    return found


DECISIONS = _decisions()
CASES, _ = load_test_cases(ROOT / "policies")


def _inputs_of(decision: CompiledDecision) -> list[Any]:
    out = []
    for case in CASES:
        if case.program != decision.program or case.decision != decision.name:
            continue
        # as a request body would arrive: exact numbers, through the strict JSON decoder
        out.append(loads_strict(dumps_exact(case.input)))
    return out


def _agrees(decision: CompiledDecision, data: Any) -> bool:
    """The fast path's answer for ``data`` is one jsonschema and the coercer allow."""
    assert decision.fast_input is not None
    fast = decision.fast_input(copy.deepcopy(data))
    valid = isinstance(data, dict) and not validate_input(decision.input_validator, data)
    if fast is INVALID:
        return True  # the slow path decides; only accepting too much would be wrong
    assert valid, f"fast path accepted input jsonschema refuses: {data!r}"
    expected = decision.coerce(data)
    assert fast == expected and _same_types(fast, expected), (fast, expected)
    return valid


def _same_types(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same_types(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same_types(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, Decimal):
        return a.as_tuple() == b.as_tuple()
    return True


@pytest.mark.parametrize("schema_file", sorted(DECISIONS))
def test_every_bundled_input_schema_has_a_fast_path(schema_file: str) -> None:
    assert DECISIONS[schema_file].fast_input is not None


@pytest.mark.parametrize("schema_file", sorted(DECISIONS))
def test_fast_path_agrees_with_jsonschema_on_every_table_input(schema_file: str) -> None:
    decision = DECISIONS[schema_file]
    inputs = _inputs_of(decision)
    assert inputs, f"no policy test uses {schema_file}"
    accepted = 0
    for data in inputs:
        _agrees(decision, data)
        if not validate_input(decision.input_validator, data):
            assert decision.fast_input is not None
            assert decision.fast_input(data) is not INVALID, f"valid input sent to the slow path: {data!r}"
            accepted += 1
    assert accepted, "every table of a decision has valid inputs"


_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.decimals(allow_nan=False, allow_infinity=False, places=3, min_value=-(10**9), max_value=10**9),
    st.sampled_from(["", "299.00", "1.005", "-1.00", "general", "ＴＲＵＥ"]),
    st.sampled_from(["2021-09-01T10:00:00+08:00", "2021-09-01T10:00:00", "9999-12-31T23:59:59Z"]),
    st.text(max_size=8),
)
_json = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out += _paths(item, (*prefix, index))
    return out


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fast_path_never_accepts_a_mutated_input_jsonschema_refuses(data: st.DataObject) -> None:
    schema_file = data.draw(st.sampled_from(sorted(DECISIONS)))
    decision = DECISIONS[schema_file]
    original = data.draw(st.sampled_from(_inputs_of(decision)))
    mutated = copy.deepcopy(original)
    path = data.draw(st.sampled_from(_paths(mutated)[1:] or [()]))
    action = data.draw(st.sampled_from(["replace", "remove", "add"]))
    if not path:
        mutated = data.draw(_json)
    else:
        parent = mutated
        for part in path[:-1]:
            parent = parent[part]
        last = path[-1]
        if action == "replace":
            parent[last] = data.draw(_json)
        elif action == "remove" and isinstance(parent, dict):
            del parent[last]
        elif isinstance(parent, dict):
            parent[data.draw(st.text(min_size=1, max_size=6))] = data.draw(_json)
    _agrees(decision, mutated)


def test_a_schema_keyword_outside_the_subset_gives_no_fast_path() -> None:
    assert compile_fast_input({"type": "object", "oneOf": [{"required": ["a"]}]}) is None
    assert compile_fast_input({"type": "object", "properties": {"a": {"$ref": "#/x"}}}) is None
    assert compile_fast_input({"type": "string", "format": "email"}) is None


def test_schemas_the_meta_schema_refuses_get_no_fast_path() -> None:
    # a fast path stands in for the meta-schema check, so it must refuse whatever the check would
    assert compile_fast_input({"type": "object", "$id": "a#b"}) is None
    assert compile_fast_input({"type": "string", "items": {"type": "bogus"}}) is None
    assert compile_fast_input({"type": "integer", "properties": {"a": {"type": 7}}}) is None
    assert compile_fast_input({"type": "object", "required": "a"}) is None
    bad_pattern = {"type": "object", "properties": {"a": {"type": "string", "pattern": "("}}}
    assert compile_fast_input(bad_pattern) is None


_LEAVES: list[dict[str, Any]] = [
    {"type": "string"},
    {"type": ["string", "null"]},
    {"type": "boolean"},
    {"type": ["boolean", "null"]},
    {"type": "string", "enum": ["a", "b"]},
    {"type": ["string", "null"], "enum": ["a", None]},
    {"type": ["string", "null"], "enum": ["a", "b"]},
    {"type": "string", "enum": ["a", None]},
    {"type": "string", "format": "date-time"},
    {"type": ["string", "null"], "format": "date-time"},
    {"type": ["string", "number"], "format": "money"},
    {"type": ["string", "number", "null"], "format": "money"},
]
_VALUES: list[Any] = [
    "a", "b", "c", "", None, True, False, 0, 1, Decimal("1.5"), Decimal("1.234"), Decimal("NaN"), [], {},
    ["a"], "12.30", "12.345", "-1", "2021-09-01T10:00:00+08:00", "2021-09-01T10:00:00Z",
    "2021-09-01 10:00:00+08:00", "1999-12-31T23:59:59+08:00", "2021-09-01T10:00:00",
]  # fmt: skip


@pytest.mark.parametrize("leaf", _LEAVES, ids=lambda leaf: dumps_exact(leaf))
@pytest.mark.parametrize("required", [True, False], ids=["required", "optional"])
def test_each_one_line_leaf_form_accepts_and_coerces_as_jsonschema_and_the_coercer_do(
    leaf: dict[str, Any], required: bool
) -> None:
    # The leaves the generator writes as one expression (a reader or a test that raises ValueError),
    # with every kind of value: each valid one must be taken (and coerced as the coercer does), each
    # invalid one refused. A missing optional field reads as None.
    schema = {"type": "object", "properties": {"x": leaf}, "additionalProperties": False}
    if required:
        schema["required"] = ["x"]
    fast = compile_fast_input(schema)
    assert fast is not None
    validator = compile_validator(schema)
    coerce = build_coercer(type_of_schema(schema))
    accepted = 0
    for data in [{"x": value} for value in _VALUES] + [{}]:
        valid = validator.is_valid(data)
        got = fast(copy.deepcopy(data))
        if valid:
            assert got is not INVALID, data
            expected = coerce(data)
            assert got == expected and _same_types(got, expected), (data, got, expected)
            accepted += 1
        else:
            assert got is INVALID, data
    assert accepted >= 1


@pytest.mark.parametrize("levels", [19, 20, 25, 60])
def test_a_schema_nested_past_pythons_block_limit_gets_no_fast_path_not_a_crash(levels: int) -> None:
    # each array level is a loop in the generated function; Python allows 20 nested blocks, the whole
    # function's try among them. Past that the schema is left to jsonschema, as any doubt is.
    leaf: dict[str, Any] = {"type": "string"}
    for _ in range(levels):
        leaf = {"type": "array", "items": leaf}
    schema = {"type": "object", "properties": {"a": leaf}}
    fast = compile_fast_input(schema)
    if levels < 20:
        assert fast is not None
    if fast is not None:
        nested: Any = "x"
        for _ in range(levels):
            nested = [nested]
        assert fast({"a": nested}) == {"a": nested}
