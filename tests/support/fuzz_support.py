"""What API fuzzing shares: the suite (tests/hostile/test_api_fuzz.py) and bench/fuzz_api.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import schemathesis
from hypothesis import strategies as st

__all__ = ("register_formats", "without_lifespan")


def register_formats() -> None:
    """Money and timestamps as the API reads them, so valid requests reach the decisions.

    Without these, a "valid" money string is any text and a date-time any year, and nearly every valid
    request stops at input validation (422) instead of being decided.
    """
    cents = st.one_of(st.integers(0, 100_000_00), st.integers(0, 99_999_999_999_999_999))
    schemathesis.openapi.format("money", cents.map(lambda c: f"{c // 100}.{c % 100:02d}"))
    first, last = datetime(2000, 1, 2, tzinfo=UTC), datetime(2099, 12, 30, tzinfo=UTC)
    moments = st.datetimes(first.replace(tzinfo=None), last.replace(tzinfo=None))  # local: offset added
    offsets = st.integers(-48, 56).map(lambda q: timezone(timedelta(minutes=15 * q)))
    stamps = st.builds(lambda m, o: m.replace(tzinfo=o).isoformat(timespec="seconds"), moments, offsets)
    schemathesis.openapi.format("date-time", stamps)


def without_lifespan(app: Any) -> Any:
    """The app with ASGI lifespan messages answered here, never passed on.

    schemathesis starts and ends an app's lifespan around each test; our app cannot start again once ended
    (its decision log is closed) and needs no start (it is ready when made), so the caller ends it once.
    """

    async def asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await app(scope, receive, send)
            return
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    return asgi
