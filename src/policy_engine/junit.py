"""Write policy-test results as JUnit XML, the format CI systems read."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from xml.etree import ElementTree as ET

from policy_engine.policy_tests import CaseResult, TestReport

__all__ = ("write_junit",)


def write_junit(path: Path, report: TestReport) -> None:
    """One ``testsuite`` per program/decision table, one ``testcase`` per case."""
    suites: dict[str, list[CaseResult]] = defaultdict(list)
    for result in report.results:
        suites[f"{result.case.program}/{result.case.decision}"].append(result)
    root = ET.Element(
        "testsuites", tests=str(len(report.results)), failures=str(len(report.failed)), name="policy test"
    )
    for name, results in sorted(suites.items()):
        failures = sum(not r.passed for r in results)
        suite = ET.SubElement(root, "testsuite", name=name, tests=str(len(results)), failures=str(failures))
        for result in results:
            case = ET.SubElement(
                suite, "testcase", classname=name, name=result.case.name, file=result.case.location.file
            )
            if not result.passed:
                failure = ET.SubElement(case, "failure", message=result.failures[0])
                failure.text = f"{result.case.location}\n" + "\n".join(result.failures)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
