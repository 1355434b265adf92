"""The ``policy`` console script, run as a real process from the repository root (spec/api.md, command line).

Exit codes: 0 ok; 1 policy errors or failed tests; 2 bad input or usage. No output ever holds a traceback.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

POLICY = Path(sys.executable).parent / "policy"
EXAMPLE = "examples/douyin-claim-instant-refund.json"
AT = "2021-09-01T11:00:05+08:00"
BUNDLED_POLICY = Path("policies/douyin-anxingou/2021.08.yaml")
Tree = Callable[..., Path]


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


def policy(repo_root: Path, *args: str, stdin: str | None = None) -> Run:
    done = subprocess.run(
        [str(POLICY), *args],
        cwd=repo_root,
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        check=False,
    )
    run = Run(done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in run.text, run.text
    return run


def location_pattern(path: Path, line: int) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(str(path))}:{line}:(\d+): ", re.MULTILINE)


@pytest.fixture(scope="module")
def api_answer() -> dict[str, object]:
    """The answer of spec/api.md for the example request, without decision_id and policy_digest."""
    return {
        "program": "douyin-anxingou",
        "version": "2021.08",
        "decision": "claim",
        "evaluated_at": AT,
        "result": {
            "outcome": "approve",
            "service": "instant_refund",
            "refund": "299.00",
            "compensation": "0.00",
            "appraisal_fee": "0.00",
            "shipping_subsidy": "0.00",
            "total": "299.00",
        },
        "matched_rules": ["instant_refund"],
        "reasons": [
            {"rule": "instant_refund", "message": "未发货订单 299.00 元，下单后 1h 内申请，极速退款"}
        ],
    }


@pytest.fixture
def bundled_copy(policy_tree: Tree, repo_root: Path) -> Path:
    """A copy of the bundled policies/ and schemas/ in tmp_path; returns its policies/."""
    return policy_tree(base=repo_root)


def example_input(repo_root: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads((repo_root / EXAMPLE).read_text(encoding="utf-8"))
    return data


def check_answer(run: Run, expected: dict[str, object]) -> dict[str, object]:
    assert run.code == 0, run.text
    answer: dict[str, object] = json.loads(run.out)
    assert "decision_id" not in answer
    digest = answer.pop("policy_digest")
    assert isinstance(digest, str) and re.fullmatch(r"sha256:[0-9a-f]{64}", digest)
    answer.pop("trace", None)
    assert answer == expected
    return answer


# -- validate -------------------------------------------------------------------------------------------


def test_validate_bundled_policies(repo_root: Path) -> None:
    run = policy(repo_root, "validate", "policies/")
    assert run.code == 0, run.text
    assert "ok:" in run.err


def test_validate_with_policies_option(repo_root: Path) -> None:
    assert policy(repo_root, "validate", "--policies", "policies").code == 0


def _when_line(policy_file: Path, field: str) -> int:
    """The 1-based number of the first ``when:`` line that reads ``field``."""
    for number, line in enumerate(policy_file.read_text(encoding="utf-8").splitlines(), start=1):
        if line.lstrip().startswith("when:") and field in line:
            return number
    raise AssertionError(f"no when: reads {field}")


def _replace_on_line(path: Path, number: int, old: str, new: str) -> tuple[int, int]:
    """Replace the first ``old`` on one line; the 1-based column where ``new`` starts."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    column = lines[number - 1].index(old) + 1
    lines[number - 1] = lines[number - 1].replace(old, new, 1)
    path.write_text("".join(lines), encoding="utf-8")
    return number, column


def test_validate_misspelt_field_is_located_with_a_suggestion(repo_root: Path, bundled_copy: Path) -> None:
    path = bundled_copy / "douyin-anxingou" / "2021.08.yaml"
    line, column = _replace_on_line(path, _when_line(path, "order.amount"), "order.amount", "order.amout")
    run = policy(repo_root, "validate", str(bundled_copy))
    assert run.code == 1, run.text
    found = location_pattern(path, line).search(run.out)
    assert found is not None, run.text
    assert column <= int(found.group(1)) < column + len("order.amout")
    assert "did you mean order.amount" in run.out


