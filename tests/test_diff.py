"""`policy diff`: the structural difference of two versions, and the impact of a change on a corpus or log.

The corpus numbers are worked by hand from the taobao-anxingou late-shipment rules (spec/programs.md):
2015.10 pays 5 % of the amount, at least 5.00 (1.00 for special categories), at most 30.00; 2022.09 pays
10 %, at least 5.00 for every category, at most 100.00. The draft (tests/fixtures/diff/draft-2022.09.yaml)
pays 8 %, at least 5.00 (1.00 special), at most 50.00, and pays 5.00 to an order neither shipped nor checked.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sqlite3
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from policy_engine.cli import main
from policy_engine.diff import PairSpec, load_pair, structural_diff
from policy_engine.diff.compare import PairEvaluator
from policy_engine.diff.histogram import bins
from policy_engine.errors import EvaluationError, InputError
from policy_engine.evaluate import evaluate
from policy_engine.expr.values import parse_timestamp
from server.log_store import DecisionRecord, SQLiteDecisionLog

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "policies"
DRAFT = ROOT / "tests" / "fixtures" / "diff" / "draft-2022.09.yaml"
BROKEN_DRAFT = ROOT / "tests" / "fixtures" / "diff" / "draft-broken.yaml"
PROGRAM = "taobao-anxingou"



def _order(amount: str, *, special: bool = False, shipped: str | None = "2023-03-04T09:00:00+08:00") -> Any:
    return {
        "order": {
            "amount": amount,
            "placed_at": "2023-03-01T10:00:00+08:00",
            "promised_ship_by": "2023-03-03T10:00:00+08:00",
            "shipped_at": shipped,
            "special_category": special,
        }
    }


def _request(data: Any, **extra: Any) -> str:
    base = {"program": PROGRAM, "decision": "late_shipment", "at": "2023-03-05T10:00:00+08:00", "input": data}
    base.update(extra)
    return json.dumps({k: v for k, v in base.items() if v is not None}, ensure_ascii=False)


CORPUS_LINES = [
    _request(_order("200.00")),  # 1: 10.00 → 20.00 (late → late)
    _request(_order("50.00"), program=None, at=None),  # 2: 5.00 → 5.00 (late_floor → late); no `at`
    _request(_order("1000.00")),  # 3: 30.00 → 100.00 (late_capped → late)
    _request(_order("2000.00")),  # 4: 30.00 → 100.00 (late_capped → late_capped)
    _request(_order("40.00", special=True)),  # 5: 2.00 → 5.00 (late → late_floor)
    _request(_order("500.00", shipped="2023-03-03T09:00:00+08:00")),  # 6: on time: none both
    _request(_order("500.00", shipped=None)),  # 7: not shipped, not checked: none both
    "this is not json",  # 8: bad
    '{"decision": "late_shipment"}',  # 9: bad, no input
    _request(_order("-1.00")),  # 10: refused by the input schema under both versions
    _request(_order("100.00"), program="douyin-anxingou"),  # 11: bad, another program
    '{"decision": "nope", "input": {}}',  # 12: bad, no such decision
    "",  # 13: blank, skipped silently
    _request(_order("100.00"), version="2015.10"),  # 14: 5.00 → 10.00 (late → late); version ignored
]


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    path = tmp_path / "late.jsonl"
    path.write_text("\n".join(CORPUS_LINES) + "\n", encoding="utf-8")
    return path


def run(*args: str) -> Result:
    result = CliRunner().invoke(main, ["diff", PROGRAM, "--policies", str(POLICIES), *args])
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def run_json(*args: str) -> dict[str, Any]:
    result = run(*args, "--json")
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def _rules(impact: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["rule"]: row for row in impact["by_rule"]}


# ------------------------------------------------------------------------------------------- structure


def test_structural_diff_taobao_2015_to_2022() -> None:
    pair = load_pair(PairSpec(POLICIES, PROGRAM, "2015.10", "2022.09"))
    diff = structural_diff(pair.old, pair.new)
    params = {p.name: p for p in diff.params}
    assert (params["late_rate"].change, params["late_rate"].old, params["late_rate"].new) == (
        "changed",
        "5%",
        "10%",
    )
    assert (params["late_cap"].old, params["late_cap"].new) == ("30.00", "100.00")
    assert (params["late_floor_special"].old, params["late_floor_special"].new) == ("1.00", "5.00")
    assert params["late_rate"].text == "late_rate: 5% → 10%"
    assert set(params) == {"late_rate", "late_cap", "late_floor_special"}
    decisions = {d.name: d for d in diff.decisions}
    assert decisions["return_request"].change == "unchanged"
    late = decisions["late_shipment"]
    assert late.change == "affected" and late.rules == ()
    reads = dict(late.params_read)
    assert reads["late_capped"] == ("late_cap", "late_rate")
    assert "late_rate" in reads["late"]


def test_structural_diff_text_reads_like_words() -> None:
    result = run("--from", "2015.10", "--to", "2022.09")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "taobao-anxingou: 2015.10 → 2022.09" in out
    assert "late_rate: 5% → 10%" in out
    assert "late_cap: 30.00 → 100.00" in out
    assert "late_floor_special: 1.00 → 5.00" in out
    assert "Decision return_request" in out and "unchanged" in out
    assert "late_capped reads changed params late_cap, late_rate" in out


def test_structural_diff_decisions_and_params_added() -> None:
    data = run_json("--from", "2022.09", "--to", "2025.02")
    structure = data["structure"]
    assert data["impact"] is None
    added = {p["name"] for p in structure["params"] if p["change"] == "added"}
    assert {"min_deposit", "min_service_score"} <= added
    changes = {d["name"]: d["change"] for d in structure["decisions"]}
    assert changes["admission"] == "added" and changes["review"] == "added"
    assert changes["late_shipment"] == "unchanged"
    backwards = run_json("--from", "2025.02", "--to", "2022.09")["structure"]
    assert {d["name"]: d["change"] for d in backwards["decisions"]}["admission"] == "removed"
    assert {p["change"] for p in backwards["params"]} == {"removed"}


def test_structural_diff_of_a_draft_names_rule_changes() -> None:
    data = run_json("--from", "2015.10", "--to", str(DRAFT))
    assert data["draft"] == str(DRAFT) and data["to"] == "2022.09"
    structure = data["structure"]
    params = {p["name"]: (p["from"], p["to"]) for p in structure["params"]}
    assert params == {"late_rate": ("5%", "8%"), "late_cap": ("30.00", "50.00")}
    late = next(d for d in structure["decisions"] if d["name"] == "late_shipment")
    assert late["change"] == "changed"
    (rule,) = late["rules"]
    assert rule["id"] == "not_shipped_unchecked" and rule["change"] == "changed"
    assert "outcome: none → compensate" in rule["details"]
    assert "compensation: (not set) → params.late_floor" in rule["details"]


def test_same_version_has_no_difference() -> None:
    result = run("--from", "2022.09", "--to", "2022.09")
    assert result.exit_code == 0
    assert "No difference" in result.stdout


# ---------------------------------------------------------------------------------------------- corpus


def test_corpus_diff_counts_and_deltas_by_hand(corpus: Path) -> None:
    impact = run_json("--from", "2015.10", "--to", "2022.09", "--corpus", str(corpus))["impact"]
    assert impact["total"] == 9
    assert impact["unchanged"] == 2
    assert impact["changed"] == 5
    assert impact["outcome_changed"] == 0
    assert impact["amount_changed"] == 5
    assert impact["other_changed"] == 0
    assert impact["rule_only_changed"] == 1
    assert impact["errors"] == {"from": 1, "to": 1, "both": 1, "either": 1}
    assert impact["without_at"] == 1
    (money,) = impact["money"]
    assert (money["decision"], money["field"]) == ("late_shipment", "compensation")
    assert money["delta"] == "158.00"  # 10 + 70 + 70 + 3 + 5
    assert (money["from_total"], money["to_total"]) == ("82.00", "240.00")
    assert (money["changed"], money["increased"], money["decreased"]) == (5, 5, 0)
    assert [(b["from"], b["count"]) for b in money["histogram"]] == [
        ("3.00", 1),
        ("5.00", 1),
        ("10.00", 1),
        ("70.00", 2),
    ]
    rules = _rules(impact)
    assert rules["late"]["decisions"] == 2 and rules["late"]["delta"] == {"compensation": "15.00"}
    assert rules["late_capped → late"]["delta"] == {"compensation": "70.00"}
    assert rules["late_capped"]["delta"] == {"compensation": "70.00"}
    assert rules["late → late_floor"]["delta"] == {"compensation": "3.00"}
    assert rules["late_floor → late"]["changed"] == 0 and rules["late_floor → late"]["delta"] == {}
    assert rules["otherwise"]["decisions"] == 1 and rules["not_shipped_unchecked"]["decisions"] == 1
    assert rules["error"]["decisions"] == 1
    assert list(rules)[:2] == ["late_capped → late", "late_capped"] or list(rules)[:2] == [
        "late_capped",
        "late_capped → late",
    ]


def test_corpus_examples_and_bad_lines(corpus: Path) -> None:
    impact = run_json("--from", "2015.10", "--to", "2022.09", "--corpus", str(corpus))["impact"]
    examples = impact["examples"]
    assert [e["ref"] for e in examples["amount"]] == ["line 1", "line 3", "line 4", "line 5", "line 14"]
    first = examples["amount"][0]
    assert first["from"] == {
        "result": {"outcome": "compensate", "compensation": "10.00"},
        "matched_rules": ["late"],
    }
    assert first["to"]["result"]["compensation"] == "20.00"
    assert first["deltas"] == {"compensation": "+10.00"}
    assert [e["ref"] for e in examples["rule"]] == ["line 2"]
    assert [e["ref"] for e in examples["error"]] == ["line 10"]
    assert "/input/order/amount" in examples["error"][0]["from"]["error"]
    assert examples["outcome"] == [] and examples["other"] == []
    bad = impact["bad_lines"]
    assert bad["count"] == 4
    refs = [b["ref"] for b in bad["first"]]
    assert refs == ["line 8", "line 9", "line 11", "line 12"]
    messages = {b["ref"]: b["message"] for b in bad["first"]}
    assert "not valid JSON" in messages["line 8"]
    assert '"input" is missing' in messages["line 9"]
    assert "douyin-anxingou" in messages["line 11"]
    assert "'nope'" in messages["line 12"]


def test_corpus_text_report(corpus: Path) -> None:
    result = run("--from", "2015.10", "--to", "2022.09", "--corpus", str(corpus))
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert re.search(r"decisions replayed\s+9\b", out)
    assert re.search(r"an amount changed\s+5\b", out)
    assert re.search(r"outcome changed\s+0\b", out)
    assert "late_shipment.compensation: +158.00" in out
    assert "total 82.00 → 240.00" in out
    assert "late_capped → late" in out
    assert "line 8: not valid JSON" in out
    assert "First examples: amount changed" in out
    assert "warning: 4 bad line(s) skipped; first: line 8" in result.stderr


def test_draft_as_to(corpus: Path) -> None:
    impact = run_json("--from", "2015.10", "--to", str(DRAFT), "--corpus", str(corpus))["impact"]
    assert impact["total"] == 9
    assert impact["outcome_changed"] == 1  # line 7: none → compensate 5.00
    assert impact["amount_changed"] == 6
    assert impact["unchanged"] == 2
    (money,) = impact["money"]
    assert money["delta"] == "55.20"  # 6 + 20 + 20 + 1.20 + 5 + 3
    assert [e["ref"] for e in impact["examples"]["outcome"]] == ["line 7"]
    outcome = impact["examples"]["outcome"][0]
    assert outcome["from"]["result"] == {"outcome": "none", "compensation": "0.00"}
    assert outcome["to"]["result"] == {"outcome": "compensate", "compensation": "5.00"}
    rules = _rules(impact)
    assert rules["not_shipped_unchecked"]["outcome_changed"] == 1


def test_draft_with_errors_exits_1_with_located_errors() -> None:
    result = run("--from", "2015.10", "--to", str(BROKEN_DRAFT))
    assert result.exit_code == 1
    assert re.search(r"draft-broken\.yaml:\d+:\d+: unknown field order\.weight", result.stdout)


def test_json_shape(corpus: Path) -> None:
    data = run_json("--from", "2015.10", "--to", "2022.09", "--corpus", str(corpus))
    assert set(data) == {"program", "from", "to", "draft", "structure", "impact"}
    assert (data["program"], data["from"], data["to"], data["draft"]) == (PROGRAM, "2015.10", "2022.09", None)
    assert set(data["structure"]) == {"program", "from", "to", "unchanged", "params", "decisions"}
    assert set(data["impact"]) == {
        "source",
        "total",
        "unchanged",
        "changed",
        "outcome_changed",
        "amount_changed",
        "other_changed",
        "rule_only_changed",
        "errors",
        "bad_lines",
        "without_at",
        "default_at",
        "by_decision",
        "money",
        "by_rule",
        "examples",
    }
    assert set(data["impact"]["examples"]) == {"outcome", "amount", "other", "rule", "error"}
    row = data["impact"]["by_rule"][0]
    assert set(row) == {
        "decision",
        "rule",
        "from_rule",
        "to_rule",
        "decisions",
        "changed",
        "outcome_changed",
        "amount_changed",
        "delta",
    }
    assert data["impact"]["by_decision"] == {"late_shipment": 9}


def test_html_report_is_self_contained(corpus: Path, tmp_path: Path) -> None:
    html_file = tmp_path / "report.html"
    result = run("--from", "2015.10", "--to", "2022.09", "--corpus", str(corpus), "--html", str(html_file))
    assert result.exit_code == 0, result.output
    html = html_file.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert "<svg" in html and "<rect" in html
    assert "late_capped → late" in html and "+158.00" in html
    assert "<script" not in html
    assert re.findall(r"(?:src|href)=", html) == []
    assert re.findall(r"https?://[^\s\"<>]*", html) == [
        "http://www.w3.org/2000/svg"
    ]  # the SVG namespace, never fetched


def test_structural_html_report(tmp_path: Path) -> None:
    html_file = tmp_path / "structure.html"
    result = run("--from", "2015.10", "--to", "2022.09", "--html", str(html_file))
    assert result.exit_code == 0
    html = html_file.read_text(encoding="utf-8")
    assert "late_rate" in html and "10%" in html


# ----------------------------------------------------------------------------------------- decision log


def _record(record_id: str, at: str, amount: str, program: str = PROGRAM) -> DecisionRecord:
    moment = parse_timestamp(at)
    request = {
        "program": program,
        "decision": "late_shipment",
        "version": None,
        "at": moment.isoformat(),
        "explain": False,
        "input": _order(amount),
    }
    return DecisionRecord(
        decision_id=record_id,
        recorded_at=moment.astimezone(UTC).isoformat(timespec="microseconds"),
        program=program,
        version="2022.09",
        decision="late_shipment",
        digest="sha256:0",
        request=json.dumps(request),
        answer="{}",
    )


@pytest.fixture
def decision_log(tmp_path: Path) -> Path:
    """A decision log written by the server's own log store."""
    path = tmp_path / "decisions.sqlite3"
    log = SQLiteDecisionLog(path)
    log.append_sync(
        [
            _record("a-early", "2023-02-28T10:00:00+08:00", "200.00"),  # before --since
            _record("b", "2023-03-05T10:00:00+08:00", "200.00"),  # +10.00
            _record("c", "2023-03-06T10:00:00+08:00", "1000.00"),  # +70.00
            _record("d", "2023-03-07T10:00:00+08:00", "50.00"),  # same amount, other rule
            _record("e-late", "2023-03-31T10:00:00+08:00", "2000.00"),  # at --until: excluded
            _record("f-other", "2023-03-06T10:00:00+08:00", "2000.00", program="douyin-anxingou"),
        ]
    )
    log.close()
    return path


