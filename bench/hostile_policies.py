"""Time and memory of refusing each hostile policy (issue 7: measured here, never asserted in tests).

``python bench/hostile_policies.py``: every case of tests/hostile/policies (and the generated 10 MB file and
1,000-deep nesting) is written to a scratch tree and loaded by ``check_policies`` in a fresh process, which
reports the wall time and its peak resident memory; the good policy of the corpus is the baseline.
Prints a Markdown table.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tests" / "hostile"), str(ROOT / "tests" / "support")]

from test_hostile_policies import GOOD, Case, all_cases, materialise, resolved  # noqa: E402

_PROBE = """
import json, resource, sys, time
from pathlib import Path
from policy_engine import check_policies
started = time.perf_counter()
registry, errors = check_policies(Path(sys.argv[1]))
elapsed = time.perf_counter() - started
print(json.dumps({"ms": elapsed * 1000, "errors": len(errors.errors), "loaded": registry is not None,
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def measure(case: Case) -> dict[str, object]:
    """Load one case in a fresh process: time, errors, peak memory."""
    with tempfile.TemporaryDirectory(prefix="hostile-") as scratch:
        policies = materialise(case, Path(scratch) / "tree")
        done = subprocess.run(
            [sys.executable, "-c", _PROBE, str(policies)],
            capture_output=True,
            text=True,
            timeout=300,
            env={"PYTHONPATH": str(ROOT / "src")},
            check=False,
        )
    if done.returncode != 0:
        return {"ms": None, "errors": None, "loaded": None, "peak_mib": None, "crash": done.stderr[-300:]}
    result: dict[str, object] = json.loads(done.stdout)
    return result


def main() -> None:
    cases = [Case("good (baseline)", {"2024.01.yaml": GOOD})] + [resolved(p.values[0]) for p in all_cases()]
    print("| case | load ms | errors | peak RSS MiB |")
    print("|---|---:|---:|---:|")
    for case in cases:
        row = measure(case)
        if "crash" in row:
            print(f"| {case.name} | crashed: {row['crash']!r} | | |")
            continue
        print(f"| {case.name} | {row['ms']:.1f} | {row['errors']} | {row['peak_mib']:.0f} |")


if __name__ == "__main__":
    main()
