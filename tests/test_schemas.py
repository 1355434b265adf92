from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from jsonschema.protocols import Validator

from policy_engine.errors import InputProblem, PolicyError
from policy_engine.schemas import (
    BUNDLED_SCHEMAS_DIR,
    SchemaFileError,
    compile_validator,
    find_schemas_dir,
    format_checker,
    load_schema,
    validate_input,
    validate_policy,
    validate_policy_tests,
)
from policy_engine.source import SourceDocument, parse_source

SCHEMA_FILES = sorted(BUNDLED_SCHEMAS_DIR.rglob("*.json"))

EXAMPLE_POLICY = """\
# yaml-language-server: $schema=../../schemas/policy.schema.json
program: douyin-anxingou
version: "2021.08"
effective_from: "2021-08-10T00:00:00+08:00"
effective_until: "2030-01-01T00:00:00+08:00"
timezone: Asia/Shanghai
currency: CNY
title: 抖音电商 安心购
source: https://school.jinritemai.com/
params:
  instant_refund_max: {money: 300.00, title: 极速退款金额上限}
  instant_refund_window: {duration: 6h}
  return_days: {days: 7}
  fee_rate: {percent: 1.2}
  cutoff: {time_of_day: "16:00:00"}
  late_threshold: {integer: 3, assumption: our estimate}
  enabled: {boolean: true}
  mandatory_services: {list: [genuine, seven_day_return], of: string}
  scenarios:
    table:
      - {id: bike_sharing, threshold: 650, deposit: 99.00}
      - {id: hotel, threshold: 600, deposit: 500.00}
    columns: {id: string, threshold: integer, deposit: money}
    key: id
    assumption: the hotel deposit is our estimate
decisions:
  claim:
    title: 售后理赔
    input: claim.input.schema.json
    output: claim.output.schema.json
    as_of: order.placed_at
    hit: first
    let:
      since_placed: claim.filed_at - order.placed_at
    rules:
      - id: instant_refund
        title: 极速退款
        when: claim.type == "instant_refund" and since_placed <= params.instant_refund_window
        then:
          outcome: approve
          refund: order.amount
          compensation: 0.00
          service: instant_refund
          reason: "下单后 {since_placed} 内申请，极速退款"
    otherwise:
      outcome: deny
      service: null
      reason: 不符合任何安心购服务条件
    derive:
      total: result.refund + result.compensation
"""

EXTENDING_POLICY = """\
program: douyin-anxingou
version: "2023.07"
effective_from: "2023-07-25T00:00:00+08:00"
extends: "2021.08"
params:
  late_cap: {money: 100.00}
decisions:
  claim:
    rules:
      - id: new_rule
        before: instant_refund
        when: order.amount > 0
        then: {outcome: approve}
    remove_rules: [old_rule]
"""

EXAMPLE_TESTS = """\
# yaml-language-server: $schema=../../../schemas/policy-tests.schema.json
program: douyin-anxingou
decision: claim
defaults:
  input: {order: {amount: "100.00"}, claim: {type: instant_refund}}
cases:
  - name: instant refund at exactly 300.00
    version: "2021.08"
    at: "2021-09-01T11:00:00+08:00"
    input: {order: {amount: "300.00", signed_at: null}}
    expect:
      result: {outcome: approve, refund: "300.00"}
      matched_rules: [instant_refund]
      reasons: ["极速退款"]
  - name: negative amount is refused
    input: {order: {amount: "-1.00"}}
    expect:
      error: {status: 422, pointer: /input/order/amount}
"""


def policy_errors(text: str) -> list[PolicyError]:
    return validate_policy(parse_source(text, "policy.yaml"))


def by_pointer(errors: list[PolicyError]) -> dict[str, PolicyError]:
    return {e.location.pointer: e for e in errors}


# ------------------------------------------------------------------------------------ schema files


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: str(p.relative_to(BUNDLED_SCHEMAS_DIR)))
def test_every_schema_file_is_valid_2020_12(path: Path) -> None:
    schema = load_schema(path)
    Draft202012Validator.check_schema(schema)
    compile_validator(schema, path=path)


def test_schema_files_exist() -> None:
    names = {str(p.relative_to(BUNDLED_SCHEMAS_DIR)) for p in SCHEMA_FILES}
    assert {
        "policy.schema.json",
        "policy-tests.schema.json",
        "douyin-anxingou/claim.input.schema.json",
        "douyin-anxingou/claim.output.schema.json",
    } <= names


