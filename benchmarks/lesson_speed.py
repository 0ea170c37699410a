"""Wall time of each lesson's tests against the reference, as a ratio to the import floor.

    python benchmarks/lesson_speed.py [--repeat 3] [lesson numbers...]

The floor is `python -c "import jax, flax, optax, chex"`, measured in the same run because these
machines are noisy. Each lesson runs `pytest lessons/NN --target solutions` once with an empty
compilation cache ("cold", a learner's first run) and then --repeat times with it filled ("warm",
every run after); medians are printed. Targets, cold and warm alike: lessons 01-05 <= 2x the floor,
training lessons (06-13) <= 5x.
It also times the untouched stub (`pytest lessons/NN` on a fresh copy of the generated stub, warm):
an unwritten lesson should cost little more than the import, <= 1.3x the floor.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.learner import stubs, targets  # noqa: E402

TARGET_RATIO = {"06": 5.0, "07": 5.0, "08": 5.0, "09": 5.0, "10": 5.0, "11": 5.0, "12": 5.0, "13": 5.0}
DEFAULT_RATIO = 2.0
STUB_RATIO = 1.3


def timed(cmd: list[str], env: dict, returncode: int = 0) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != returncode:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("lessons", nargs="*")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    lessons = [targets.find_lesson(n) for n in args.lessons] if args.lessons else targets.all_lessons()

    with tempfile.TemporaryDirectory(prefix="jaxkit-bench-") as cache:
        env = dict(os.environ, JAX_LESSONS_CACHE=cache, PYTHONDONTWRITEBYTECODE="1")
        floor_cmd = [sys.executable, "-c", "import jax, flax, optax, chex"]
        timed(floor_cmd, env)  # warm the OS file cache, as the lessons' runs get it too
        floors = [timed(floor_cmd, env) for _ in range(args.repeat)]
        floor = statistics.median(floors)
        print(f"floor (import jax, flax, optax, chex): {floor:.2f} s  (runs: {', '.join(f'{t:.2f}' for t in floors)})")
        print(f"{'lesson':<22}{'cold s':>8}{'warm s':>8}{'cold/floor':>12}{'warm/floor':>12}{'target':>8}"
              f"{'stub/floor':>12}  verdict")
        stub_dir = Path(cache) / "stubs"
        stubs.write_stubs(stub_dir, lessons)
        for lesson in lessons:
            cmd = [sys.executable, "-m", "pytest", f"lessons/{lesson.number}", "--target", "solutions",
                   "-q", "-p", "no:cacheprovider"]
            cold = timed(cmd, env)
            warm = statistics.median(timed(cmd, env) for _ in range(args.repeat))
            stub_cmd = cmd[:5] + [str(stub_dir)] + cmd[6:]
            stub = statistics.median(timed(stub_cmd, env, returncode=1) for _ in range(args.repeat))
            goal = TARGET_RATIO.get(lesson.number, DEFAULT_RATIO)
            over = [name for name, ratio, limit in (("cold", cold / floor, goal), ("warm", warm / floor, goal),
                                                    ("stub", stub / floor, STUB_RATIO)) if ratio > limit]
            verdict = "ok" if not over else " and ".join(over) + " over target"
            print(f"{lesson.number + ' ' + lesson.topic:<22}{cold:>8.2f}{warm:>8.2f}{cold / floor:>12.2f}"
                  f"{warm / floor:>12.2f}{'<= ' + str(goal):>8}{stub / floor:>12.2f}  {verdict}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
