"""A learner's run that outlives a stuck test: the rest of the lesson goes on in a fresh process.

A test stuck inside a native call (an endless `lax.while_loop` running in XLA, a compile of a huge
unrolled program) can't be interrupted: `grader.learner.limits` has to end its process. So a learner's
`pytest lessons/NN` forks once, before JAX starts any thread: the parent only waits, and the child
runs the tests. Each test's result goes to a state file as the run goes. When the watcher ends a
stuck child it records the stopped test there and asks for a resume; the parent then starts
`python -m pytest` again with the same arguments, which skips the tests already done, reports the
stopped one, and runs the rest. The points line at the end counts every test of the run.

Where a process can't fork (Windows) or the tests run in a notebook's kernel, nothing of this
happens: a stuck test ends the run there, with the results so far kept.
"""
from __future__ import annotations

import ctypes
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from grader.learner import targets

ENV = "JAX_LESSONS_RESUME"
MAX_RESUMES = 50
INTERRUPT_GRACE = 3.0


def wanted(config) -> bool:
    """Whether this pytest process runs lesson tests as a learner's command (`pytest lessons/09`,
    `python -m pytest ...` from `grader check`): not the kit's own test session, nor pytest run
    inside another program (`pytest.main`), whose process must not be split."""
    if os.environ.get(ENV):
        return True
    if not hasattr(os, "fork") or not _is_pytest_command():
        return False
    base = Path(config.invocation_params.dir)
    return any(_names_lessons(base / arg.split("::")[0]) for arg in config.args)


def _is_pytest_command() -> bool:
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if spec is not None and spec.name in ("pytest", "pytest.__main__"):
        return True
    return Path(sys.argv[0]).name in ("pytest", "py.test")


def _names_lessons(path: Path) -> bool:
    if targets.lesson_of_test_file(path) is not None:
        return True
    if not path.is_dir():
        return False
    return any(targets.lesson_of_test_file(p) is not None
               for folder in (path, *[d for d in path.iterdir() if d.is_dir()])
               for p in folder.glob("test_*.py"))


def start(config, uncaptured) -> Path:
    """The state file of this run. In a resumed process, the one its parent named; otherwise this
    process forks here, and only the child returns: the parent waits, resumes and exits."""
    named = os.environ.get(ENV)
    if named:
        _die_with_parent()
        return Path(named)
    state = Path(tempfile.mkdtemp(prefix="jax-lessons-run-")) / "state.json"
    sys.stdout.flush()
    sys.stderr.flush()
    with uncaptured():
        child = os.fork()
        if child == 0:
            _die_with_parent()
            return state
        _supervise(config, child, state)


def _die_with_parent() -> None:
    """Linux: a child whose parent is killed (a timeout in a script) ends too, instead of running on
    unwatched."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:
        os._exit(1)


def _supervise(config, child: int, state: Path) -> None:
    """The parent: wait for the child; while it ended asking for a resume, start a fresh pytest on
    the same arguments. Exits with the last child's status, and never returns."""
    current = {"pid": child, "interrupted": None}

    def interrupted(signum, frame):  # Ctrl-C reaches the child too, which reports and exits
        current["interrupted"] = time.monotonic()

    def forward(signum, frame):
        os.kill(current["pid"], signum)
        os._exit(128 + signum)

    signal.signal(signal.SIGINT, interrupted)
    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGHUP, forward)
    code = _wait(current)
    for _ in range(MAX_RESUMES):
        if current["interrupted"] is not None or not take_resume(state):
            break
        sys.stderr.write("  The rest of the run goes on in a fresh process.\n\n")
        sys.stderr.flush()
        proc = subprocess.Popen(_again(config), cwd=config.invocation_params.dir, env=dict(os.environ, **{ENV: str(state)}))
        current["pid"] = proc.pid
        code = _wait(current)
    shutil.rmtree(state.parent, ignore_errors=True)
    os._exit(code)


def _wait(current: dict) -> int:
    """The child's exit status. After a Ctrl-C, a child stuck in native code (which can't see the
    KeyboardInterrupt until it returns) is ended INTERRUPT_GRACE seconds later."""
    pid, ended = current["pid"], False
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        since = current["interrupted"]
        if since is not None and not ended and time.monotonic() - since > INTERRUPT_GRACE:
            sys.stderr.write("\nInterrupted: the test was inside a native call (a compile, or XLA running a "
                             "loop), so its process was ended.\n")
            os.kill(pid, signal.SIGKILL)
            ended = True
        time.sleep(0.1)
    code = os.waitstatus_to_exitcode(status)
    return 130 if ended else code if code >= 0 else 128 - code


def _again(config) -> list[str]:
    return [sys.executable, "-m", "pytest", *config.invocation_params.args, "--no-header"]


# -- the state file ----------------------------------------------------------------------------------

def read(state: Path) -> dict:
    try:
        payload = json.loads(state.read_text())
    except (OSError, ValueError):
        payload = {}
    payload.setdefault("tests", [])
    payload.setdefault("stopped", {})
    return payload


def write(state: Path, payload: dict) -> None:
    tmp = state.with_suffix(".tmp")
    tmp.write_text(json.dumps(payload, indent=1))
    tmp.replace(state)


def save(state: Path, results: list[dict], stopped: dict[str, str]) -> None:
    """The child's results so far, and the exercises stopped so far ({exercise: test})."""
    payload = read(state)
    write(state, dict(payload, tests=results, stopped=stopped))


def ask_resume(state: Path, record: dict | None, reported: bool) -> None:
    """Record a stopped test and ask the parent to go on in a fresh process. `reported`: whether
    this process already told the learner (else the fresh process reports it)."""
    payload = read(state)
    if record is not None:
        record = dict(record, outcome="failed", reported=reported)
        payload["tests"] = [t for t in payload["tests"] if t.get("nodeid") != record.get("nodeid")] + [record]
        payload["stopped"][record["exercise"]] = record["test"]
    payload["resume"] = True
    write(state, payload)


def take_resume(state: Path) -> bool:
    payload = read(state)
    if not payload.get("resume"):
        return False
    payload["resume"] = False
    payload["resumes"] = payload.get("resumes", 0) + 1
    write(state, payload)
    return True
