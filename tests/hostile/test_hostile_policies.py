"""Hostile policies: every case of the corpus is refused with located errors, never a crash or a traceback.

Each case (tests/hostile/policies/cases, described in its README, plus two generated here: a 10 MB file and
1,000 levels of block nesting) goes through three doors: ``check_policies``, the ``policy validate``
command, and ``POST /v1/admin/reload`` of a running app, which must answer 422 and keep deciding with the
policies it had. Nothing here measures time or memory (bench/ does); a case that hangs fails by the
pytest run never ending, a case that crashes by its exception.

The last part holds the unit tests of the engine bugs the corpus found.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from litestar.testing import TestClient

from policy_engine import DecisionRequest, ErrorSet, PolicyError, PolicyLoadError, check_policies, decide
from policy_engine.cli import main
from policy_engine.expr.values import parse_duration
from policy_engine.inherit import resolve_extends
from policy_engine.model import policy_from_document
from policy_engine.source import MAX_FILE_BYTES, MAX_NUMBER_CHARS, parse_source
from server.app import create_app
from server.settings import Settings

CORPUS = Path(__file__).resolve().parent / "policies"
GOOD = (CORPUS / "good.yaml").read_text(encoding="utf-8")
POLICY = Path(sys.executable).parent / "policy"
ADMIN = "hostile-admin-token"
EXPECT = re.compile(r"^# expect: (\d+):(\d+): (.+)$", re.MULTILINE)
EXPECT_ALL = re.compile(r"^# expect-all: (.+)$", re.MULTILINE)
PAYOUT_INPUT = {"order": {"amount": "250.00", "placed_at": "2024-03-01T10:00:00+08:00", "kind": "express"}}


@dataclass(frozen=True)
class Expected:
    """What loading one file of a case must report."""

    places: list[tuple[int, int, str]]
    """(line, column, text): an error there whose message contains the text; line 0 = the whole file."""
    every: str | None = None
    """Text every error of the file contains (when there are too many to list)."""


@dataclass(frozen=True)
class Case:
    """A hostile case: policy files for ``policies/hostile/``, schema files replacing ``schemas/hostile/``."""

    name: str
    policies: dict[str, str | bytes]
    schemas: dict[str, str] = field(default_factory=dict)
    expected: dict[str, Expected] = field(default_factory=dict)


def _expected_in(text: str) -> Expected:
    places = [(int(line), int(col), message) for line, col, message in EXPECT.findall(text)]
    every = EXPECT_ALL.search(text)
    return Expected(places, every.group(1) if every else None)


def _corpus_case(path: Path) -> Case:
    files = {path.name: path} if path.is_file() else {p.name: p for p in sorted(path.glob("*.yaml"))}
    policies: dict[str, str | bytes] = {}
    expected: dict[str, Expected] = {}
    for name, file in files.items():
        target = "2024.01.yaml" if path.is_file() else name
        policies[target] = file.read_text(encoding="utf-8")
        expected[target] = _expected_in(file.read_text(encoding="utf-8"))
    schema_dir = path / "schemas"
    schemas = (
        {p.name: p.read_text(encoding="utf-8") for p in sorted(schema_dir.glob("*.json"))}
        if (schema_dir.is_dir())
        else {}
    )
    return Case(path.name, policies, schemas, expected)


def _ten_megabytes() -> Case:
    text = GOOD + "# " + "x" * (10 * 1024 * 1024) + "\n"
    size = len(text.encode())
    message = f"the file is {size:,} bytes; the limit is {MAX_FILE_BYTES:,} bytes (1 MiB)"
    return Case(
        "generated_10mb", {"2024.01.yaml": text}, expected={"2024.01.yaml": Expected([(0, 0, message)])}
    )


def _block_nesting() -> Case:
    # 1,000 mapping levels, one more space of indentation each: refused at level 65 (line 22 + 64).
    text = GOOD + "notes:\n" + "".join(" " * (depth + 1) + f"k{depth}:\n" for depth in range(1000))
    message = "nesting is deeper than 64 levels; flatten the document"
    return Case(
        "generated_block_nesting_1000",
        {"2024.01.yaml": text},
        expected={"2024.01.yaml": Expected([(22 + 64, 65, message)])},
    )


CASES = [_corpus_case(p) for p in sorted((CORPUS / "cases").iterdir())]
GENERATED = [_ten_megabytes, _block_nesting]


def all_cases() -> list[Any]:
    corpus = [pytest.param(case, id=case.name) for case in CASES]
    return corpus + [pytest.param(make, id=make.__name__.strip("_")) for make in GENERATED]


def materialise(case: Case, root: Path) -> Path:
    """Write the case as a policy tree under ``root``; returns its ``policies/``."""
    shutil.rmtree(root, ignore_errors=True)
    policies = root / "policies" / "hostile"
    policies.mkdir(parents=True)
    shutil.copytree(CORPUS / "schemas", root / "schemas")
    for name, text in case.policies.items():
        target = policies / name
        target.write_bytes(text if isinstance(text, bytes) else text.encode())
    for name, text in case.schemas.items():
        (root / "schemas" / "hostile" / name).write_text(text, encoding="utf-8")
    return root / "policies"


def resolved(case: Case | Any) -> Case:
    return case if isinstance(case, Case) else case()


@dataclass(frozen=True)
class Reported:
    file: str
    line: int
    column: int
    message: str
    text: str
    """The whole ``file:line:col: message`` line."""


def check_reported(case: Case, policies: Path, reported: list[Reported]) -> None:
    """Every error is located in a file of the case and expected; every expectation is met."""
    assert reported, f"{case.name}: loaded without an error"
    folder = (policies / "hostile").resolve()
    for item in reported:
        path = Path(item.file).resolve()
        assert path.parent == folder and path.name in case.policies, item.text
        if item.line == 0:  # only the size limit is reported for the whole file: nothing was parsed
            assert item.text == f"{item.file}: {item.message}", item.text
            assert "the limit is" in item.message, item.text
        else:
            assert item.line > 0 and item.column > 0, item.text
            assert item.text == f"{item.file}:{item.line}:{item.column}: {item.message}", item.text
        expected = case.expected.get(path.name, Expected([]))
        if expected.every is not None:
            assert expected.every in item.message, item.text
        else:
            assert any(
                (line, col) == (item.line, item.column) and text in item.message
                for line, col, text in expected.places
            ), f"unexpected: {item.text}"
    for name, expected in case.expected.items():
        for line, col, text in expected.places:
            assert any(
                Path(r.file).name == name and (r.line, r.column) == (line, col) and text in r.message
                for r in reported
            ), f"{case.name}: no error at {name}:{line}:{col}: {text}\n" + "\n".join(r.text for r in reported)


def reported(file: str, line: int, column: int, text: str) -> Reported:
    """An error from its parts and its ``file:line:col: message`` text (the message is read from the text)."""
    prefix = f"{file}:{line}:{column}: " if line else f"{file}: "
    assert text.startswith(prefix), text
    return Reported(file, line, column, text.removeprefix(prefix), text)


def from_errors(errors: ErrorSet) -> list[Reported]:
    return [_of_error(e) for e in errors.errors]


def _of_error(error: PolicyError) -> Reported:
    loc = error.location
    return reported(loc.file, loc.line, loc.column, str(error))


# ── through check_policies ────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("case", all_cases())
def test_check_policies_refuses_the_case_with_located_errors(case: Any, tmp_path: Path) -> None:
    case = resolved(case)
    policies = materialise(case, tmp_path / "tree")
    registry, errors = check_policies(policies)
    assert registry is None
    check_reported(case, policies, from_errors(errors))


def test_the_corpus_is_the_good_policy_made_hostile(tmp_path: Path) -> None:
    policies = materialise(Case("good", {"2024.01.yaml": GOOD}), tmp_path / "tree")
    registry, errors = check_policies(policies)
    assert registry is not None and not errors.errors, errors.render()
    answer = decide(registry, DecisionRequest("hostile", "payout", PAYOUT_INPUT, datetime.now(UTC)))
    assert answer.result == {"payout": "25.00"}
    assert len(CASES) >= 30 and all(c.expected for c in CASES)


# ── through the policy validate command ───────────────────────────────────────────────────────────────

_LINE = re.compile(
    r"^(?P<file>.+?\.yaml)(?::(?P<line>\d+):(?P<col>\d+))?: (?P<message>.*?)(?P<warning> \[warning\])?$"
)


def from_output(output: str) -> list[Reported]:
    found = []
    for text in output.splitlines():
        match = _LINE.match(text)
        if match is None or match["warning"]:
            continue
        found.append(reported(match["file"], int(match["line"] or 0), int(match["col"] or 0), text))
    return found


@pytest.mark.parametrize("case", all_cases())
def test_policy_validate_exits_1_with_located_errors(case: Any, tmp_path: Path) -> None:
    case = resolved(case)
    policies = materialise(case, tmp_path / "tree")
    result = CliRunner().invoke(main, ["validate", str(policies)])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception  # not an exception click caught
    assert "Traceback" not in result.output
    assert re.search(r"^\d+ error\(s\), \d+ warning\(s\)$", result.stderr, re.MULTILINE), result.stderr
    check_reported(case, policies, from_output(result.stdout))


@pytest.mark.parametrize(
    "name", ["yaml_alias_bomb.yaml", "yaml_python_object_apply.yaml", "schema_deep_nesting", "generated_10mb"]
)
def test_the_installed_command_exits_1_without_a_traceback(name: str, tmp_path: Path) -> None:
    case = _ten_megabytes() if name == "generated_10mb" else next(c for c in CASES if c.name == name)
    policies = materialise(case, tmp_path / "tree")
    done = subprocess.run(
        [str(POLICY), "validate", str(policies)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    check_reported(case, policies, from_output(done.stdout))


# ── through a reload of the running server ────────────────────────────────────────────────────────────


@dataclass
class Served:
    client: TestClient[Any]
    root: Path


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One app on the good policy for every case (each reload fails, so the app never changes)."""
    root = tmp_path_factory.mktemp("served")
    policies = materialise(Case("good", {"2024.01.yaml": GOOD}), root / "tree")
    settings = Settings(
        policy_dir=policies, db_path=root / "log" / "decisions.sqlite3", watch_interval=0, admin_token=ADMIN
    )
    with TestClient(create_app(settings)) as client:
        yield Served(client, root / "tree")


