"""`python -m grader status` with and without its cache, against the import floor, in one run.

    python benchmarks/status_speed.py [--repeat 3]

The floor is `python -c "import jax, flax, optax, chex"`. "no cache" runs every lesson's tests (on
whatever lessons/ holds now); "cached" is the next status with nothing changed. Target: cached <= 2x floor.
The cache folder used here is a temporary one, so a learner's own cache is left alone.
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


def timed(cmd: list[str], env: dict) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, check=True)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="jaxkit-status-") as cache:
        env = dict(os.environ, JAX_LESSONS_STATUS_CACHE=cache)
        floor_cmd = [sys.executable, "-c", "import jax, flax, optax, chex"]
        status_cmd = [sys.executable, "-m", "grader", "status"]
        timed(floor_cmd, env)
        floor = statistics.median(timed(floor_cmd, env) for _ in range(args.repeat))
        uncached = statistics.median(timed(status_cmd + ["--no-cache"], env) for _ in range(args.repeat))
        cached = statistics.median(timed(status_cmd, env) for _ in range(args.repeat))
    print(f"floor (import jax, flax, optax, chex): {floor:.2f} s")
    print(f"status, no cache (runs every lesson):   {uncached:.2f} s  = {uncached / floor:.2f}x floor")
    print(f"status, cached (nothing changed):       {cached:.2f} s  = {cached / floor:.2f}x floor  (target <= 2x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
