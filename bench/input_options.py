"""(e) Input check options, measured on the reference decision's input (issue 5, item 2).

The Douyin ``claim`` 2021.08 input schema, on the 1,000 inputs of ``claim_corpus`` and on 1,000 invalid
variants of them (one mutation each: a wrong enum, a boolean or three-place amount, a timestamp without its
``T``, a year out of range, a missing or unknown field, a repeated service, a number for a string).
Every option is first asked about every input, and its answers are compared with jsonschema's (the
reference: the API's 422 answers come from it). Then each is timed on the valid inputs, as a decision
request brings them, pinned to one core, the options taking turns (as in (b)).

The options:
- jsonschema: the engine's compiled Draft 2020-12 validator with the engine's format checker; alone
  (validation only) and followed by the engine's coercer (the careful path, taken for input the
  generated check refuses);
- jsonschema-rs (Rust) and fastjsonschema (Python generated from the schema): validation only, with the
  engine's ``money`` and ``date-time`` checks passed in as format callbacks;
- the engine's generated check-and-coerce function (``fast_input``), on the decoded input and from the
  input's JSON bytes (``loads_strict`` first);
- msgspec decoding the input's JSON bytes into a TypedDict of the claim input, written by hand here for
  the measurement: it checks the structure, the types and the enums in C, and leaves the amounts and
  timestamps (and their coercion) to Python. It shows what a msgspec path could take off;
- msgspec decoding the input's JSON bytes into Structs of the claim input (written by hand here too), with
  the timestamps parsed in C, and the Python step that makes the answer exactly the engine's: a scan of the
  bytes for the timestamp forms msgspec's parser takes and ours refuses or reads otherwise (a space for
  ``T``, more than six fraction digits, an offset without its colon), the year range, the amounts (read
  by the engine's money reader), ``uniqueItems``, and a count of colons against the Structs re-encoded (a
  key given twice is dropped silently by msgspec; a ``+00:00`` re-encoded as ``Z`` is refused too). This is
  the fastest exact msgspec path found. Built into the decide route, it took nothing off the full decide,
  so it was not kept (RESULTS.md, "This stop").
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from importlib.metadata import version
from typing import Annotated, Any, Literal, NotRequired, Required, TypedDict

import claim_corpus
import msgspec
from common import batch_over, fmt, pin_to_one_core, registry, time_interleaved
from reference import DECISION, PROGRAM, VERSION

from policy_engine.expr.values import is_money, is_timestamp
from policy_engine.fast_input import INVALID, _money_leaf
from policy_engine.jsonio import _number, dumps_exact, loads_strict
from policy_engine.schemas import format_checker

REPEATS = 15

# The claim input's enums as the corpus draws them (a valid input they refused would show in the agreement).
_Category = Literal[claim_corpus.CATEGORIES]  # type: ignore[valid-type]
_Service = Literal[claim_corpus.SERVICES]  # type: ignore[valid-type]
_ClaimType = Literal[claim_corpus.CLAIM_TYPES]  # type: ignore[valid-type]


class _Order(TypedDict, total=False):
    amount: Required[Any]  # a string or a number: left to Python
    category: Required[_Category]
    placed_at: Required[str]
    shipped_at: Required[str | None]
    signed_at: Required[str | None]
    services: NotRequired[list[_Service]]


class _Claim(TypedDict, total=False):
    type: Required[_ClaimType]
    filed_at: Required[str]
    appraisal_result: NotRequired[Literal["genuine", "counterfeit"]]
    appraisal_fee: NotRequired[Any]
    return_shipping_cost: NotRequired[Any]
    claimed_amount: NotRequired[Any]
    item_intact: NotRequired[bool]


class _ClaimInput(TypedDict):
    order: _Order
    claim: _Claim


_Timestamp = Annotated[datetime, msgspec.Meta(tz=True)]
_UNSET = msgspec.UNSET


class _OrderStruct(msgspec.Struct, forbid_unknown_fields=True):
    amount: Any  # a string, an int or (float_hook) a Decimal: the engine's money reader decides
    category: _Category
    placed_at: _Timestamp
    shipped_at: _Timestamp | None
    signed_at: _Timestamp | None
    services: Annotated[list[_Service], msgspec.Meta(max_length=100)] | msgspec.UnsetType = _UNSET


class _ClaimStruct(msgspec.Struct, forbid_unknown_fields=True):
    type: _ClaimType
    filed_at: _Timestamp
    appraisal_result: Literal["genuine", "counterfeit"] | msgspec.UnsetType = _UNSET
    appraisal_fee: Any = _UNSET
    return_shipping_cost: Any = _UNSET
    claimed_amount: Any = _UNSET
    item_intact: bool | msgspec.UnsetType = _UNSET


class _ClaimInputStruct(msgspec.Struct, forbid_unknown_fields=True):
    order: _OrderStruct
    claim: _ClaimStruct


_STRUCTS = msgspec.json.Decoder(_ClaimInputStruct, float_hook=_number)
_REENCODE = msgspec.json.Encoder()
_DIGITS_AS_ZERO = bytes(ord("0") if byte in b"0123456789" else byte for byte in range(256))
_TIMESTAMP_FORMS_WE_READ_OTHERWISE = (b"0 0", b".0000000", b'+0000"', b'-0000"')


def _year(moment: datetime) -> datetime:
    if not 2000 <= moment.year < 2100:
        raise ValueError("year out of range")
    return moment


def _amount(value: Any) -> Any:
    return None if value is _UNSET else _money_leaf(value)


def struct_values(body: bytes) -> Any:
    """The claim input's evaluation values from its JSON bytes through msgspec Structs, or INVALID."""
    if b"\\" in body:
        return INVALID  # escapes: the careful reader
    mapped = body.translate(_DIGITS_AS_ZERO)
    if any(form in mapped for form in _TIMESTAMP_FORMS_WE_READ_OTHERWISE):
        return INVALID
    try:
        data = _STRUCTS.decode(body)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return INVALID
    if body.count(b":") != _REENCODE.encode(data).count(b":"):
        return INVALID
    order, claim = data.order, data.claim
    services = order.services
    try:
        if services is not _UNSET and len(set(services)) != len(services):
            return INVALID
        return {
            "order": {
                "amount": _money_leaf(order.amount),
                "category": order.category,
                "placed_at": _year(order.placed_at),
                "shipped_at": None if order.shipped_at is None else _year(order.shipped_at),
                "signed_at": None if order.signed_at is None else _year(order.signed_at),
                "services": None if services is _UNSET else services,
            },
            "claim": {
                "type": claim.type,
                "filed_at": _year(claim.filed_at),
                "appraisal_result": None if claim.appraisal_result is _UNSET else claim.appraisal_result,
                "appraisal_fee": _amount(claim.appraisal_fee),
                "return_shipping_cost": _amount(claim.return_shipping_cost),
                "claimed_amount": _amount(claim.claimed_amount),
                "item_intact": None if claim.item_intact is _UNSET else claim.item_intact,
            },
        }
    except ValueError:
        return INVALID


