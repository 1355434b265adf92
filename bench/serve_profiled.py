"""The decision server with one worker, profiled only between SIGUSR1 and SIGUSR2 (steady state).

``python bench/serve_profiled.py --port P --db FILE --out FILE.prof``: the app ``policy serve`` builds
(``server.app.create_app``) under the uvicorn settings of ``server.run`` with one worker, in this
process. SIGUSR1 starts cProfile on the event-loop thread, SIGUSR2 stops it and writes the stats;
SIGINT stops the server. Load and compile happen before any profiling.
"""

from __future__ import annotations

import argparse
import cProfile
import signal
from pathlib import Path
from typing import Any

import uvicorn

from server.app import create_app
from server.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
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
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        access_log=False,
        log_level="warning",
        timeout_graceful_shutdown=10,
    )
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
