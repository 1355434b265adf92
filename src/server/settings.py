"""Server settings: defaults, then environment (``POLICY_*``), then command-line flags; checked once."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

__all__ = ("ASGI_SERVERS", "ENV_NAMES", "Settings", "SettingsError")

MIB = 1024 * 1024
ASGI_SERVERS = ("granian", "uvicorn")
"""The ASGI servers `policy serve` can run under (the CLI's --server choice lists them too)."""

ENV_NAMES: Mapping[str, str] = {
    "host": "POLICY_HOST",
    "port": "POLICY_PORT",
    "workers": "POLICY_WORKERS",
    "policy_dir": "POLICY_DIR",
    "db_path": "POLICY_DB",
    "db_sync": "POLICY_DB_SYNC",
    "db_commit": "POLICY_DB_COMMIT",
    "db_max_pages": "POLICY_DB_MAX_PAGES",
    "admin_token": "POLICY_ADMIN_TOKEN",
    "read_token": "POLICY_READ_TOKEN",
    "body_limit": "POLICY_BODY_LIMIT",
    "watch_interval": "POLICY_WATCH_INTERVAL",
    "mask_fields": "POLICY_MASK_FIELDS",
    "metrics_dir": "PROMETHEUS_MULTIPROC_DIR",
    "asgi_server": "POLICY_ASGI_SERVER",
}
"""Setting → environment variable (PROMETHEUS_MULTIPROC_DIR is prometheus_client's own name)."""


class SettingsError(ValueError):
    """A setting with a value the server cannot use; the message names the setting."""


@dataclass(frozen=True)
class Settings:
    """Everything the server needs to know at start; immutable once checked."""

    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    policy_dir: Path = Path("policies")
    db_path: Path = Path("var/decisions.sqlite3")
    db_sync: str = "normal"
    """SQLite ``synchronous`` in WAL mode: ``normal`` survives a crash of the server process (the promise
    of spec/api.md); ``full`` also survives a power cut, at an fsync per group commit."""
    db_commit: str = "loop"
    """Where a group commit runs under ``db_sync=normal``: ``loop``, on the event loop (a commit writes the
    WAL without waiting for the disk, ~0.1 ms a group, and needs no thread hand-off: measured faster, see
    bench/RESULTS.md), or ``thread``, on the log's writer thread, so the event loop is never held up by a
    commit. Under ``full`` commits always run on the writer thread (an fsync must not hold up the loop)."""
    db_max_pages: int = 0
    """SQLite ``max_page_count`` (0 = no limit): caps the log's size; a full log answers 503."""
    admin_token: str | None = None
    read_token: str | None = None
    body_limit: int = MIB
    watch_interval: float = 1.0
    """Seconds between checks of the policy directory for changes; 0 turns watching off."""
    mask_fields: tuple[str, ...] = ()
    """Dotted input paths (``user.phone``) stored masked in the decision log."""
    metrics_dir: Path | None = None
    """Where worker processes share metric files; None: metrics of this process only."""
    asgi_server: str = "granian"
    """The ASGI server: ``granian`` (measured fastest here) or ``uvicorn``."""

    def __post_init__(self) -> None:
        _check(0 < self.port < 65536, "port", "must be between 1 and 65535")
        _check(1 <= self.workers <= 64, "workers", "must be between 1 and 64")
        _check(self.body_limit >= 1024, "body_limit", "must be at least 1024 bytes")
        _check(
            math.isfinite(self.watch_interval) and 0 <= self.watch_interval <= 3600,
            "watch_interval",
            "must be 0 (off) or a number of seconds up to 3600",
        )
        _check(self.db_sync in ("normal", "full"), "db_sync", "must be normal or full")
        _check(self.db_commit in ("loop", "thread"), "db_commit", "must be loop or thread")
        _check(self.asgi_server in ASGI_SERVERS, "asgi_server", "must be " + " or ".join(ASGI_SERVERS))
        _check(self.db_max_pages >= 0, "db_max_pages", "must be 0 (no limit) or a page count")
        for name in ("admin_token", "read_token"):
            token = getattr(self, name)
            _check(token is None or len(token) >= 8, name, "must be at least 8 characters")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, then ``POLICY_*`` variables, then the given overrides (flags; None = not given)."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        types = {f.name: f.type for f in fields(cls)}
        for name, variable in ENV_NAMES.items():
            raw = env.get(variable)
            if raw is not None and raw != "":
                values[name] = _parse(name, str(types[name]), raw, variable)
        values.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return cls(**values)
        except TypeError as exc:
            raise SettingsError(str(exc)) from exc

    def with_changes(self, **changes: Any) -> Settings:
        """A copy with some settings changed (checked again)."""
        return replace(self, **changes)

    def to_env(self) -> dict[str, str]:
        """The environment that makes ``from_env`` in a worker process give these settings."""
        out: dict[str, str] = {}
        for name, variable in ENV_NAMES.items():
            value = getattr(self, name)
            if value is None:
                continue
            out[variable] = ",".join(value) if isinstance(value, tuple) else str(value)
        return out

    def redacted(self) -> dict[str, Any]:
        """The settings for a log line: tokens never appear, only whether one is set."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name.endswith("_token"):
                out[f.name] = "set" if value else "not set"
            else:
                out[f.name] = str(value) if isinstance(value, Path) else value
        return out


def _check(ok: bool, name: str, message: str) -> None:
    if not ok:
        raise SettingsError(f"{name} ({ENV_NAMES.get(name, name)}): {message}")


def _parse(name: str, type_name: str, raw: str, variable: str) -> Any:
    try:
        if type_name == "int":
            return int(raw)
        if type_name == "float":
            return float(raw)
    except ValueError as exc:
        raise SettingsError(f"{variable}={raw!r}: {name} must be a number") from exc
    if "Path" in type_name:
        return Path(raw)
    if "tuple" in type_name:
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    return raw
