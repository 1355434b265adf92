"""The application: wires settings, policies, the decision log and metrics to the routes (server.asgi)."""

from __future__ import annotations

import gc
import logging
from typing import Any

from litestar import Litestar
from litestar.datastructures import State

from server.asgi import DecisionApp
from server.coordination import WorkerCoordination
from server.http import AppParts
from server.log_store import SQLiteDecisionLog
from server.logs import configure_logging
from server.metrics import Metrics
from server.openapi import ROUTES as OPENAPI_ROUTES
from server.policy_state import PolicyState, ReloadOutcome
from server.problems import exception_handlers
from server.routes.decide import ROUTES as DECIDE_ROUTES
from server.routes.decisions import ROUTES as DECISION_LOG_ROUTES
from server.routes.operations import ROUTES as OPERATION_ROUTES
from server.routes.playground import ROUTES as PLAYGROUND_ROUTES
from server.routes.programs import ROUTES as PROGRAM_ROUTES
from server.service import DecisionService
from server.settings import Settings

__all__ = ("app_from_env", "create_app")

logger = logging.getLogger("server.app")


def create_app(settings: Settings) -> Litestar:
    """One app (one per worker process): loads the policies, opens the log, starts the watcher."""
    configure_logging()
    metrics = Metrics()
    log = SQLiteDecisionLog(
        settings.db_path,
        sync=settings.db_sync,
        max_pages=settings.db_max_pages,
        commit_on_loop=settings.db_commit == "loop",
    )

    def count(outcome: ReloadOutcome) -> None:
        (metrics.reloads if outcome.ok else metrics.reload_failures).inc()
        if outcome.ok:
            freeze_long_lived()

    state = PolicyState(settings.policy_dir, log, on_reload=count)
    state.reload()
    service = DecisionService(state, log, metrics, settings.mask_fields)
    app_parts = AppParts(settings, state, log, metrics, service)

    def start() -> None:
        freeze_long_lived()
        coordination = (
            WorkerCoordination(settings.db_path, settings.workers) if settings.workers > 1 else None
        )
        state.watch(settings.watch_interval, coordination)
        logger.info("server ready", extra={"event": "started", "settings": settings.redacted()})

    def stop() -> None:
        service.lines.flush()
        state.stop()
        log.close()

    route_handlers: list[Any] = [
        *DECIDE_ROUTES,
        *PROGRAM_ROUTES,
        *DECISION_LOG_ROUTES,
        *OPERATION_ROUTES,
        *OPENAPI_ROUTES,
        *PLAYGROUND_ROUTES,
    ]
    return DecisionApp(
        app_parts,
        route_handlers=route_handlers,
        exception_handlers=exception_handlers,
        state=State({"parts": app_parts}),
        on_startup=[start],
        on_shutdown=[stop],
        openapi_config=None,
        logging_config=None,
        request_max_body_size=settings.body_limit,
    )


def freeze_long_lived() -> None:
    """Keep what lives as long as the app out of the cyclic garbage collector's way.

    A loaded server holds ~70,000 objects (policies, schemas, routes); a full collection walks them all
    in ~30 ms, and requests waiting behind it were the p99. Frozen, they are skipped. Called once the app
    is built and after every successful reload (the replaced policies are collected before the freeze).
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def app_from_env() -> Litestar:
    """The app of a worker process, with settings from the environment (``policy serve`` sets it)."""
    return create_app(Settings.from_env())
