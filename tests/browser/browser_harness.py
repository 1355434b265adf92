"""Helpers of the browser tests: where the browser is, and whether a missing browser skips or fails.

The tests skip, saying why, only when ``/usr/bin/chromium`` is missing and ``POLICY_BROWSER_TESTS`` is not
``required``; with ``POLICY_BROWSER_TESTS=required`` (``make pytest`` as root sets it, after ``make browser``
installed Chromium) a missing browser fails them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NoReturn

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def browser_required() -> bool:
    """Whether a missing browser fails the tests instead of skipping them."""
    return os.environ.get("POLICY_BROWSER_TESTS", "") == "required"


def missing(reason: str) -> NoReturn:
    """Skip, saying why and how to get the browser; fail instead when the browser tests are required."""
    if browser_required():
        pytest.fail(f"POLICY_BROWSER_TESTS=required, but {reason}", pytrace=False)
    how = "run `make browser` as root, or set POLICY_BROWSER_TESTS=required to fail instead"
    pytest.skip(f"{reason} ({how})", allow_module_level=True)
