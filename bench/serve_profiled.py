"""The decision server with one worker, profiled only between SIGUSR1 and SIGUSR2 (steady state).

``python bench/serve_profiled.py --port P --db FILE --out FILE.prof [--server granian|uvicorn]``: the app
``policy serve`` builds (``server.app.create_app``) in this process with one worker: under granian (the
default server, embedded in this process so its event loop is this process's main thread) or uvicorn.
SIGUSR1 starts cProfile on the event-loop thread, SIGUSR2 stops it and writes the stats; SIGINT stops the
server. Load and compile happen before any profiling.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import signal
from pathlib import Path
from typing import Any

from server.app import create_app
from server.run import ASGI_SERVERS
from server.settings import Settings


def _serve_granian(app: Any, settings: Settings) -> None:
    import uvloop
    from granian.constants import Interfaces
    from granian.server.embed import Server

    server = Server(
        app, address=settings.host, port=settings.port, interface=Interfaces.ASGI, log_enabled=False
    )

    async def main() -> None:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGINT, server.stop)
        loop.add_signal_handler(signal.SIGTERM, server.stop)
        await server.serve()

    uvloop.run(main())


def _serve_uvicorn(app: Any, settings: Settings) -> None:
    import uvicorn

    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        access_log=False,
        log_level="warning",
        timeout_graceful_shutdown=10,
    )
    uvicorn.Server(config).run()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--server", choices=ASGI_SERVERS, default=Settings().asgi_server)
    args = parser.parse_args()
    settings = Settings.from_env(port=args.port, db_path=args.db, workers=1)
    app = create_app(settings)
    profiler = cProfile.Profile()

    def start(_signum: int, _frame: Any) -> None:
        profiler.enable()

    def stop(_signum: int, _frame: Any) -> None:
        profiler.disable()
        profiler.dump_stats(str(args.out))

    signal.signal(signal.SIGUSR1, start)
    signal.signal(signal.SIGUSR2, stop)
    if args.server == "granian":
        _serve_granian(app, settings)
    else:
        _serve_uvicorn(app, settings)


if __name__ == "__main__":
    main()