def _decide_ok(client: TestClient[Any]) -> str:
    response = client.post(
        "/v1/decide", json={"program": "hostile", "decision": "payout", "input": PAYOUT_INPUT}
    )
    assert response.status_code == 200, response.text
    assert response.json()["result"] == {"payout": "25.00"}
    digest: str = response.json()["policy_digest"]
    return digest


@pytest.mark.parametrize("case", all_cases())
def test_a_reload_with_the_case_is_refused_and_the_old_policies_keep_serving(
    case: Any, served: Served
) -> None:
    case = resolved(case)
    client = served.client
    before = _decide_ok(client)
    policies = materialise(case, served.root)
    try:
        response = client.post("/v1/admin/reload", headers={"Authorization": f"Bearer {ADMIN}"})
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        body = response.json()
        assert "the previous policies keep serving" in body["detail"]
        errors = [reported(e["file"], e["line"], e["column"], e["message"]) for e in body["policy_errors"]]
        check_reported(case, policies, errors)
        assert _decide_ok(client) == before
        ready = client.get("/health/ready").json()
        assert ready["status"] == "ready" and ready["last_reload_error"] is not None
    finally:
        materialise(Case("good", {"2024.01.yaml": GOOD}), served.root)


# ── the engine bugs the corpus found (each was a crash, a hang of minutes, or worse) ──────────────────


