"""(c) HTTP: ``policy serve`` (/v1/decide, decision log on) against a bare Litestar echo, under wrk.

For 1 and 2 workers: start ``policy serve --workers N --db <temp>/decisions.db`` and
``bench/echo_app.py --workers N`` (the same ASGI server and settings, through ``server.run.serve_factory``:
granian by default), warm them up, then alternate wrk runs
(``-t1 -c32 -d10s`` on loopback, ``bench/post.lua`` POSTing 64 different claim bodies from the
reference corpus) against the echo and /v1/decide, ``ROUNDS`` times each, and keep the medians.
wrk shares the two cores with the servers, and with two workers uvicorn sometimes leaves one worker
idle, hence the repeats. Errors are wrk's socket errors plus every status ≥ 400.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import claim_corpus
from common import BENCH, ROOT, fmt

from policy_engine.jsonio import dumps_exact

WORKERS = (1, 2)
ROUNDS = 3
DURATION = "10s"
WARMUP = "2s"
CONNECTIONS = 32
BODIES = 64


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def write_bodies(path: Path) -> None:
    """One /v1/decide body per line (no ``at``: the server uses the time it receives the request)."""
    lines = []
    for raw in claim_corpus.corpus()[:BODIES]:
        lines.append(dumps_exact({"program": "douyin-anxingou", "decision": "claim", "input": raw}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"(c) the server for {url} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"(c) {url} not ready after {timeout:.0f} s")


@contextmanager
def started(command: list[str], ready_url: str, log: Path, env: dict[str, str] | None = None) -> Any:
    """Run a server in its own process group until the block ends (then SIGINT, SIGKILL if needed)."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=None if env is None else {**os.environ, **env},
        )
        try:
            _wait_ready(ready_url, process)
            yield process
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGINT)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()


def post_once(url: str, body: bytes) -> tuple[int, bytes]:
    """One POST; status and body."""
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def wrk(url: str, bodies: Path, duration: str) -> dict[str, Any]:
    """One wrk run; its BENCH line, with req/s and error total added."""
    done = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{CONNECTIONS}",
            f"-d{duration}",
            "--latency",
            "-s",
            str(BENCH / "post.lua"),
            url,
            "--",
            str(bodies),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH ")), None)
    if done.returncode != 0 or line is None:
        raise SystemExit(f"(c) wrk failed on {url}:\n{done.stdout}\n{done.stderr}")
    result: dict[str, Any] = json.loads(line[6:])
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    result["errors"] = sum(result[k] for k in ("connect", "read", "write", "status", "timeout"))
    return result


def _logged(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        count: int = conn.execute("SELECT count(*) FROM decisions").fetchone()[0]
        return count


def run_workers(workers: int, tmp: Path, bodies: Path, rounds: int) -> dict[str, Any]:
    """Both servers with ``workers`` workers; alternating runs; medians.

    With one worker a third server runs too: /v1/decide with the log's group commits on its writer thread
    (``POLICY_DB_COMMIT=thread``) instead of the event loop, the issue's first idea, measured beside ours.
    """
    decide_port, echo_port, thread_port = free_port(), free_port(), free_port()
    db = tmp / f"decisions-{workers}w.db"
    policy = str(Path(sys.executable).with_name("policy"))
    decide_cmd = [policy, "serve", "--port", str(decide_port), "--db", str(db), "--workers", str(workers)]
    thread_db = tmp / f"decisions-{workers}w-thread.db"
    thread_cmd = [policy, "serve", "--port", str(thread_port), "--db", str(thread_db), "--workers", "1"]
    echo_cmd = [
        sys.executable,
        str(BENCH / "echo_app.py"),
        "--port",
        str(echo_port),
        "--workers",
        str(workers),
    ]
    urls = {
        "echo": f"http://127.0.0.1:{echo_port}/echo",
        "decide": f"http://127.0.0.1:{decide_port}/v1/decide",
    }
    if workers == 1:
        urls["decide_thread"] = f"http://127.0.0.1:{thread_port}/v1/decide"
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in urls}
    with contextlib.ExitStack() as servers:
        servers.enter_context(
            started(decide_cmd, f"http://127.0.0.1:{decide_port}/health/ready", tmp / f"serve-{workers}w.log")
        )
        servers.enter_context(
            started(echo_cmd, f"http://127.0.0.1:{echo_port}/health", tmp / f"echo-{workers}w.log")
        )
        if "decide_thread" in urls:
            servers.enter_context(
                started(
                    thread_cmd,
                    f"http://127.0.0.1:{thread_port}/health/ready",
                    tmp / "serve-1w-thread.log",
                    env={"POLICY_DB_COMMIT": "thread"},
                )
            )
        sample = bodies.read_text(encoding="utf-8").splitlines()[0].encode()
        for name, url in urls.items():
            status, answer = post_once(url, sample)
            if status != 200:
                raise SystemExit(f"(c) {name}: POST answered {status}: {answer[:500]!r}")
        time.sleep(1.0 if workers > 1 else 0.2)
        for url in urls.values():
            wrk(url, bodies, WARMUP)
        for _ in range(rounds):
            for name, url in urls.items():
                runs[name].append(wrk(url, bodies, DURATION))
    logged = _logged(db)
    out: dict[str, Any] = {"workers": workers, "runs": runs, "logged": logged}
    for name, results in runs.items():
        out[name] = {
            "rps": statistics.median(r["rps"] for r in results),
            "p50_ms": statistics.median(r["p50_us"] for r in results) / 1000,
            "p99_ms": statistics.median(r["p99_us"] for r in results) / 1000,
            "errors": sum(r["errors"] for r in results),
            "requests": sum(r["requests"] for r in results),
        }
    out["ratio"] = out["decide"]["rps"] / out["echo"]["rps"]
    if "decide_thread" in out:
        out["thread_ratio"] = out["decide_thread"]["rps"] / out["echo"]["rps"]
    return out


