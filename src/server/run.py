"""Start the server under uvicorn: one process, or ``workers`` processes sharing the log and metrics."""

from __future__ import annotations

import os
from pathlib import Path

import uvicorn

from server.metrics import prepare_metrics_dir
from server.settings import Settings

__all__ = ("serve",)


def serve(settings: Settings) -> None:
    """Serve until stopped (the caller has checked the policies, so a broken directory fails early)."""
    if settings.metrics_dir is None and settings.workers > 1:
        settings = settings.with_changes(metrics_dir=settings.db_path.parent / f"metrics-{settings.port}")
    if settings.metrics_dir is not None:
        prepare_metrics_dir(Path(settings.metrics_dir))
    os.environ.update(settings.to_env())  # worker processes read their settings from here
    uvicorn.run(
        "server.app:app_from_env",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        access_log=False,
        log_level="warning",
        timeout_graceful_shutdown=10,
    )
