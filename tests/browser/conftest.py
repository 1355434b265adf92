"""Fixtures of the browser tests: a real ``policy serve`` and Debian's Chromium driven by Playwright.

Playwright never downloads a browser here: it drives the system's Chromium through ``executable_path``.
When it is missing the tests skip or fail as ``browser_harness`` says.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_harness import CHROMIUM, CHROMIUM_ARGS, missing
from server_support import REPO_ROOT, ServerProcess, launch_server


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    """Debian's Chromium; skips (or fails when required) without it."""
    if not CHROMIUM.exists():
        missing(f"{CHROMIUM} is missing")
    return CHROMIUM


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """``policy serve`` on the bundled policies, a free port and a decision log in a temporary folder."""
    workdir = tmp_path_factory.mktemp("browser-server")
    server = launch_server(
        workdir, workdir / "decisions.sqlite3", policies=REPO_ROOT / "policies", tokens=False
    )
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser(chromium_path: Path) -> Iterator[Any]:
    """A headless Chromium (the system's, never a downloaded one) driven by Playwright."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("Playwright for Python is not installed (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(chromium_path), headless=True, args=CHROMIUM_ARGS, timeout=60_000
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any, live_server: ServerProcess) -> Iterator[Any]:
    """A fresh browser page; fails the test on any request to another origin or any script error."""
    context = browser.new_context(base_url=live_server.base_url, locale="en-US", timezone_id="Asia/Shanghai")
    context.set_default_timeout(15_000)
    new_page = context.new_page()
    outside: list[str] = []
    errors: list[str] = []
    new_page.on(
        "request",
        lambda request: None if request.url.startswith(live_server.base_url) else outside.append(request.url),
    )
    new_page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    new_page.on(
        "console",
        lambda message: errors.append(f"console: {message.text}") if message.type == "error" else None,
    )
    yield new_page
    context.close()
    assert outside == [], f"the playground reached outside this server: {outside}"
    assert [e for e in errors if not _expected_console_error(e)] == []


def _expected_console_error(text: str) -> bool:
    # Chromium logs every 4xx answer of fetch() as a console error; the tests provoke some on purpose.
    return text.startswith("console: Failed to load resource: the server responded with a status of 4")