def _walk(node: Any, pointer: str = "") -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    if isinstance(node, dict):
        if isinstance(node.get("properties"), dict):
            found.extend((f"{pointer}/properties/{k}", v) for k, v in node["properties"].items())
        if node.get("type") == "object" and "properties" in node:
            assert node.get("additionalProperties") is False, f"{pointer} allows unknown fields"
        for key, value in node.items():
            found.extend(_walk(value, f"{pointer}/{key}"))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found.extend(_walk(value, f"{pointer}/{i}"))
    return found


@pytest.mark.parametrize("name", ["policy.schema.json", "policy-tests.schema.json"])
def test_policy_schemas_document_every_property(name: str) -> None:
    for pointer, prop in _walk(load_schema(BUNDLED_SCHEMAS_DIR / name)):
        if "/else/" in pointer:
            continue
        assert "title" in prop and "description" in prop, pointer


@pytest.mark.parametrize("name", ["claim.input.schema.json", "claim.output.schema.json"])
def test_decision_schemas_describe_every_property(name: str) -> None:
    schema = load_schema(BUNDLED_SCHEMAS_DIR / "douyin-anxingou" / name)
    for pointer, prop in _walk(schema):
        assert prop.get("description"), pointer
        if name.endswith(".input.schema.json"):
            assert "default" not in prop, pointer


def test_find_schemas_dir() -> None:
    assert find_schemas_dir(Path("/repo/policies")) == Path("/repo/schemas")


# ------------------------------------------------------------------------------------ load_schema


def test_load_schema_keeps_decimals_and_ints(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text('{"type": "number", "minimum": 0.5, "maximum": 10}', encoding="utf-8")
    schema = load_schema(path)
    assert schema["minimum"] == Decimal("0.5") and isinstance(schema["minimum"], Decimal)
    assert schema["maximum"] == 10 and type(schema["maximum"]) is int


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('{"type": "string", "type": "number"}', "duplicate key 'type'"),
        ('{"type": ', "invalid JSON at line 1"),
        ('{"maximum": NaN}', "NaN is not JSON"),
        ("[1, 2]", "must hold a JSON object"),
        ('{"maximum": 1e5000000000000000000}', "exponent too large"),
    ],
)
def test_load_schema_rejects_bad_files(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SchemaFileError, match=words) as info:
        load_schema(path)
    assert isinstance(info.value, ValueError)
    assert info.value.path == path


def test_load_schema_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SchemaFileError, match="no such schema file"):
        load_schema(tmp_path / "absent.json")


def test_compile_validator_rejects_an_invalid_schema() -> None:
    with pytest.raises(SchemaFileError, match="not a valid JSON Schema 2020-12"):
        compile_validator({"type": "strng"}, path=Path("x.json"))


def test_format_checker_lets_other_types_pass() -> None:
    checker = format_checker()
    assert checker.conforms(True, "money") and checker.conforms(None, "money")
    assert checker.conforms(Decimal("3"), "date-time")
    assert checker.conforms("12.30", "money") and not checker.conforms("12.345", "money")
    assert not checker.conforms(Decimal("-1"), "money")
    assert checker.conforms("2021-09-01T10:00:00+08:00", "date-time")
    assert not checker.conforms("2021-09-01T10:00:00", "date-time")


def test_whole_decimals_are_integers() -> None:
    validator = compile_validator({"type": "integer", "minimum": 1})
    valid: list[Any] = [Decimal("3"), 3, Decimal("3.0")]
    invalid: list[Any] = [Decimal("3.5"), True, Decimal("0"), "3"]
    assert all(validator.is_valid(v) for v in valid)
    assert not any(validator.is_valid(v) for v in invalid)


# ---------------------------------------------------------------------------------- policy schema


def test_policy_example_is_valid() -> None:
    assert policy_errors(EXAMPLE_POLICY) == []


def test_policy_example_as_plain_data_is_valid() -> None:
    data = {
        "program": "douyin-anxingou",
        "version": "2021.08",
        "effective_from": "2021-08-10T00:00:00+08:00",
        "params": {"instant_refund_max": {"money": Decimal("300.00")}},
        "decisions": {
            "claim": {
                "input": "claim.input.schema.json",
                "output": "claim.output.schema.json",
                "as_of": "order.placed_at",
                "rules": [{"id": "a", "then": {"outcome": "approve", "refund": Decimal("1")}}],
                "otherwise": {"outcome": "deny"},
            }
        },
    }
    assert validate_policy(SourceDocument(path="p.yaml", text="", data=data)) == []


def test_extending_policy_may_give_partial_decisions() -> None:
    assert policy_errors(EXTENDING_POLICY) == []


