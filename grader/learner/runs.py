"""Running a lesson's pytest in a child process and reading back its results JSON.

The child process is where lesson code runs; this process only reads the JSON it leaves behind.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
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


def pytest_args(paths: list[str], target: str, results: Path, extra: list[str] = ()) -> list[str]:
    """The arguments of one lesson run, as `pytest` takes them."""
    return [*paths, "--target", str(target), "--results", str(results), "-q", "-p", "no:cacheprovider", *extra]


def pytest_command(args: list[str]) -> list[str]:
    return [sys.executable, "-m", "pytest", *args]


def run_lessons(paths: list[str], target: str = "lessons", extra: list[str] = (),
                timeout: float | None = None) -> LessonRun:
    """Run pytest on lesson folders against ``target``; the results come back through a JSON file."""
    with tempfile.TemporaryDirectory(prefix="jaxkit-run-") as tmp:
        results = Path(tmp) / "results.json"
        proc = subprocess.run(pytest_command(pytest_args(paths, target, results, extra)), cwd=KIT_ROOT,
                              capture_output=True, text=True, timeout=timeout, env=_child_env())
        tests = json.loads(results.read_text())["tests"] if results.exists() else []
    return LessonRun(proc.returncode, proc.stdout + proc.stderr, tests)


def _child_env() -> dict:
    env = dict(os.environ)
    env.pop("PYTEST_ADDOPTS", None)
    env.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    return env


def run_many(jobs: dict, workers: int | None = None, progress=None) -> dict[object, LessonRun]:
    """Run several ``{key: (paths, target, extra)}`` lesson runs, ``workers`` at a time, each a pytest
    process of its own. Where the system can fork, each is forked from one process that has already
    imported JAX and the libraries (`_Preloaded`), which saves most of a short run's start-up;
    elsewhere each is a fresh `python -m pytest`. ``progress(done, total)`` is called after each run."""
    workers = workers or max(1, min(4, os.cpu_count() or 1))
    pending = list(jobs.items())
    running: dict[int, tuple[object, Path, Path]] = {}
    done: dict[object, LessonRun] = {}
    with tempfile.TemporaryDirectory(prefix="jaxkit-runs-") as tmp:
        starter = (_Preloaded.start() if pending else None) or _Fresh()
        try:
            while pending or running:
                while pending and len(running) < workers:
                    key, (paths, target, extra) = pending.pop(0)
                    n = len(done) + len(running)
                    results, output = Path(tmp) / f"{n}.json", Path(tmp) / f"{n}.out"
                    running[starter.submit(pytest_args(paths, target, results, extra), output)] = \
                        (key, results, output)
                ident, returncode = starter.wait_any()
                key, results, output = running.pop(ident)
                tests = json.loads(results.read_text())["tests"] if results.exists() else []
                done[key] = LessonRun(returncode, output.read_text(errors="replace"), tests)
                if progress:
                    progress(len(done), len(jobs))
        finally:
            starter.close()
    return done


class _Fresh:
    """Each run a fresh `python -m pytest` process."""

    def __init__(self):
        self.procs: dict[int, subprocess.Popen] = {}

    def submit(self, args: list[str], output: Path) -> int:
        with output.open("w") as out:
            proc = subprocess.Popen(pytest_command(args), cwd=KIT_ROOT, stdout=out, stderr=subprocess.STDOUT, env=_child_env())
        self.procs[proc.pid] = proc
        return proc.pid

    def wait_any(self) -> tuple[int, int]:
        while True:
            for pid, proc in list(self.procs.items()):
                if proc.poll() is not None:
                    del self.procs[pid]
                    return pid, proc.returncode
            time.sleep(0.02)

    def close(self) -> None:
        for proc in self.procs.values():
            proc.kill()


# A short lesson run spends most of its time importing JAX, Flax, Optax and chex. This server imports
# them once, then forks a child per run that calls pytest.main as `python -m pytest` would. The child
# names itself pytest (argv[0]) so the plugin treats it as the command line it stands for.
_SERVER = r"""
import importlib, json, os, select, sys
for name in ("numpy", "jax", "jax.numpy", "flax.nnx", "optax", "chex", "pytest"):
    try:
        importlib.import_module(name)
    except Exception:
        pass
sys.stdout.write("ready\n"); sys.stdout.flush()
buffer = b""
while True:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if not pid:
            break
        sys.stdout.write(f"{pid} {os.waitstatus_to_exitcode(status)}\n"); sys.stdout.flush()
    ready, _, _ = select.select([0], [], [], 0.02)
    if not ready:
        continue
    chunk = os.read(0, 65536)
    if not chunk:
        break
    buffer += chunk
    while b"\n" in buffer:
        line, buffer = buffer.split(b"\n", 1)
        job = json.loads(line)
        pid = os.fork()
        if pid == 0:
            try:
                out = os.open(job["output"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                os.dup2(out, 1); os.dup2(out, 2)
                os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
                sys.stdin = open(os.devnull)
                sys.argv = ["pytest", *job["args"]]
                import pytest
                code = pytest.main(job["args"])
                sys.stdout.flush(); sys.stderr.flush()
                os._exit(int(code))
            except BaseException:
                import traceback
                traceback.print_exc()
                sys.stderr.flush()
            os._exit(70)
        sys.stdout.write(f"started {pid}\n"); sys.stdout.flush()
"""


class _Preloaded:
    """The fork server: `submit` starts a run and returns its id, `wait_any` the next to end and its
    exit code."""

    def __init__(self, proc: subprocess.Popen):
        self.proc, self._ended = proc, []

    @classmethod
    def start(cls) -> "_Preloaded | None":
        if not hasattr(os, "fork") or os.environ.get("JAX_LESSONS_NO_PRELOAD"):
            return None
        proc = subprocess.Popen([sys.executable, "-c", _SERVER], cwd=KIT_ROOT, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True, env=_child_env())
        if proc.stdout.readline().strip() != "ready":
            proc.kill()
            return None
        return cls(proc)

    def submit(self, args: list[str], output: Path) -> int:
        self.proc.stdin.write(json.dumps({"args": args, "output": str(output)}) + "\n")
        self.proc.stdin.flush()
        while True:
            line = self._line()
            if line.startswith("started "):
                return int(line.split()[1])
            self._ended.append(line)

    def wait_any(self) -> tuple[int, int]:
        line = self._ended.pop(0) if self._ended else self._line()
        pid, code = line.split()
        return int(pid), int(code)

    def _line(self) -> str:
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the process that starts the lesson runs ended unexpectedly")
        return line.strip()

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait()