def _set(path: tuple[str, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        data[path[0]][path[1]] = value

    return mutate


def _drop(path: tuple[str, ...]) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        del data[path[0]][path[1]]

    return mutate


MUTATIONS: list[tuple[str, Callable[[dict[str, Any]], None]]] = [
    ("unknown category", _set(("order", "category"), "books")),
    ("boolean amount", _set(("order", "amount"), True)),
    ("three-place amount (text)", _set(("order", "amount"), "1.234")),
    ("three-place amount (number)", _set(("order", "amount"), Decimal("1.234"))),
    ("timestamp without T", _set(("order", "placed_at"), "2022-09-04 11:06:44+08:00")),
    ("year out of range", _set(("order", "placed_at"), "1999-12-31T23:59:59+08:00")),
    ("missing filed_at", _drop(("claim", "filed_at"))),
    ("unknown field", _set(("order", "coupon"), "x")),
    ("repeated service", _set(("order", "services"), ["genuine", "genuine"])),
    ("number for a claim type", _set(("claim", "type"), 5)),
]


def invalid_inputs(valid: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """One invalid variant of each valid input, the mutations taken in turn."""
    out = []
    for index, raw in enumerate(valid):
        name, mutate = MUTATIONS[index % len(MUTATIONS)]
        data = copy.deepcopy(raw)
        mutate(data)
        out.append((name, data))
    return out


def _rs_validator(schema: dict[str, Any]) -> Callable[[Any], bool]:
    import jsonschema_rs

    formats = {"money": is_money, "date-time": is_timestamp}
    return jsonschema_rs.validator_for(schema, formats=formats, validate_formats=True).is_valid  # type: ignore[no-any-return]


def _fast_validator(schema: dict[str, Any]) -> Callable[[Any], bool]:
    import fastjsonschema

    check = fastjsonschema.compile(schema, formats={"money": is_money, "date-time": is_timestamp})

    def is_valid(data: Any) -> bool:
        try:
            check(data)
        except fastjsonschema.JsonSchemaException:
            return False
        return True

    return is_valid


def run(repeats: int = REPEATS) -> dict[str, Any]:
    """Check every option's answers against jsonschema's, then time them."""
    core = pin_to_one_core()
    compiled = registry().policy(PROGRAM, VERSION).decisions[DECISION]
    schema = dict(compiled.input_schema)
    valid = claim_corpus.corpus()
    invalid = invalid_inputs(valid)
    reference = compiled.input_validator
    assert reference.format_checker is format_checker()
    fast_input = compiled.fast_input
    assert fast_input is not None
    typed = msgspec.json.Decoder(_ClaimInput, float_hook=Decimal)
    validators: dict[str, Callable[[Any], bool]] = {
        f"jsonschema-rs {version('jsonschema-rs')}": _rs_validator(schema),
        f"fastjsonschema {version('fastjsonschema')}": _fast_validator(schema),
        "generated check-and-coerce (ours)": lambda data: fast_input(data) is not INVALID,
    }

    def typed_accepts(data: Any) -> bool:
        try:
            typed.decode(dumps_exact(data).encode())
        except msgspec.ValidationError:
            return False
        return True

    validators[f"msgspec {version('msgspec')} TypedDict (structure, types and enums only)"] = typed_accepts
    structs = f"msgspec {version('msgspec')} Structs, timestamps in C, made exact in Python"
    validators[structs] = lambda data: struct_values(dumps_exact(data).encode()) is not INVALID
    agreement: dict[str, dict[str, Any]] = {}
    for name, is_valid in validators.items():
        refused_valid = sum(not is_valid(raw) for raw in valid)
        accepted = sorted({kind for kind, data in invalid if is_valid(data)})
        agreement[name] = {"refused_valid": refused_valid, "accepted_invalid": accepted}
    assert all(reference.is_valid(raw) for raw in valid)
    assert not any(reference.is_valid(data) for _kind, data in invalid)
    for raw in valid:
        assert fast_input(raw) == compiled.coerce(raw), "the generated check and the coercer disagree"
        values = struct_values(dumps_exact(raw).encode())
        assert values is INVALID or values == fast_input(raw), "the Struct path and the coercer disagree"

    bodies = [dumps_exact(raw).encode() for raw in valid]
    n = len(valid)
    rs_valid = validators[f"jsonschema-rs {version('jsonschema-rs')}"]
    fast_valid = validators[f"fastjsonschema {version('fastjsonschema')}"]

    def careful(raw: Any) -> Any:
        if not reference.is_valid(raw):
            raise AssertionError("valid input refused")
        return compiled.coerce(raw)

    def rs_careful(raw: Any) -> Any:
        if not rs_valid(raw):
            raise AssertionError("valid input refused")
        return compiled.coerce(raw)

    timings = time_interleaved(
        {
            "jsonschema, validate only": (batch_over(reference.is_valid, valid, n), n),
            "jsonschema, validate + the engine's coercer (the careful path)": (
                batch_over(careful, valid, n),
                n,
            ),
            "jsonschema-rs, validate only": (batch_over(rs_valid, valid, n), n),
            "jsonschema-rs, validate + the engine's coercer": (batch_over(rs_careful, valid, n), n),
            "fastjsonschema, validate only": (batch_over(fast_valid, valid, n), n),
            "generated check-and-coerce (ours), decoded input": (batch_over(fast_input, valid, n), n),
            "JSON bytes → loads_strict → generated check-and-coerce (ours)": (
                batch_over(lambda body: fast_input(loads_strict(body)), bodies, n),
                n,
            ),
            "JSON bytes → msgspec TypedDict (structure, types, enums; amounts and timestamps unchecked)": (
                batch_over(typed.decode, bodies, n),
                n,
            ),
            "JSON bytes → msgspec Structs, timestamps in C, made exact in Python (the values)": (
                batch_over(struct_values, bodies, n),
                n,
            ),
        },
        repeats,
    )
    return {
        "inputs": n,
        "invalid": len(invalid),
        "mutations": [name for name, _ in MUTATIONS],
        "core": core,
        "repeats": repeats,
        "agreement": agreement,
        "timings": timings,
        "versions": {
            "jsonschema": version("jsonschema"),
            "jsonschema-rs": version("jsonschema-rs"),
            "fastjsonschema": version("fastjsonschema"),
            "msgspec": version("msgspec"),
        },
    }


def report(result: dict[str, Any]) -> str:
    """The markdown section."""
    versions = result["versions"]
    lines = [
        f"### (e) Input check options: the claim 2021.08 input, {result['inputs']} valid inputs",
        "",
        f"Answers compared with jsonschema {versions['jsonschema']}'s on {result['inputs']} valid inputs and "
        f"{result['invalid']} invalid variants ({', '.join(result['mutations'])}):",
        "",
        "| option | valid inputs refused | invalid kinds accepted |",
        "|---|---:|---|",
    ]
    for name, seen in result["agreement"].items():
        accepted = ", ".join(seen["accepted_invalid"]) or "none"
        lines.append(f"| {name} | {seen['refused_valid']} | {accepted} |")
    lines += [
        "",
        f"Timed on the valid inputs: batches of {result['inputs']}, the options taking turns, median of "
        f"{result['repeats']} turns, pinned to core {result['core']}.",
        "",
        "| option | µs per input |",
        "|---|---:|",
    ]
    for name, us in result["timings"].items():
        lines.append(f"| {name} | {fmt(us)} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(report(run()))