def test_base_policy_needs_full_decisions() -> None:
    text = EXTENDING_POLICY.replace('extends: "2021.08"\n', "")
    errors = policy_errors(text)
    assert [(e.code, e.location.pointer, e.message) for e in errors] == [
        ("schema-required", "/decisions/claim", 'missing required field "as_of"'),
        ("schema-required", "/decisions/claim", 'missing required field "input"'),
        ("schema-required", "/decisions/claim", 'missing required field "output"'),
    ]
    assert (errors[0].location.line, errors[0].location.column) == (7, 3)


def test_unknown_key_has_a_suggestion() -> None:
    text = EXAMPLE_POLICY.replace("    title: 售后理赔\n", "    titel: 售后理赔\n")
    [error] = policy_errors(text)
    assert error.code == "schema-unknown-field"
    assert error.message == 'unknown field "titel" (did you mean title?)'
    assert error.suggestion == "title"
    assert error.location.pointer == "/decisions/claim/titel"
    # Located at the key itself.
    assert (error.location.line, error.location.column) == (28, 5)
    assert str(error) == 'policy.yaml:28:5: unknown field "titel" (did you mean title?)'


def test_unquoted_version_asks_for_quotes() -> None:
    [error] = policy_errors(EXAMPLE_POLICY.replace('version: "2021.08"', "version: 2021.10"))
    assert error.code == "schema-type"
    assert error.message == 'must be a quoted string: write "2021.10"'
    assert error.location.pointer == "/version"
    assert (error.location.line, error.location.column) == (3, 10)


def test_version_as_decimal_in_plain_data() -> None:
    data = {"program": "p", "version": Decimal("2021.10"), "effective_from": "2021-08-10T00:00:00+08:00"}
    errors = validate_policy(SourceDocument(path="p.yaml", text="", data=data))
    assert ("/version", 'must be a quoted string: write "2021.10"') in {
        (e.location.pointer, e.message) for e in errors
    }


def test_param_with_two_type_keys() -> None:
    text = EXAMPLE_POLICY.replace("{duration: 6h}", "{duration: 6h, money: 3.00}")
    [error] = policy_errors(text)
    assert error.location.pointer == "/params/instant_refund_window"
    assert error.message.startswith("a param needs exactly one type key: money, decimal, integer, percent")
    assert error.message.endswith("(it has money and duration)")


def test_param_without_type_key() -> None:
    text = EXAMPLE_POLICY.replace("{days: 7}", "{dayz: 7}")
    [error] = policy_errors(text)
    assert error.location.pointer == "/params/return_days"
    assert error.code == "schema-required"
    assert error.suggestion == "days"
    assert error.message.startswith("a param needs exactly one type key: money, decimal")


def test_param_errors_come_from_its_own_type() -> None:
    text = EXAMPLE_POLICY.replace("{money: 300.00, title: 极速退款金额上限}", "{money: 300.005, titel: x}")
    found = {(e.location.pointer, e.message) for e in policy_errors(text)}
    assert found == {
        (
            "/params/instant_refund_max/money",
            "must be a non-negative amount in yuan with at most two decimal places",
        ),
        ("/params/instant_refund_max/titel", 'unknown field "titel" (did you mean title?)'),
    }


@pytest.mark.parametrize(
    ("old", "new", "pointer", "code"),
    [
        (
            "{duration: 6h}",
            "{duration: six hours}",
            "/params/instant_refund_window/duration",
            "schema-pattern",
        ),
        (
            '{time_of_day: "16:00:00"}',
            '{time_of_day: "25:00"}',
            "/params/cutoff/time_of_day",
            "schema-pattern",
        ),
        ("{money: 300.00, title", "{money: -1, title", "/params/instant_refund_max/money", "schema-value"),
        ("{days: 7}", "{days: 7.5}", "/params/return_days/days", "schema-type"),
        ("of: string}", "of: strings}", "/params/mandatory_services/of", "schema-enum"),
        ("hit: first", "hit: all", "/decisions/claim/hit", "schema-enum"),
        ("program: douyin-anxingou", "program: Douyin", "/program", "schema-pattern"),
        (
            'effective_until: "2030-01-01T00:00:00+08:00"',
            "effective_until: 2030-01-01",
            "/effective_until",
            "schema-value",
        ),
    ],
)
def test_policy_value_errors(old: str, new: str, pointer: str, code: str) -> None:
    assert old in EXAMPLE_POLICY
    errors = policy_errors(EXAMPLE_POLICY.replace(old, new))
    assert [(e.location.pointer, e.code) for e in errors] == [(pointer, code)], errors


