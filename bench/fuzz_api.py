"""Longer API fuzzing run: schemathesis on every operation of the app's OpenAPI document, random examples.

The checks of tests/hostile/test_api_fuzz.py (no 5xx; status, media type and body as documented), with
more examples, random seeds, and a summary: examples sent and statuses per operation and mode, then each
distinct failure once with a curl command that reproduces it. Exit status 1 when anything failed.

    .venv/bin/python bench/fuzz_api.py                       # 200 examples per operation and mode
    .venv/bin/python bench/fuzz_api.py --examples 1000 --seed 7
    .venv/bin/python bench/fuzz_api.py --operation price_protection --modes positive

The app runs in process (ASGI) on the bundled policies, with a decision log in a scratch directory.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "tests" / "support"))

from fuzz_support import register_formats, without_lifespan  # noqa: E402

from server.app import create_app  # noqa: E402
from server.settings import Settings  # noqa: E402

ADMIN = "fuzz-admin-token"
READ = "fuzz-read-token"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


register_formats()


@dataclass
class Run:
    """What one operation in one mode did."""

    label: str
    mode: str
    seconds: float = 0.0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: dict[tuple[str, str], tuple[Failure, str]] = field(default_factory=dict)
    """(failure code, title) → the first failure of that kind and its curl command."""
    note: str = ""


def fuzz(operation: Any, mode: GenerationMode, examples: int, run_seed: int) -> Run:
    """Send up to ``examples`` generated requests to one operation; record statuses and failures."""
    run = Run(operation.label, mode.value)
    token = READ if operation.path.startswith("/v1/decisions") else ADMIN
    headers = {"Authorization": f"Bearer {token}"}

    @seed(run_seed)
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def send(case: Any) -> None:
        response = case.call(headers=headers)
        run.statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except FailureGroup as group:
            for failure in group.exceptions:
                key = (failure.code, failure.title)
                run.failures.setdefault(key, (failure, case.as_curl_command(headers=headers)))
        except Failure as failure:
            run.failures.setdefault((failure.code, failure.title), (failure, case.as_curl_command()))

    started = time.perf_counter()
    try:
        send()
    except Unsatisfiable:
        run.note = "nothing to generate in this mode"
    run.seconds = time.perf_counter() - started
    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=200, help="examples per operation and mode")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: a new one, printed)")
    parser.add_argument(
        "--operation", action="append", default=[], help="only operations whose label has this"
    )
    parser.add_argument("--modes", default="positive,negative", help="positive, negative or both")
    parser.add_argument("--policies", type=Path, default=REPO / "policies", help="policy directory")
    args = parser.parse_args(argv)
    run_seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
    modes = [GenerationMode(m.strip()) for m in args.modes.split(",") if m.strip()]

    with tempfile.TemporaryDirectory(prefix="fuzz-api-") as scratch:
        settings_ = Settings(
            policy_dir=args.policies,
            db_path=Path(scratch) / "decisions.sqlite3",
            watch_interval=0,
            admin_token=ADMIN,
            read_token=READ,
        )
        app = create_app(settings_)
        try:
            schema = schemathesis.openapi.from_asgi("/schema/openapi.json", without_lifespan(app))
            runs = []
            started = time.perf_counter()
            for result in schema.get_all_operations():
                operation = result.ok()
                if args.operation and not any(part in operation.label for part in args.operation):
                    continue
                for mode in modes:
                    run = fuzz(operation, mode, args.examples, run_seed)
                    runs.append(run)
                    statuses = " ".join(f"{s}×{n}" for s, n in sorted(run.statuses.items()))
                    flag = f"FAIL {len(run.failures)}" if run.failures else "ok"
                    print(
                        f"{run.label:62} {run.mode:8} {sum(run.statuses.values()):5} sent "
                        f"{run.seconds:6.1f}s  {flag:7} {statuses} {run.note}",
                        flush=True,
                    )
            total = time.perf_counter() - started
        finally:
            for hook in app.on_shutdown:
                hook()

    sent = sum(sum(r.statuses.values()) for r in runs)
    statuses = Counter[int]()
    for r in runs:
        statuses.update(r.statuses)
    failed = [r for r in runs if r.failures]
    print()
    operations = len({r.label for r in runs})
    print(f"seed {run_seed}: {len(runs)} runs ({operations} operations), {sent} requests, {total:.1f}s")
    print("statuses: " + ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items())))
    print(f"5xx answers: {sum(n for s, n in statuses.items() if s >= 500)}")
    print(f"runs with failures: {len(failed)}")
    for r in failed:
        for (code, title), (failure, curl) in r.failures.items():
            print(f"\n{r.label} [{r.mode}] {code} {title}")
            print("    " + failure.message.strip().replace("\n", "\n    ")[:1500])
            print("    reproduce: " + curl)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