def test_validate_dunder_attribute_is_located(repo_root: Path, bundled_copy: Path) -> None:
    path = bundled_copy / "douyin-anxingou" / "2021.08.yaml"
    line, column = _replace_on_line(path, _when_line(path, "order.amount"), "order.amount", "order.__class__")
    run = policy(repo_root, "validate", str(bundled_copy))
    assert run.code == 1, run.text
    found = location_pattern(path, line).search(run.out)
    assert found is not None, run.text
    assert column <= int(found.group(1)) < column + len("order.__class__")
    assert "__class__" in run.out


def test_validate_yaml_syntax_error_is_located(repo_root: Path, bundled_copy: Path) -> None:
    path = bundled_copy / "douyin-anxingou" / "2021.08.yaml"
    path.write_text("broken: key: value\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    run = policy(repo_root, "validate", str(bundled_copy))
    assert run.code == 1, run.text
    assert re.search(rf"^{re.escape(str(path))}:1:(\d+): .*YAML", run.out, re.MULTILINE), run.text


def test_validate_missing_directory_exits_1(repo_root: Path, tmp_path: Path) -> None:
    run = policy(repo_root, "validate", str(tmp_path / "nowhere"))
    assert run.code in (1, 2), run.text
    assert "nowhere" in run.text


# -- eval -----------------------------------------------------------------------------------------------


def test_eval_prints_the_api_answer(repo_root: Path, api_answer: dict[str, object]) -> None:
    run = policy(repo_root, "eval", "douyin-anxingou", "claim", "--input", EXAMPLE, "--at", AT)
    check_answer(run, api_answer)
    assert "trace" not in json.loads(run.out)


def test_eval_with_a_whole_request_file(
    repo_root: Path, tmp_path: Path, api_answer: dict[str, object]
) -> None:
    request = tmp_path / "request.json"
    request.write_text(
        json.dumps({"input": example_input(repo_root), "version": "2021.08", "at": AT}), encoding="utf-8"
    )
    check_answer(policy(repo_root, "eval", "douyin-anxingou", "claim", "--input", str(request)), api_answer)


def test_eval_flags_override_the_request_file(repo_root: Path, tmp_path: Path) -> None:
    request = tmp_path / "request.json"
    request.write_text(json.dumps({"input": example_input(repo_root), "at": AT}), encoding="utf-8")
    run = policy(
        repo_root,
        "eval",
        "douyin-anxingou",
        "claim",
        "--input",
        str(request),
        "--at",
        "2021-09-02T00:00:00+08:00",
    )
    assert run.code == 0, run.text
    assert json.loads(run.out)["evaluated_at"] == "2021-09-02T00:00:00+08:00"


def test_eval_explain_has_a_trace(repo_root: Path, api_answer: dict[str, object]) -> None:
    run = policy(repo_root, "eval", "douyin-anxingou", "claim", "--input", EXAMPLE, "--at", AT, "--explain")
    answer = json.loads(run.out)
    check_answer(run, api_answer)
    trace = answer["trace"]
    assert trace, "explain must give a trace"
    assert trace[-1]["rule"] == "instant_refund" and trace[-1]["matched"] is True
    assert all(entry["matched"] is False for entry in trace[:-1])
    assert all({"rule", "matched", "values"} <= set(entry) for entry in trace)


def test_eval_from_stdin(repo_root: Path, api_answer: dict[str, object]) -> None:
    text = (repo_root / EXAMPLE).read_text(encoding="utf-8")
    run = policy(repo_root, "eval", "douyin-anxingou", "claim", "--input", "-", "--at", AT, stdin=text)
    check_answer(run, api_answer)


def test_eval_explicit_version(repo_root: Path, api_answer: dict[str, object]) -> None:
    run = policy(
        repo_root, "eval", "douyin-anxingou", "claim", "--input", EXAMPLE, "--at", AT, "--version", "2021.08"
    )
    check_answer(run, api_answer)


def test_eval_bad_json_exits_2(repo_root: Path) -> None:
    run = policy(
        repo_root, "eval", "douyin-anxingou", "claim", "--input", "-", "--at", AT, stdin='{"order": {'
    )
    assert run.code == 2, run.text
    assert "JSON" in run.err
    assert run.out == ""


def test_eval_input_failing_the_schema_exits_2_with_the_pointer(repo_root: Path) -> None:
    data = example_input(repo_root)
    data["order"]["amount"] = "1.234"  # type: ignore[index]
    run = policy(
        repo_root, "eval", "douyin-anxingou", "claim", "--input", "-", "--at", AT, stdin=json.dumps(data)
    )
    assert run.code == 2, run.text
    assert "/input/order/amount" in run.err
    assert run.out == ""


def test_eval_unknown_field_exits_2_with_the_pointer(repo_root: Path) -> None:
    data = example_input(repo_root)
    data["claim"]["colour"] = "red"  # type: ignore[index]
    run = policy(
        repo_root, "eval", "douyin-anxingou", "claim", "--input", "-", "--at", AT, stdin=json.dumps(data)
    )
    assert run.code == 2, run.text
    assert "/input/claim/colour" in run.err


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["eval", "douyin-nope", "claim"], "/program"),
        (["eval", "douyin-anxingou", "claims"], "/decision"),
        (["eval", "douyin-anxingou", "claim", "--version", "1999.01"], "/version"),
        (["eval", "douyin-anxingou", "claim", "--at", "yesterday"], "at"),
        (["eval", "douyin-anxingou", "claim", "--at", "2021-09-01T11:00:05"], "offset"),
        (["eval", "douyin-anxingou", "claim", "--bogus"], "--bogus"),
        (["validate", "--bogus"], "--bogus"),
        (["frobnicate"], "frobnicate"),
    ],
    ids=[
        "unknown-program",
        "unknown-decision",
        "unknown-version",
        "bad-at",
        "at-without-offset",
        "unknown-option",
        "unknown-validate-option",
        "unknown-command",
    ],
)
def test_eval_usage_and_lookup_errors_exit_2(repo_root: Path, args: list[str], words: str) -> None:
    run = policy(repo_root, *args, "--input", EXAMPLE) if args[0] == "eval" else policy(repo_root, *args)
    assert run.code == 2, run.text
    assert words in run.err
    assert run.out == ""