def _policy(tmp_path: Path, text: str) -> Path:
    return materialise(Case("unit", {"2024.01.yaml": text}), tmp_path / "tree")


def test_plain_numbers_over_40_characters_are_refused_before_conversion() -> None:
    # A 900,000-digit integer param used to take 40 s in int() and then load.
    assert parse_source("a: " + "9" * MAX_NUMBER_CHARS + "\n", "p.yaml").data == {"a": Decimal("9" * 40)}
    for text in ("9" * 41, "-" + "9" * 40, "0." + "0" * 38 + "1", "9" * 900_000):
        with pytest.raises(PolicyLoadError) as info:
            parse_source(f"a: {text}\n", "p.yaml")
        (error,) = info.value.errors
        assert error.code == "number-too-long"
        assert str(error) == (
            f"p.yaml:1:4: a number may have at most 40 characters; this one has {len(text):,}"
        )
    assert parse_source("a: '" + "9" * 50 + "'\n", "p.yaml").data == {"a": "9" * 50}  # quoted: text


def test_an_oversized_duration_says_so_in_plain_words() -> None:
    # 5,000 digits used to surface Python's "Exceeds the limit (4300 digits) for integer string conversion".
    for text in ("9" * 16 + "s", "9" * 5000 + "d", "9999999999d"):
        with pytest.raises(ValueError, match=r"^is too long a duration$"):
            parse_duration(text)
    assert parse_duration("999999999d").days == 999_999_999


