"""Running a lesson's pytest in a child process and reading back its results JSON.

The child process is where lesson code runs; this process only reads the JSON it leaves behind.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from grader import KIT_ROOT


@dataclass
class LessonRun:
    returncode: int
    output: str
    tests: list[dict]

    def outcomes(self) -> dict[str, str]:
        return {t["test"]: t["outcome"] for t in self.tests}

    def earned(self) -> int:
        return sum(t["points"] for t in self.tests if t["outcome"] == "passed")


def bound_args(time_limit: float | None = None, memory_limit: str | None = None) -> list[str]:
    """The pytest options that set a run's bounds on each test (`grader.learner.limits`); none for a bound
    not given, so the run keeps its default (or JAX_LESSONS_TIME_LIMIT / JAX_LESSONS_MEMORY_LIMIT)."""
    args = []
    if time_limit is not None:
        args += ["--time-limit", f"{time_limit:g}"]
    if memory_limit is not None:
        args += ["--memory-limit", str(memory_limit)]
    return args


def pytest_command(paths: list[str], target: str, results: Path, extra: list[str] = ()) -> list[str]:
    return [sys.executable, "-m", "pytest", *paths, "--target", str(target), "--results", str(results),
            "-q", "-p", "no:cacheprovider", *extra]


def run_lessons(paths: list[str], target: str = "lessons", extra: list[str] = (),
                timeout: float | None = None) -> LessonRun:
    """Run pytest on lesson folders against ``target``; the results come back through a JSON file."""
    with tempfile.TemporaryDirectory(prefix="jaxkit-run-") as tmp:
        results = Path(tmp) / "results.json"
        proc = subprocess.run(pytest_command(paths, target, results, extra), cwd=KIT_ROOT,
                              capture_output=True, text=True, timeout=timeout, env=_child_env())
        tests = json.loads(results.read_text())["tests"] if results.exists() else []
    return LessonRun(proc.returncode, proc.stdout + proc.stderr, tests)


def start_lessons(paths: list[str], target: str, results: Path, extra: list[str] = ()) -> subprocess.Popen:
    """The same, started in the background, for callers that run several at once."""
    return subprocess.Popen(pytest_command(paths, target, results, extra), cwd=KIT_ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=_child_env())


def _child_env() -> dict:
    env = dict(os.environ)
    env.pop("PYTEST_ADDOPTS", None)
    env.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    return env


def run_many(jobs: dict, workers: int | None = None) -> dict[object, LessonRun]:
    """Run several ``{key: (paths, target, extra)}`` lesson runs, ``workers`` at a time."""
    workers = workers or max(1, min(4, os.cpu_count() or 1))
    pending = list(jobs.items())
    running: list[tuple[object, subprocess.Popen, Path]] = []
    done: dict[object, LessonRun] = {}
    with tempfile.TemporaryDirectory(prefix="jaxkit-runs-") as tmp:
        while pending or running:
            while pending and len(running) < workers:
                key, (paths, target, extra) = pending.pop(0)
                results = Path(tmp) / f"{len(done) + len(running)}-{abs(hash(key))}.json"
                running.append((key, start_lessons(paths, target, results, extra), results))
            key, proc, results = running.pop(0)
            output, _ = proc.communicate()
            tests = json.loads(results.read_text())["tests"] if results.exists() else []
            done[key] = LessonRun(proc.returncode, output, tests)
    return done