def test_eval_missing_input_file_exits_2(repo_root: Path, tmp_path: Path) -> None:
    run = policy(repo_root, "eval", "douyin-anxingou", "claim", "--input", str(tmp_path / "none.json"))
    assert run.code == 2, run.text
    assert "none.json" in run.err


def test_eval_on_broken_policies_exits_1(repo_root: Path, bundled_copy: Path) -> None:
    path = bundled_copy / "douyin-anxingou" / "2021.08.yaml"
    _replace_on_line(path, _when_line(path, "order.amount"), "order.amount", "order.amout")
    run = policy(
        repo_root,
        "eval",
        "douyin-anxingou",
        "claim",
        "--input",
        EXAMPLE,
        "--at",
        AT,
        "--policies",
        str(bundled_copy),
    )
    assert run.code == 1, run.text
    assert "did you mean order.amount" in run.text


# -- test -----------------------------------------------------------------------------------------------


def test_policy_test_on_the_bundled_policies(repo_root: Path, tmp_path: Path) -> None:
    report = tmp_path / "reports" / "junit.xml"
    run = policy(repo_root, "test", "policies/", "--junit", str(report))
    assert run.code == 0, run.text
    assert re.search(r"^(\d+) passed, 0 failed$", run.out, re.MULTILINE), run.text
    root = ET.parse(report).getroot()
    assert root.tag == "testsuites"
    assert root.get("failures") == "0"
    cases = root.findall("./testsuite/testcase")
    assert len(cases) == int(root.get("tests", "-1"))
    assert all(case.get("name") for case in cases)
    assert not root.findall(".//failure")
    passed = int(re.search(r"^(\d+) passed", run.out, re.MULTILINE).group(1))  # type: ignore[union-attr]
    assert len(cases) == passed


