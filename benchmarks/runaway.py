"""What a runaway costs a learner: wall time of a lesson run with one runaway exercise, every other
exercise right, against the same run of the reference.

    python benchmarks/runaway.py [--time-limit 60]

Two cases, each the reference with one exercise replaced:
- lesson 09, `newton_sqrt` with a `lax.while_loop` whose condition never turns false. It runs inside
  XLA, where no signal reaches it: the watcher ends the process after the bound, and the lesson goes
  on in a fresh one. Target: the run ends within the bound plus 60 s (2 minutes at the default
  bound, on a quiet 2-core machine), with every other test passed and the lesson's whole total.
- lesson 02, `estimate_pi` with a Python loop over the samples. The tests compare its traced program
  with a loop-free one before XLA compiles it. Target: <= 2x the reference's run.
It prints each run's wall time, its points line, and whether the other exercises all passed.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.learner import targets  # noqa: E402

CASES = {
    "09": ("newton_sqrt", '''
def newton_sqrt(a, tol):
    a = jnp.asarray(a, jnp.float32)
    return lax.while_loop(lambda c: c[0] > 0, lambda c: ((c[0] + a / c[0]) / 2, c[1] + 1),
                          (jnp.maximum(a, 1.0), jnp.int32(0)))
'''),
    "02": ("estimate_pi", '''
def estimate_pi(key, n):
    hits = [in_circle(k) for k in jax.random.split(key, n)]
    return 4.0 * jnp.mean(jnp.stack(hits))
'''),
}


def run(number: str, target: Path, time_limit: float) -> tuple[float, str, list[dict]]:
    results = target / f"results-{number}.json"
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pytest", f"lessons/{number}", "--target", str(target),
                           "--results", str(results), "--time-limit", f"{time_limit:g}", "-q",
                           "-p", "no:cacheprovider"], cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    points = next((line for line in proc.stdout.splitlines() if line.startswith(f"lesson {number}")), "no points line")
    tests = json.loads(results.read_text())["tests"] if results.exists() else []
    return elapsed, points, tests


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--time-limit", type=float, default=60.0)
    args = parser.parse_args()
    ok = True
    with tempfile.TemporaryDirectory(prefix="jaxkit-runaway-") as tmp:
        for number, (exercise, definition) in CASES.items():
            lesson = targets.find_lesson(number)
            reference, runaway = Path(tmp) / "reference", Path(tmp) / f"runaway{number}"
            for folder, extra in ((reference, ""), (runaway, definition)):
                module = lesson.module_in(folder)
                module.parent.mkdir(parents=True, exist_ok=True)
                module.write_text(lesson.solution_file.read_text() + "\n" + extra)
            base, _, _ = run(number, reference, args.time_limit)
            wall, points, tests = run(number, runaway, args.time_limit)
            others = [t for t in tests if t["exercise"] != exercise]
            right = bool(others) and all(t["outcome"] == "passed" for t in others)
            target = args.time_limit + 60 if number == "09" else 2 * base
            ok &= right and wall <= target
            print(f"lesson {number}, runaway `{exercise}`: {wall:.1f} s (reference {base:.1f} s; target "
                  f"<= {target:.0f} s); {points.split(maxsplit=3)[-1]}; other exercises "
                  f"{'all passed' if right else 'NOT all passed'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
