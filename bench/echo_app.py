"""A bare Litestar echo endpoint, served the way ``policy serve`` serves the decision API.

``python bench/echo_app.py --port P --workers N``: uvicorn with the same settings as ``server.run``
(app factory, same worker count, access log off, warning log level, uvloop and httptools as uvicorn
picks them), so the HTTP benchmark compares the decision endpoint with the framework's floor.
``POST /echo`` decodes the JSON body and returns it; ``GET /health`` answers when the worker is up.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import uvicorn
from litestar import Litestar, get, post


@post("/echo", status_code=200)
async def echo(data: dict[str, Any]) -> dict[str, Any]:
    """The body, back."""
    return data


@get("/health")
async def health() -> dict[str, str]:
    """Up."""
    return {"status": "ok"}


def create_app() -> Litestar:
    """One app per worker process."""
    return Litestar(route_handlers=[echo, health], openapi_config=None, logging_config=None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    uvicorn.run(
        "echo_app:create_app",
        factory=True,
        app_dir=str(Path(__file__).resolve().parent),
        host=args.host,
        port=args.port,
        workers=args.workers,
        access_log=False,
        log_level="warning",
        timeout_graceful_shutdown=10,
    )


if __name__ == "__main__":
    main()