FAILING_TABLE = """\
program: douyin-anxingou
decision: claim
defaults:
  input:
    order: {amount: "299.00", category: general, placed_at: "2021-09-01T10:00:00+08:00",
            shipped_at: null, signed_at: null}
    claim: {type: instant_refund, filed_at: "2021-09-01T11:00:00+08:00"}
cases:
  - name: instant refund under the limit
    expect:
      result: {outcome: approve, refund: "299.00"}
      matched_rules: [instant_refund]
  - name: over the limit, expected wrongly
    input: {order: {amount: "301.00"}}
    expect:
      result: {outcome: approve, refund: "301.00"}
"""


def test_policy_test_failing_case_exits_1_with_location_and_diff(
    repo_root: Path, bundled_copy: Path, tmp_path: Path
) -> None:
    table = bundled_copy / "douyin-anxingou" / "tests" / "claim.cases.yaml"
    table.parent.mkdir(exist_ok=True)
    table.write_text(FAILING_TABLE, encoding="utf-8")
    line = FAILING_TABLE.splitlines().index("  - name: over the limit, expected wrongly") + 1
    report = tmp_path / "junit.xml"
    run = policy(repo_root, "test", str(bundled_copy), "--junit", str(report))
    assert run.code == 1, run.text
    assert f"FAIL {table}:{line}:5: douyin-anxingou/claim: over the limit, expected wrongly" in run.out
    assert "result.outcome: expected 'approve', got 'deny'" in run.out
    assert "result.refund: expected '301.00', got '0.00'" in run.out
    assert run.out.rstrip().splitlines()[-1].endswith(" passed, 1 failed")
    failures = ET.parse(report).getroot().findall(".//testcase/failure")
    assert len(failures) == 1
    assert "result.outcome: expected 'approve', got 'deny'" in (failures[0].text or "")


def test_policy_test_bad_table_exits_1_located(repo_root: Path, bundled_copy: Path) -> None:
    table = bundled_copy / "douyin-anxingou" / "tests" / "claim.cases.yaml"
    table.parent.mkdir(exist_ok=True)
    table.write_text(
        FAILING_TABLE.replace(
            '    expect:\n      result: {outcome: approve, refund: "301.00"}',
            "    expect: {result: {}, colour: red}",
        ),
        encoding="utf-8",
    )
    run = policy(repo_root, "test", str(bundled_copy))
    assert run.code == 1, run.text
    assert re.search(rf"^{re.escape(str(table))}:\d+:\d+: ", run.out, re.MULTILINE), run.text


def test_policy_test_coverage_names_the_untested_rule(
    repo_root: Path, fixtures_dir: Path, policy_tree: Tree
) -> None:
    # the fixture's tables reach every rule of acme-care but 2020.01's repair
    policies = policy_tree(base=fixtures_dir / "versioned")
    source = policies / "acme-care" / "2020.01.yaml"
    lines = source.read_text(encoding="utf-8").splitlines()
    line = next(n for n, text in enumerate(lines, start=1) if text.strip() == "- id: repair")
    column = lines[line - 1].index("id: repair") + 1
    run = policy(repo_root, "test", str(policies), "--coverage")
    assert run.code == 1, run.text
    assert f"{source}:{line}:{column}: acme-care claim: rule repair is not reached by any test" in run.out
    assert "coverage: 1 uncovered rule(s)" in run.out
    assert ", 0 failed" in run.out

    table = policies / "acme-care" / "tests" / "claim.cases.yaml"
    table.write_text(
        table.read_text(encoding="utf-8")
        + '  - name: repair in 2020\n    version: "2020.01"\n    input: {claim: {kind: repair}}\n'
        + '    expect: {matched_rules: [repair], result: {refund: "20.00"}}\n',
        encoding="utf-8",
    )
    run = policy(repo_root, "test", str(policies), "--coverage")
    assert run.code == 0, run.text
    assert "every rule is reached" in run.out
