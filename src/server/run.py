"""Start an ASGI app factory under the chosen server: one process, or ``workers`` processes.

Granian (Rust HTTP stack) is the default because it measured best here: 4,300 against uvicorn's 3,360
decisions/s on one worker (bench/RESULTS.md); uvicorn stays available (``--server uvicorn``). Both run
the same factory, so every worker builds its own app from the environment.
"""

from __future__ import annotations

import os
from pathlib import Path

from server.log_store import prepare_database
from server.metrics import prepare_metrics_dir
from server.settings import ASGI_SERVERS, Settings

__all__ = ("ASGI_SERVERS", "serve", "serve_factory")


def serve(settings: Settings) -> None:
    """Serve the decision API until stopped (the caller has checked the policies)."""
    if settings.metrics_dir is None and settings.workers > 1:
        settings = settings.with_changes(metrics_dir=settings.db_path.parent / f"metrics-{settings.port}")
    if settings.metrics_dir is not None:
        prepare_metrics_dir(Path(settings.metrics_dir))
    os.environ.update(settings.to_env())  # worker processes read their settings from here
    prepare_database(settings.db_path)  # once, before workers race to create it
    serve_factory(
        "server.app:app_from_env",
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        server=settings.asgi_server,
    )


def serve_factory(
    target: str, *, host: str, port: int, workers: int, server: str, app_dir: Path | None = None
) -> None:
    """Run ``module:factory`` under ``server`` with the settings every server of ours uses.

    Access logs are off (each decision writes its own line), server logs at warning.
    """
    if server == "granian":
        from granian import Granian  # imported here: only the chosen server is loaded
        from granian.constants import Interfaces

        if app_dir is not None:
            os.environ["PYTHONPATH"] = os.pathsep.join(
                [str(app_dir), *filter(None, [os.environ.get("PYTHONPATH")])]
            )
        Granian(
            target,
            address=host,
            port=port,
            interface=Interfaces.ASGI,
            workers=workers,
            factory=True,
            log_enabled=False,
            working_dir=app_dir,
            respawn_failed_workers=True,
        ).serve()
        return
    import uvicorn

    uvicorn.run(
        target,
        factory=True,
        app_dir=str(app_dir) if app_dir is not None else None,
        host=host,
        port=port,
        workers=workers,
        access_log=False,
        log_level="warning",
        timeout_graceful_shutdown=10,
    )