def test_rule_id_with_capitals() -> None:
    [error] = policy_errors(EXAMPLE_POLICY.replace("- id: instant_refund", "- id: InstantRefund"))
    assert error.code == "schema-pattern"
    assert error.location.pointer == "/decisions/claim/rules/0/id"
    assert "lower_snake_case" in error.message


def test_bad_map_key_is_located_at_the_key() -> None:
    [error] = policy_errors(EXAMPLE_POLICY.replace("  fee_rate:", "  FeeRate:"))
    assert error.location.pointer == "/params/FeeRate"
    assert (error.location.line, error.location.column) == (14, 3)
    assert error.message.startswith('name "FeeRate" must be lower_snake_case')


def test_missing_required_root_field() -> None:
    [error] = policy_errors(EXAMPLE_POLICY.replace('version: "2021.08"\n', ""))
    assert (error.code, error.location.pointer, error.message) == (
        "schema-required",
        "",
        'missing required field "version"',
    )


def test_wrong_type_words() -> None:
    errors = policy_errors(EXAMPLE_POLICY.replace("    let:\n", "    let: 3\n    lat:\n"))
    found = {(e.location.pointer, e.message) for e in errors}
    assert ("/decisions/claim/let", "must be a mapping") in found


def test_empty_document() -> None:
    [error] = validate_policy(parse_source("", "empty.yaml"))
    assert error.message == "must be a mapping"


# ------------------------------------------------------------------------------------ test tables


def test_policy_tests_example_is_valid() -> None:
    assert validate_policy_tests(parse_source(EXAMPLE_TESTS, "claim.cases.yaml")) == []


def test_policy_tests_errors() -> None:
    text = EXAMPLE_TESTS.replace("  - name: negative amount is refused\n", "  - nam: negative amount\n")
    text = text.replace("      matched_rules:", "      matched_rule:")
    text = text.replace('    version: "2021.08"', "    version: 2021.08")
    found = {
        (e.location.pointer, e.code, e.message) for e in validate_policy_tests(parse_source(text, "t.yaml"))
    }
    assert found == {
        ("/cases/1", "schema-required", 'missing required field "name"'),
        ("/cases/1/nam", "schema-unknown-field", 'unknown field "nam" (did you mean name?)'),
        (
            "/cases/0/expect/matched_rule",
            "schema-unknown-field",
            'unknown field "matched_rule" (did you mean matched_rules?)',
        ),
        ("/cases/0/version", "schema-type", 'must be a quoted string: write "2021.08"'),
    }


def test_policy_tests_expect_needs_a_key() -> None:
    text = EXAMPLE_TESTS.replace(
        "    expect:\n      error: {status: 422, pointer: /input/order/amount}\n", "    expect: {}\n"
    )
    [error] = validate_policy_tests(parse_source(text, "t.yaml"))
    assert error.location.pointer == "/cases/1/expect"
    assert error.message == "must give at least one of: result, matched_rules, reasons, error"


# ------------------------------------------------------------------------------------ claim input

API_EXAMPLE_INPUT: dict[str, Any] = json.loads(
    """{"order": {"amount": "299.00", "category": "general", "placed_at": "2021-09-01T10:00:00+08:00",
                  "shipped_at": null, "signed_at": null},
        "claim": {"type": "instant_refund", "filed_at": "2021-09-01T11:00:00+08:00"}}""",
    parse_float=Decimal,
)


@pytest.fixture(scope="module")
def claim_input() -> Validator:
    path = BUNDLED_SCHEMAS_DIR / "douyin-anxingou" / "claim.input.schema.json"
    return compile_validator(load_schema(path), path=path)