def test_from_log_with_time_range(decision_log: Path) -> None:
    impact = run_json(
        "--from",
        "2015.10",
        "--to",
        "2022.09",
        "--from-log",
        str(decision_log),
        "--since",
        "2023-03-01T00:00:00+08:00",
        "--until",
        "2023-03-31T10:00:00+08:00",
    )["impact"]
    assert impact["total"] == 3
    assert impact["amount_changed"] == 2 and impact["rule_only_changed"] == 1
    assert impact["money"][0]["delta"] == "80.00"
    assert [e["ref"] for e in impact["examples"]["amount"]] == ["decision b", "decision c"]
    assert impact["source"].startswith("decision log ")
    everything = run_json("--from", "2015.10", "--to", "2022.09", "--from-log", str(decision_log))["impact"]
    assert everything["total"] == 5  # the douyin record is never replayed
    assert everything["money"][0]["delta"] == "160.00"  # + 10 (a) + 70 (e)


def test_from_log_that_is_not_a_log(tmp_path: Path) -> None:
    path = tmp_path / "empty.sqlite3"
    sqlite3.connect(path).close()
    result = run("--from", "2015.10", "--to", "2022.09", "--from-log", str(path))
    assert result.exit_code == 2
    assert "is not a decision log" in result.stderr


# ------------------------------------------------------------------------------------------------- usage


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2099.01", "--to", "2022.09"], "--from: taobao-anxingou has no version '2099.01'"),
        (["--from", "2015.10", "--to", "2099.01"], "--to: taobao-anxingou has no version '2099.01'"),
        (
            ["--from", "2015.10", "--to", "missing/draft.yaml"],
            "missing/draft.yaml: no such draft policy file",
        ),
        (["--from", "2015.10", "--to", "2022.09", "--corpus", "missing.jsonl"], "no such corpus file"),
        (
            ["--from", "2015.10", "--to", "2022.09", "--since", "2023-01-01T00:00:00Z"],
            "use them with --from-log",
        ),
        (["--from", "2015.10", "--to", "2022.09", "--corpus", "a", "--from-log", "b"], "not both"),
    ],
)
def test_usage_errors_exit_2(args: list[str], message: str) -> None:
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "versions: 2015.10, 2022.09, 2025.02" in result.stderr or "version" not in message


