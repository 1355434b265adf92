"""The ``policy`` command (spec/api.md). Exit codes: 0 ok, 1 policy errors or failed tests, 2 usage."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from policy_engine.compiler import check_policies
from policy_engine.errors import ErrorSet, EvaluationError, InputError, NotFoundError
from policy_engine.evaluate import DecisionRequest, decide
from policy_engine.expr.values import parse_timestamp
from policy_engine.jsonio import dumps, loads_strict
from policy_engine.junit import write_junit
from policy_engine.policy_tests import coverage_gaps, load_test_cases, run_cases
from policy_engine.registry import Registry

__all__ = ("main",)

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
F = TypeVar("F", bound=Callable[..., Any])

policies_option = click.option(
    "--policies",
    "policies_opt",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="The policy directory (default: policies/).",
)


def _fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def _no_traceback(function: F) -> F:
    """Turn file-system and other unexpected errors into one line and an exit code, never a traceback."""

    @wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except OSError as exc:
            _fail(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": "))
        except RecursionError:
            _fail("input is nested too deeply", EXIT_USAGE)

    return wrapper  # type: ignore[return-value]


def _policies_dir(positional: Path | None, option: Path | None) -> Path:
    if positional is not None and option is not None and positional != option:
        _fail("give the policy directory once: as an argument or with --policies")
    return positional or option or Path("policies")


def _print_problems(errors: ErrorSet) -> None:
    for problem in errors:
        click.echo(str(problem))


def _load(policies: Path, *, quiet_warnings: bool = False) -> Registry:
    registry, errors = check_policies(policies)
    if errors.has_errors() or registry is None:
        _print_problems(errors)
        click.echo(f"{len(errors.errors)} error(s) in {policies}", err=True)
        sys.exit(EXIT_FAILED)
    if not quiet_warnings:
        for warning in errors.warnings:
            click.echo(str(warning), err=True)
    return registry


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Guarantee-policy engine: check, test and evaluate versioned YAML policies."""


@main.command()
@click.argument("directory", required=False, type=click.Path(path_type=Path, file_okay=False))
@policies_option
@_no_traceback
def validate(directory: Path | None, policies_opt: Path | None) -> None:
    """Load and check every policy; print each problem as file:line:col: message."""
    policies = _policies_dir(directory, policies_opt)
    if not policies.is_dir():
        _fail(f"{policies}: no such policy directory")
    registry, errors = check_policies(policies)
    _print_problems(errors)
    if errors.has_errors() or registry is None:
        click.echo(f"{len(errors.errors)} error(s), {len(errors.warnings)} warning(s)", err=True)
        sys.exit(EXIT_FAILED)
    versions = sum(len(p.windows) for p in registry.programs.values())
    decisions = sum(len(w.policy.decisions) for p in registry.programs.values() for w in p.windows)
    click.echo(
        f"ok: {len(registry.programs)} program(s), {versions} version(s), {decisions} decision(s)"
        + (f", {len(errors.warnings)} warning(s)" if errors.warnings else ""),
        err=True,
    )


@main.command()
@click.argument("directory", required=False, type=click.Path(path_type=Path, file_okay=False))
@policies_option
@click.option("--coverage", is_flag=True, help="List every rule no test reaches, and fail if there is one.")
@click.option(
    "--junit", "junit", type=click.Path(path_type=Path, dir_okay=False), help="Write a JUnit XML report."
)
@click.option("-v", "--verbose", is_flag=True, help="Print passing cases too.")
@_no_traceback
def test(
    directory: Path | None, policies_opt: Path | None, coverage: bool, junit: Path | None, verbose: bool
) -> None:
    """Run the policy test tables (policies/<program>/tests/<decision>.cases.yaml)."""
    policies = _policies_dir(directory, policies_opt)
    registry = _load(policies, quiet_warnings=True)
    cases, errors = load_test_cases(policies)
    if errors.has_errors():
        _print_problems(errors)
        sys.exit(EXIT_FAILED)
    report = run_cases(registry, cases)
    for result in report.results:
        if result.passed:
            if verbose:
                click.echo(f"PASS {result.case.id}")
            continue
        click.echo(f"FAIL {result.case.location}: {result.case.id}")
        for failure in result.failures:
            click.echo(f"     {failure}")
    if junit is not None:
        write_junit(junit, report)
    failed = len(report.failed)
    gaps = coverage_gaps(registry, report) if coverage else []
    for location, label in gaps:
        click.echo(f"{location}: {label} is not reached by any test")
    if coverage:
        click.echo(f"coverage: {len(gaps)} uncovered rule(s)" + ("" if gaps else ": every rule is reached"))
    click.echo(f"{len(report.results) - failed} passed, {failed} failed")
    if failed or gaps:
        sys.exit(EXIT_FAILED)