def run(workers: tuple[int, ...] = WORKERS, rounds: int = ROUNDS) -> dict[str, Any]:
    """Every worker count."""
    if shutil.which("wrk") is None:
        raise SystemExit("(c) wrk is not installed (make bench installs it: apt-get install -y wrk)")
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-http-") as tmp_name:
        tmp = Path(tmp_name)
        bodies = tmp / "bodies.jsonl"
        write_bodies(bodies)
        for count in workers:
            results.append(run_workers(count, tmp, bodies, rounds))
    return {"rows": results, "rounds": rounds}


def report(result: dict[str, Any]) -> str:
    """The markdown section."""
    lines = [
        f"### (c) HTTP on loopback: wrk -t1 -c{CONNECTIONS} -d{DURATION}, median of {result['rounds']} "
        "alternating runs",
        "",
        "| workers | endpoint | req/s | p50 ms | p99 ms | errors | requests | decide ÷ echo |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    notes = []
    for row in result["rows"]:
        labels = {
            "echo": ("bare Litestar echo", ""),
            "decide": ("/v1/decide, log on", f"**{fmt(row['ratio'] * 100, 0)}%**"),
            "decide_thread": (
                "/v1/decide, log on, commits on the writer thread (`POLICY_DB_COMMIT=thread`)",
                f"{fmt(row.get('thread_ratio', 0) * 100, 0)}%",
            ),
        }
        for name, (label, ratio) in labels.items():
            if name not in row:
                continue
            r = row[name]
            lines.append(
                f"| {row['workers']} | {label} | {fmt(r['rps'], 0)} | {fmt(r['p50_ms'])} "
                f"| {fmt(r['p99_ms'])} | {r['errors']} | {r['requests']:,} | {ratio} |"
            )
        each = ", ".join(
            f"{name} {'/'.join(fmt(x['rps'], 0) for x in runs)}" for name, runs in row["runs"].items()
        )
        notes.append(
            f"- {row['workers']} worker(s): runs {each} req/s; decision log rows written: {row['logged']:,} "
            f"(warm-up runs included)."
        )
        decide = row["decide"]
        checks = [
            f"ratio {fmt(row['ratio'] * 100, 0)}% "
            f"(target ≥ 75%: {'met' if row['ratio'] >= 0.75 else 'MISSED'})",
            f"p99 {fmt(decide['p99_ms'])} ms (target ≤ 10: {'met' if decide['p99_ms'] <= 10 else 'MISSED'})",
            f"errors {decide['errors']} (target 0: {'met' if decide['errors'] == 0 else 'MISSED'})",
        ]
        notes.append(f"- {row['workers']} worker(s), /v1/decide: " + "; ".join(checks) + ".")
    return "\n".join([*lines, "", *notes])


if __name__ == "__main__":
    print(report(run()))
