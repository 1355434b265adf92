"""A bare Litestar echo endpoint, served the way ``policy serve`` serves the decision API.

``python bench/echo_app.py --port P --workers N [--server granian|uvicorn]``: started by the same
``server.run.serve_factory`` as ``policy serve`` (same ASGI server, app factory, worker count, logs off),
so the HTTP benchmark compares the decision endpoint with the framework's floor.
``POST /echo`` decodes the JSON body and returns it; ``GET /health`` answers when the worker is up.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from litestar import Litestar, get, post

from server.run import ASGI_SERVERS, serve_factory
from server.settings import Settings


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
    parser.add_argument("--server", choices=ASGI_SERVERS, default=Settings().asgi_server)
    args = parser.parse_args()
    serve_factory(
        "echo_app:create_app",
        host=args.host,
        port=args.port,
        workers=args.workers,
        server=args.server,
        app_dir=Path(__file__).resolve().parent,
    )


if __name__ == "__main__":
    main()
