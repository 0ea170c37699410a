"""Time and size of the two installs, each into a fresh virtual environment.

    python benchmarks/install_size.py [--keep-cache]

learner:    pip install -e .                (the JAX stack, pytest, matplotlib)
instructor: pip install -e ".[instructor]"  (adds nbgrader and Jupyter)

By default pip's cache is off, as on a fresh machine; the time includes downloads, so it depends on
the network as much as on the machine. Prints seconds, the number of installed distributions, and
whether nbgrader or Jupyter came in.
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
INSTALLS = {"learner": ".", "instructor": ".[instructor]"}


def measure(spec: str, keep_cache: bool) -> tuple[float, list[str]]:
    with tempfile.TemporaryDirectory(prefix="jaxkit-install-") as tmp:
        venv = Path(tmp) / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(venv / "bin" / "python"), "-m", "pip"]
        cache = [] if keep_cache else ["--no-cache-dir"]
        start = time.perf_counter()
        proc = subprocess.run(pip + ["install", "-q", *cache, "-e", spec], cwd=ROOT, capture_output=True, text=True)
        elapsed = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit(f"pip install -e {spec} failed:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
        listed = subprocess.run(pip + ["list", "--format", "json"], capture_output=True, text=True, check=True)
        names = sorted(p["name"].lower() for p in json.loads(listed.stdout))
    return elapsed, names


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep-cache", action="store_true", help="let pip use its cache (a second install)")
    args = parser.parse_args()
    print(f"{'install':<12}{'seconds':>9}{'packages':>10}  nbgrader/jupyter")
    for name, spec in INSTALLS.items():
        elapsed, names = measure(spec, args.keep_cache)
        heavy = [n for n in names if n == "nbgrader" or n.startswith("jupyter")]
        print(f"{name:<12}{elapsed:>9.0f}{len(names):>10}  {', '.join(heavy[:4]) or 'none'}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