def test_unknown_program_exits_2() -> None:
    result = CliRunner().invoke(
        main, ["diff", "nope", "--from", "1", "--to", "2", "--policies", str(POLICIES)]
    )
    assert result.exit_code == 2
    assert "unknown program 'nope'" in result.stderr


def test_draft_of_another_program_exits_2(tmp_path: Path) -> None:
    draft = tmp_path / "other.yaml"
    draft.write_text(
        (POLICIES / "douyin-anxingou" / "2021.08.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    result = run("--from", "2015.10", "--to", str(draft))
    assert result.exit_code == 2
    assert "is a policy of douyin-anxingou, not of taobao-anxingou" in result.stderr


# ------------------------------------------------------------------------------------ engine agreement


def _evaluate(policy: Any, name: str, data: Any, at: datetime) -> tuple[Any, Any]:
    try:
        answer = evaluate(policy, policy.decisions[name], data, at=at)
    except InputError as exc:
        return None, f"input: {exc.detail}"
    except EvaluationError as exc:
        return None, str(exc)
    return answer.result, answer.matched_rules


def test_shared_input_path_agrees_with_evaluate() -> None:
    pair = load_pair(PairSpec(POLICIES, PROGRAM, "2015.10", "2022.09"))
    evaluator = PairEvaluator(pair.old, pair.new)
    info = evaluator.info("late_shipment")
    assert info is not None and info.shared_input
    at = parse_timestamp("2023-03-05T10:00:00+08:00")
    requests = [json.loads(line) for line in CORPUS_LINES if line.startswith("{")]
    inputs = [r["input"] for r in requests if "input" in r]
    inputs += [[], {"order": {}}, {"order": _order("12.34")["order"], "checked_at": "2023-03-04T00:00:00Z"}]
    for data in inputs:
        comparison = evaluator.compare(info, data, at)
        for side, policy in ((comparison.old, pair.old), (comparison.new, pair.new)):
            result, extra = _evaluate(policy, "late_shipment", data, at)
            if result is None:
                assert side.error == extra
            else:
                assert (side.result, side.rules) == (result, extra)


def test_different_input_schemas_use_evaluate_per_version() -> None:
    pair = load_pair(PairSpec(POLICIES, "douyin-anxingou", "2021.08", "2023.07"))
    evaluator = PairEvaluator(pair.old, pair.new)
    info = evaluator.info("claim")
    assert info is not None and not info.shared_input
    data = json.loads((ROOT / "examples" / "douyin-claim-instant-refund.json").read_text(encoding="utf-8"))
    at = parse_timestamp("2021-09-01T11:00:05+08:00")
    comparison = evaluator.compare(info, data, at)
    assert comparison.old.result == _evaluate(pair.old, "claim", data, at)[0]
    assert comparison.new.result == _evaluate(pair.new, "claim", data, at)[0]
    assert evaluator.info("no_such_decision") is None


# ------------------------------------------------------------------------------------------- parallel


def _generator() -> Any:
    spec = importlib.util.spec_from_file_location(
        "gen_late_shipments", ROOT / "bench" / "gen_late_shipments.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_worker_processes_agree_with_one_process(tmp_path: Path) -> None:
    path = tmp_path / "late.jsonl"
    with path.open("w", encoding="utf-8") as handle:
        _generator().write(6_000, handle)  # above the in-process limit, more than one chunk
        handle.write("{broken\n")
    args = ("--from", "2015.10", "--to", "2022.09", "--corpus", str(path))
    parallel = run_json(*args, "--workers", "2")
    single = run_json(*args, "--workers", "1")
    for data in (parallel, single):
        del data["impact"]["default_at"]  # the time each run started
    assert parallel == single
    impact = parallel["impact"]
    assert impact["total"] == 6_000 and impact["bad_lines"]["first"][0]["ref"] == "line 6001"
    assert impact["amount_changed"] > 3_000 and impact["errors"]["either"] == 0


# ----------------------------------------------------------------------------------------------- bins


def test_histogram_bins() -> None:
    assert bins(Counter()) == []
    few = bins(Counter({Decimal("70.00"): 2, Decimal("-3.00"): 1}))
    assert [(b.label, b.count) for b in few] == [("-3.00", 1), ("+70.00", 2)]
    many = Counter({Decimal(cents) / 100: 1 for cents in range(1, 10_001)})  # 0.01 … 100.00
    cut = bins(many)
    assert sum(b.count for b in cut) == 10_000
    assert len(cut) <= 21 and cut[0].low == 0 and cut[0].high - cut[0].low == 5
