"""The playground end to end: a real ``policy serve``, Debian's headless Chromium, Playwright clicking.

The expected answers are asked of the same server over plain HTTP, so the tests check what the page shows
against what the API says, whatever the policies' numbers are.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from browser_harness import missing
from server_support import ServerProcess

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the dev extra installs it
    missing("Playwright for Python is not installed (pip install -e '.[dev]')")

EXAMPLES = "/v1/programs/{}/versions/{}/decisions/{}/examples"
FIELDS_OF_ROWS = "rows => rows.map(r => r.dataset.field)"


def api_examples(server: ServerProcess, program: str, version: str, decision: str) -> list[dict[str, Any]]:
    response = httpx.get(server.base_url + EXAMPLES.format(program, version, decision), timeout=10)
    response.raise_for_status()
    examples: list[dict[str, Any]] = response.json()
    return examples


def api_decide(
    server: ServerProcess, program: str, decision: str, version: str, example: dict[str, Any]
) -> dict[str, Any]:
    body = {"program": program, "decision": decision, "version": version, "input": example["input"]}
    if "at" in example:
        body["at"] = example["at"]
    response = httpx.post(f"{server.base_url}/v1/decide", json=body, timeout=10)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def wait_ready(page: Any) -> None:
    page.wait_for_selector('#controls[data-state="ready"]')


def choose(page: Any, program: str, version: str, decision: str) -> None:
    page.goto("/playground")
    wait_ready(page)
    for select, value in (("#program", program), ("#version", version), ("#decision", decision)):
        page.select_option(select, value)
        wait_ready(page)
    expect(page.locator("#program")).to_have_value(program)
    expect(page.locator("#version")).to_have_value(version)
    expect(page.locator("#decision")).to_have_value(decision)


def side(page: Any, version: str) -> Any:
    return page.locator(f'#result .side[data-version="{version}"]')


def test_decide_then_compare_two_versions(page: Any, live_server: ServerProcess) -> None:
    program, decision = "douyin-anxingou", "claim"
    choose(page, program, "2021.08", decision)

    # The editor holds the first example of the policy tests for 2021.08.
    examples = api_examples(live_server, program, "2021.08", decision)
    first = examples[0]
    assert json.loads(page.input_value("#input")) == first["input"]
    expect(page.locator("#example option")).to_have_count(len(examples))
    assert page.input_value("#at") == first.get("at", "")

    page.click("#decide")
    expected = api_decide(live_server, program, decision, "2021.08", first)
    one = side(page, "2021.08")
    expect(one.locator('[data-testid="outcome"]')).to_have_text(expected["result"]["outcome"])
    expect(page.locator("#result")).to_have_attribute("data-state", "done")
    for field, value in expected["result"].items():
        expect(one.locator(f'tr[data-field="{field}"] td.value')).to_have_text(str(value))
    expect(one.locator("ul.matched")).to_contain_text(expected["matched_rules"][0])
    expect(one.locator("ul.reasons li")).to_have_count(len(expected["reasons"]))
    assert one.locator("table.trace tbody tr").count() >= 1
    expect(one.locator("table.trace tr.hit").first).to_contain_text(expected["matched_rules"][0])

    # Compare: the same input under 2023.07, side by side.
    page.check("#compare")
    page.select_option("#compare-version", "2023.07")
    page.click("#decide")
    expect(page.locator("#result .columns .side")).to_have_count(2)
    newer = api_decide(live_server, program, decision, "2023.07", first)
    for version, answer in (("2021.08", expected), ("2023.07", newer)):
        column = side(page, version)
        expect(column.locator("h2")).to_contain_text(version)
        expect(column.locator('[data-testid="outcome"]')).to_have_text(answer["result"]["outcome"])
    summary = page.locator("#compare-summary")
    expect(summary).to_contain_text("2021.08")
    expect(summary).to_contain_text("2023.07")
    changed = sorted(k for k in expected["result"] if expected["result"][k] != newer["result"].get(k))
    assert sorted(
        side(page, "2023.07").locator("tr.changed").evaluate_all("rows => rows.map(r => r.dataset.field)")
    ) == (changed)
    assert "compare=2023.07" in page.url  # the selection is in the address, to share


def test_compare_highlights_the_fields_that_change(page: Any, live_server: ServerProcess) -> None:
    program, decision, old, new = "taobao-anxingou", "late_shipment", "2015.10", "2022.09"
    examples = api_examples(live_server, program, old, decision)
    index, changed = None, []
    for i, example in enumerate(examples):
        a = api_decide(live_server, program, decision, old, example)["result"]
        b = api_decide(live_server, program, decision, new, example)["result"]
        changed = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
        if changed:
            index, before, after = i, a, b
            break
    assert index is not None, "no test example of late_shipment changes between 2015.10 and 2022.09"

    choose(page, program, old, decision)
    page.select_option("#example", str(index))
    page.check("#compare")
    page.select_option("#compare-version", new)
    page.click("#decide")
    expect(page.locator("#result .columns .side")).to_have_count(2)
    expect(page.locator("#compare-summary.differs")).to_contain_text(changed[0])
    for version, this, other_version, other in ((old, before, new, after), (new, after, old, before)):
        column = side(page, version)
        rows = column.locator("tr.changed")
        expect(rows).to_have_count(len(changed))
        assert rows.evaluate_all(FIELDS_OF_ROWS) == [
            k for k in (list(this) + [k for k in other if k not in this]) if k in changed
        ]
        field = changed[0]
        expect(column.locator(f'tr[data-field="{field}"] td.value')).to_contain_text(str(this[field]))
        expect(column.locator(f'tr[data-field="{field}"] .was')).to_have_text(
            f"{other_version}: {other[field]}"
        )
        # Unchanged fields are not highlighted.
        same = [k for k in this if k not in changed]
        for field in same:
            expect(column.locator(f'tr[data-field="{field}"]')).not_to_have_class("changed")


def test_errors_are_shown_with_their_pointers(page: Any, live_server: ServerProcess) -> None:
    choose(page, "douyin-anxingou", "2021.08", "claim")
    data = json.loads(page.input_value("#input"))
    data["order"]["amount"] = "abc"
    page.fill("#input", json.dumps(data, indent=2, ensure_ascii=False))
    page.click("#decide")

    problem = page.locator("#result .problem")
    expect(problem.locator("h3")).to_contain_text("422")
    item = problem.locator('li[data-pointer="/input/order/amount"]')
    expect(item).to_have_count(1)
    expect(item.locator(".pointer")).to_have_text("/input/order/amount")
    expect(page.locator("#status")).to_contain_text("422")

    # The pointer leads to the field in the editor.
    item.locator("button.pointer").click()
    selected = page.evaluate(
        "() => { const t = document.getElementById('input');"
        " return t.value.slice(t.selectionStart, t.selectionEnd); }"
    )
    assert selected == '"amount": "abc"'

    # Text that is not JSON is refused before anything is sent.
    page.fill("#input", '{"order": ')
    expect(page.locator("#input-status")).to_contain_text("Not valid JSON")
    page.click("#decide")
    expect(page.locator("#result .problem h3")).to_have_text("The input is not valid JSON")
    expect(page.locator('#result .problem li[data-pointer="/input"]')).to_have_count(1)

    # A bad `at` is the server's 422 pointing at /at.
    page.fill(
        "#input", json.dumps(data["order"] and {**data, "order": {**data["order"], "amount": "100.00"}})
    )
    page.fill("#at", "2021-09-01 10:00")
    page.click("#decide")
    expect(page.locator('#result .problem li[data-pointer="/at"]')).to_have_count(1)