def test_a_chain_of_lets_longer_than_the_recursion_limit_loads_and_evaluates(tmp_path: Path) -> None:
    # Used to crash the load with RecursionError (the let order and the code generator recursed per let).
    count = sys.getrecursionlimit() + 500
    lets = "".join(f"      l{i}: l{i - 1} + 1\n" for i in range(1, count))
    text = GOOD.replace(
        "      raw: round_money(params.rate * order.amount)\n", "      l0: order.amount\n" + lets
    )
    text = text.replace('"min(raw, params.cap)"', f'"l{count - 1}"')
    registry, errors = check_policies(_policy(tmp_path, text))
    assert registry is not None, errors.render()
    answer = decide(registry, DecisionRequest("hostile", "payout", PAYOUT_INPUT, datetime.now(UTC)))
    assert answer.result == {"payout": f"{250 + count - 1}.00"}


def test_a_reason_with_thousands_of_parts_loads_and_evaluates(tmp_path: Path) -> None:
    # Used to crash the load with "RecursionError: maximum recursion depth exceeded during compilation".
    text = GOOD.replace('"express order {order.amount}"', '"' + "{order.amount};" * 10_000 + '"')
    registry, errors = check_policies(_policy(tmp_path, text))
    assert registry is not None, errors.render()
    answer = decide(registry, DecisionRequest("hostile", "payout", PAYOUT_INPUT, datetime.now(UTC)))
    assert answer.reasons[0].message == "250.00;" * 10_000


def test_an_extends_chain_longer_than_the_recursion_limit_merges() -> None:
    # Versions named in one order and taking effect in the other: merging used to recurse once per version.
    count = sys.getrecursionlimit() + 500
    specs = {}
    for index in range(count):
        start = datetime(2099, 1, 1, tzinfo=UTC).timestamp() - index * 60
        when = datetime.fromtimestamp(start, UTC).isoformat()
        extends = f'extends: "v{index + 1:05d}"\n' if index + 1 < count else ""
        text = f'program: hostile\nversion: "v{index:05d}"\n{extends}effective_from: "{when}"\n'
        spec = policy_from_document(parse_source(text, f"hostile/v{index:05d}.yaml"))
        specs[(spec.program, spec.version)] = spec
    merged, errors = resolve_extends(specs)
    assert errors == [] and len(merged) == count


def test_extends_cycles_are_still_found_by_the_loop() -> None:
    texts = {
        "a": 'program: p\nversion: "a"\nextends: "b"\neffective_from: "2024-02-01T00:00:00+08:00"\n',
        "b": 'program: p\nversion: "b"\nextends: "c"\neffective_from: "2024-01-01T00:00:00+08:00"\n',
        "c": 'program: p\nversion: "c"\nextends: "a"\neffective_from: "2023-12-01T00:00:00+08:00"\n',
    }
    specs = {("p", v): policy_from_document(parse_source(t, f"p/{v}.yaml")) for v, t in texts.items()}
    merged, errors = resolve_extends(specs)
    assert merged == {}
    assert "p/c.yaml:3:10: extends forms a cycle: a → b → c → a" in [str(e) for e in errors]