def with_changes(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(json.dumps(API_EXAMPLE_INPUT), parse_float=Decimal)
    for dotted, value in changes.items():
        obj_name, _, field = dotted.partition("__")
        if value is ...:
            del data[obj_name][field]
        else:
            data[obj_name][field] = value
    return data


def test_api_example_input_is_valid(claim_input: Validator) -> None:
    assert validate_input(claim_input, API_EXAMPLE_INPUT) == []


def test_full_input_is_valid(claim_input: Validator) -> None:
    data = with_changes(
        order__services=["genuine", "fresh_rot"],
        order__signed_at="2021-09-02T10:00:00+08:00",
        claim__appraisal_result="counterfeit",
        claim__appraisal_fee=Decimal("50.00"),
        claim__return_shipping_cost=12,
        claim__claimed_amount="10.5",
        claim__item_intact=False,
    )
    assert validate_input(claim_input, data) == []


MONEY = "must be a non-negative amount in yuan with at most two decimal places"
TIMESTAMP = "must be an RFC 3339 timestamp with an offset, e.g. 2021-09-01T10:00:00+08:00"
SERVICES = [
    "genuine",
    "seven_day_return",
    "instant_refund",
    "shipping_insurance",
    "doorstep_pickup",
    "fresh_rot",
    "allergy",
    "same_day_dispatch",
    "dispatch_24h",
]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"order__amount": "-1.00"}, [("/input/order/amount", MONEY)]),
        ({"order__amount": Decimal("-1.00")}, [("/input/order/amount", MONEY)]),
        ({"order__amount": "1.234"}, [("/input/order/amount", MONEY)]),
        ({"order__amount": True}, [("/input/order/amount", MONEY)]),
        ({"claim__appraisal_fee": False}, [("/input/claim/appraisal_fee", MONEY)]),
        (
            {"order__placed_at": "2021-09-01T10:00:00"},
            [("/input/order/placed_at", TIMESTAMP)],
        ),
        (
            {"claim__type": "refund_please"},
            [
                (
                    "/input/claim/type",
                    "must be one of: counterfeit, no_reason_return, instant_refund, fresh_rot, allergy",
                )
            ],
        ),
        ({"order__colour": "red"}, [("/input/order/colour", "is not allowed")]),
        ({"claim__filed": "x"}, [("/input/claim/filed", "is not allowed (did you mean filed_at?)")]),
        ({"order__category": ...}, [("/input/order/category", "is required")]),
        (
            {"claim__appraisal_result": "fake"},
            [("/input/claim/appraisal_result", "must be one of: counterfeit, genuine")],
        ),
        (
            {"order__services": ["genuine", "genuine"]},
            [("/input/order/services", "must not contain the same item twice")],
        ),
        (
            {"order__services": ["gold"]},
            [("/input/order/services/0", "must be one of: " + ", ".join(SERVICES))],
        ),
        ({"order__shipped_at": 5}, [("/input/order/shipped_at", TIMESTAMP + " or null")]),
        ({"order__services": "genuine"}, [("/input/order/services", "must be an array")]),
        ({"claim__item_intact": "yes"}, [("/input/claim/item_intact", "must be a boolean")]),
    ],
)
def test_claim_input_problems(
    claim_input: Validator, changes: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    problems = validate_input(claim_input, with_changes(**changes))
    assert [(p.pointer, p.message) for p in problems] == expected


def test_number_is_accepted_as_money(claim_input: Validator) -> None:
    assert validate_input(claim_input, with_changes(order__amount=Decimal("1.5"))) == []
    assert validate_input(claim_input, with_changes(order__amount=300)) == []


def test_unknown_top_level_property_and_prefix(claim_input: Validator) -> None:
    data = with_changes()
    data["extra"] = 1
    assert validate_input(claim_input, data, prefix="/requests/0/input") == [
        InputProblem("/requests/0/input/extra", "is not allowed")
    ]


def test_problems_are_sorted_and_deduplicated(claim_input: Validator) -> None:
    data = with_changes(order__amount="x", order__category=..., order__placed_at=..., claim__zzz=1)
    problems = validate_input(claim_input, data)
    pointers = [p.pointer for p in problems]
    assert pointers == sorted(pointers) and len(set(pointers)) == len(pointers)
    assert pointers == [
        "/input/claim/zzz",
        "/input/order/amount",
        "/input/order/category",
        "/input/order/placed_at",
    ]


def test_claim_output_schema_shape() -> None:
    schema = load_schema(BUNDLED_SCHEMAS_DIR / "douyin-anxingou" / "claim.output.schema.json")
    validator = compile_validator(schema)
    answer = {
        "outcome": "approve",
        "service": "instant_refund",
        "refund": "299.00",
        "compensation": "0.00",
        "appraisal_fee": "0.00",
        "shipping_subsidy": "0.00",
        "total": "299.00",
    }
    assert validate_input(validator, answer, prefix="/result") == []
    assert validate_input(validator, {**answer, "service": None}, prefix="/result") == []
    assert validate_input(validator, {**answer, "refund": Decimal("1.00")}, prefix="/result") == [
        InputProblem("/result/refund", MONEY)
    ]


def test_multiple_of_is_said_in_plain_words() -> None:
    """A score with more places than ``multipleOf`` allows names the step, not a Python repr."""
    schema = {
        "type": "object",
        "properties": {
            "score": {"type": "number", "minimum": 0, "maximum": 5, "multipleOf": Decimal("0.01")}
        },
    }
    validator = compile_validator(schema)
    assert validate_input(validator, {"score": Decimal("4.755")}) == [
        InputProblem("/input/score", "must be a multiple of 0.01")
    ]
    assert validate_input(validator, {"score": Decimal("4.75")}) == []