@main.command(name="eval")
@click.argument("program")
@click.argument("decision")
@click.option(
    "--input", "input_file", type=click.File("rb"), default="-", help="JSON input file, or - for stdin."
)
@click.option("--version", "version", default=None, help="Evaluate this version instead of the one in force.")
@click.option("--at", "at", default=None, help="Request time (RFC 3339 with offset); default: now.")
@click.option("--explain", is_flag=True, help="Include the trace of every rule looked at.")
@policies_option
@_no_traceback
def eval_command(
    program: str,
    decision: str,
    input_file: Any,
    version: str | None,
    at: str | None,
    explain: bool,
    policies_opt: Path | None,
) -> None:
    """Evaluate one decision and print the decision JSON of /v1/decide (without decision_id).

    The input file holds the decision's input object, or a whole decide request ({"input": …, "version"?,
    "at"?, "explain"?}); flags override the request's fields.
    """
    try:
        data = loads_strict(input_file.read())
    except InputError as exc:
        _fail(f"{getattr(input_file, 'name', 'input')}: {exc.detail}")
    if isinstance(data, dict) and "input" in data and set(data) <= _REQUEST_KEYS:
        version = version or data.get("version")
        at = at or data.get("at")
        explain = explain or data.get("explain") is True
        data = data["input"]
    try:
        when = parse_timestamp(str(at)) if at is not None else datetime.now(UTC)
    except ValueError as exc:
        _fail(f"at: {exc}")
    registry = _load(policies_opt or Path("policies"))
    try:
        answer = decide(registry, DecisionRequest(program, decision, data, when, version, explain))
    except (InputError, NotFoundError) as exc:
        for problem in exc.problems:
            click.echo(f"{problem.pointer or '/'}: {problem.message}", err=True)
        sys.exit(EXIT_USAGE)
    except EvaluationError as exc:
        _fail(str(exc), EXIT_FAILED)
    click.echo(dumps(answer.to_json(), indent=2))


_REQUEST_KEYS = frozenset({"program", "decision", "input", "version", "at", "explain"})


@main.command()
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1; POLICY_HOST).")
@click.option("--port", type=int, default=None, help="Port (default 8000; POLICY_PORT).")
@click.option("--workers", type=int, default=None, help="Worker processes (default 1; POLICY_WORKERS).")
@click.option(
    "--db",
    "db_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="SQLite decision log (default var/decisions.sqlite3; POLICY_DB).",
)
@click.option("--body-limit", type=int, default=None, help="Largest request body in bytes (default 1 MiB).")
@click.option(
    "--watch-interval", type=float, default=None, help="Seconds between policy change checks; 0 = off."
)
@click.option(
    "--server",
    "asgi_server",
    type=click.Choice(["granian", "uvicorn"]),
    default=None,
    help="ASGI server (default granian; POLICY_ASGI_SERVER).",
)
@policies_option
@_no_traceback
def serve(
    host: str | None,
    port: int | None,
    workers: int | None,
    db_path: Path | None,
    body_limit: int | None,
    watch_interval: float | None,
    asgi_server: str | None,
    policies_opt: Path | None,
) -> None:
    """Serve the decision API (spec/api.md) on the policies; tokens come from the environment only.

    POLICY_ADMIN_TOKEN enables /v1/admin/*, POLICY_READ_TOKEN protects /v1/decisions/*; tokens are not
    flags so they never show in a process list.
    """
    from server.run import serve as run_server  # the engine does not need the server to load
    from server.settings import Settings, SettingsError

    try:
        settings = Settings.from_env(
            host=host,
            port=port,
            workers=workers,
            db_path=db_path,
            body_limit=body_limit,
            watch_interval=watch_interval,
            asgi_server=asgi_server,
            policy_dir=policies_opt,
        )
    except SettingsError as exc:
        _fail(str(exc))
    _load(settings.policy_dir)
    run_server(settings)


@main.command()
@click.argument("program")
@click.option("--from", "from_version", required=True, help="The version in force now.")
@click.option("--to", "to", required=True, help="The changed version, or a draft policy file (.yaml).")
@click.option(
    "--corpus", type=click.Path(path_type=Path, dir_okay=False), help="JSON Lines of decide requests."
)
@click.option(
    "--from-log", "from_log", type=click.Path(path_type=Path, dir_okay=False), help="A decision log."
)
@click.option("--since", default=None, help="With --from-log: records from this time (RFC 3339).")
@click.option("--until", default=None, help="With --from-log: records before this time (RFC 3339).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--html", "html_file", type=click.Path(path_type=Path, dir_okay=False), help="Write an HTML report."
)
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Processes (default: every core).")
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: when on a terminal).")
@policies_option
@_no_traceback
def diff(
    program: str,
    from_version: str,
    to: str,
    corpus: Path | None,
    from_log: Path | None,
    since: str | None,
    until: str | None,
    as_json: bool,
    html_file: Path | None,
    workers: int | None,
    progress: bool | None,
    policies_opt: Path | None,
) -> None:
    """The impact of a policy change: what changed between two versions, and what it does to decisions.

    With --corpus (JSON Lines of decide requests) or --from-log (the server's decision log), every request
    is evaluated under both versions: changed outcomes and amounts, money moved per field and per rule.
    """
    from policy_engine import diff as impact  # tqdm and the reports load only for this command

    spec = impact.PairSpec(policies_opt or Path("policies"), program, from_version, to)
    options = impact.DiffOptions(
        spec, corpus, from_log, since, until, workers,
        progress=sys.stderr.isatty() if progress is None else progress,
        default_at=datetime.now(UTC),
    )  # fmt: skip
    try:
        report = impact.build_report(options)
    except impact.DiffInputError as exc:
        _fail(str(exc))
    except impact.DiffPolicyError as exc:
        _print_problems(exc.errors)
        _fail(f"{len(exc.errors.errors)} policy error(s)", EXIT_FAILED)
    if report.impact is not None and report.impact.bad:
        _, ref, message = report.impact.bad_shown[0]
        click.echo(f"warning: {report.impact.bad:,} bad line(s) skipped; first: {ref}: {message}", err=True)
    if html_file is not None:
        html_file.write_text(impact.render_html(report), encoding="utf-8")
        click.echo(f"wrote {html_file}", err=True)
    click.echo(dumps(report.to_json(), indent=2) if as_json else impact.render_text(report), nl=as_json)
