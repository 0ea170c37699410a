"""Bounds on one learner test: its time, and the process's memory.

A learner's first `estimate_pi` may loop over a thousand samples in Python; under jit that loop is
traced into a program that takes many minutes and gigabytes to compile. The bounds stop such a
test with a message instead of a silent hang.

The clock is the smaller of the test's wall time and the CPU time the process used during it. A
busy machine stretches wall time but not CPU time, and a machine with many cores multiplies CPU time
but not wall time; a runaway test (an endless loop, a compile of a huge unrolled program, which XLA
may run on a thread of its own) grows both.

The watching is done by a small child process (``python -m grader.learner.limits``), not a thread: XLA
holds the GIL while it compiles, so no Python thread of the test's process runs until it is done.
Past a bound the watcher first signals the test's process, which raises `LimitExceeded` in the test
as soon as Python runs again (an endless Python loop stops at once). If the process is still inside
a native call `GRACE` seconds later, the watcher records the test as failed in the results file,
prints the message, and ends the process; the tests already run keep their results. When the test
did stop but work it started goes on in the background (a compile on XLA's own thread), the plugin
ends the run after that test, with its summary and results, without waiting for that work.
"""
from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

POLL = 0.25
GRACE = {"time": 20.0, "memory": 2.0}
# Where the run goes on in a fresh process after a stuck one is ended, ending it costs a restart
# (seconds), so a stuck test is given less time to come back on its own.
RESUMABLE_GRACE = {"time": 2.0, "memory": 2.0}
SIGNALS = {"time": getattr(signal, "SIGUSR1", None), "memory": getattr(signal, "SIGUSR2", None)}


class LimitExceeded(BaseException):
    """Raised in the test's thread when it passes a bound; the message is the learner's. A
    BaseException, so an `except Exception` in the test or the learner's code can't swallow it."""


def parse_size(text) -> int:
    """'4G', '512M', '0' -> bytes (0: no limit)."""
    text = str(text).strip().upper().removesuffix("B").removesuffix("I")
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    if text[-1:] in units:
        return int(float(text[:-1]) * units[text[-1]])
    return int(float(text or 0))


def stopped_message(exercise: str, test: str, kind: str, amount: float, in_notebook: bool = False) -> str:
    """What a learner reads when `test` passes a bound, with how to change the bound where they are."""
    if kind == "time":
        more = ("`%env JAX_LESSONS_TIME_LIMIT=120` in a cell above" if in_notebook
                else "`--time-limit 120`, for pytest and python -m grader check / watch / status")
        return (f"`{exercise}` was stopped: {test} ran for more than {amount:g} s.\n"
                "  hint: a common cause is a Python loop over array elements or samples, which jit, grad "
                "and vmap unroll into one huge program (compute on whole arrays with jnp, vmap or "
                f"lax.fori_loop), or a loop that never ends. To allow more time: {more}.")
    more = ("`%env JAX_LESSONS_MEMORY_LIMIT=8G` in a cell above" if in_notebook
            else "`--memory-limit 8G`, for pytest and python -m grader check / watch / status")
    return (f"`{exercise}` was stopped: {test} made the process hold more than {amount / (1 << 30):.3g} GiB "
            "of memory.\n"
            "  hint: a common cause is a Python loop unrolled into a huge program under jit, or an array "
            f"far larger than the inputs (every pair of elements, a copy per step). To allow more: {more}.")


def busy_in_background(pid: int | None = None, seconds: float = 0.5) -> bool:
    """Whether the process keeps using CPU while its Python thread waits: after a stopped test, a
    compile XLA started on a thread of its own goes on, and would slow every later test and hold
    up the process's exit."""
    pid = pid or os.getpid()
    before = cpu_seconds(pid)
    if before is None:
        return False
    time.sleep(seconds)
    return (cpu_seconds(pid) or before) - before > 0.6 * seconds


# -- the test's side -------------------------------------------------------------------------------

class Bounds:
    """One per pytest session: the watcher process, started at the first bounded test."""

    def __init__(self, cpu_seconds: float, memory_bytes: int, may_end_process: bool = True,
                 uncaptured=contextlib.nullcontext):
        """`may_end_process`: False where the process must outlive a stuck test (a notebook's
        kernel); such a test is only signalled. `uncaptured()`: a context in which the process's
        stderr is the terminal's (pytest captures it during tests), for the watcher to inherit."""
        self.cpu_seconds, self.memory_bytes = cpu_seconds, memory_bytes
        self.may_end_process, self.uncaptured = may_end_process, uncaptured
        self._watcher: subprocess.Popen | None = None
        self._messages: dict[str, str] = {}
        self.state: Path | None = None  # grader.learner.resume's state file, where the run can resume

    def _send(self, message: dict) -> None:
        if self._watcher is None:
            with self.uncaptured():
                self._watcher = subprocess.Popen([sys.executable, "-m", "grader.learner.limits"], stdin=subprocess.PIPE,
                                                 cwd=Path(__file__).resolve().parent.parent, text=True)
        self._watcher.stdin.write(json.dumps(message) + "\n")
        self._watcher.stdin.flush()

    def _raise(self, signum, frame):
        kind = next((k for k, s in SIGNALS.items() if s == signum), "time")
        if kind in self._messages:
            raise LimitExceeded(self._messages.pop(kind))

    def watch(self, describe, record: dict | None, results: str | None):
        """A context manager around one test's call. `describe(kind, amount)` words the message;
        `record` and `results` let the watcher write the failure if it must end the process."""
        return _Watched(self, describe, record, results)

    def close(self) -> None:
        if self._watcher is not None:
            self._watcher.stdin.close()
            self._watcher.wait()
            self._watcher = None


class _Watched:
    def __init__(self, bounds: Bounds, describe, record, results):
        self.bounds, self.describe, self.record, self.results = bounds, describe, record, results

    def __enter__(self):
        b = self.bounds
        b._messages = {"time": self.describe("time", b.cpu_seconds), "memory": self.describe("memory", b.memory_bytes)}
        self._previous = {k: signal.signal(s, b._raise) for k, s in SIGNALS.items() if s is not None}
        b._send({"pid": os.getpid(), "cpu": b.cpu_seconds, "memory": b.memory_bytes, "messages": b._messages,
                 "record": self.record, "results": self.results, "may_end": b.may_end_process,
                 "state": str(b.state) if b.state else None,
                 "grace": RESUMABLE_GRACE if b.state else GRACE})
        return self

    def __exit__(self, *exc):
        self.bounds._send({"stop": True})
        self.bounds._messages = {}
        for kind, previous in self._previous.items():
            signal.signal(SIGNALS[kind], previous)
        return False


# -- the watcher process -----------------------------------------------------------------------------

def _ticks_per_second() -> int:
    try:
        return os.sysconf("SC_CLK_TCK")
    except (AttributeError, ValueError, OSError):
        return 100


def cpu_seconds(pid: int) -> float | None:
    """CPU seconds used so far by a process, all its threads (Linux), or None where the kernel
    doesn't say."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / _ticks_per_second()


def resident_bytes(pid: int) -> int | None:
    try:
        pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE")


def _record_failure(job: dict, message: str) -> None:
    """Add the stopped test to the results file, keeping every result already there."""
    path = job.get("results")
    if not path or job.get("record") is None:
        return
    try:
        payload = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        payload = {"target": None, "tests": []}
    record = dict(job["record"], outcome="failed", message=message)
    tests = [t for t in payload.get("tests", []) if t.get("test") != record["test"]] + [record]
    tmp = Path(path + ".tmp")
    tmp.write_text(json.dumps(dict(payload, tests=tests), indent=1))
    tmp.replace(path)


class _Job:
    def __init__(self, job: dict):
        self.job = job
        self.pid = job["pid"]
        self.start_cpu = cpu_seconds(self.pid)
        self.start_wall = time.monotonic()
        self.signalled: tuple[str, float] | None = None

    def used_seconds(self) -> float:
        """The smaller of wall time and CPU time since the test started (wall time alone where the
        kernel doesn't say)."""
        wall = time.monotonic() - self.start_wall
        now = cpu_seconds(self.pid) if self.start_cpu is not None else None
        return min(wall, now - self.start_cpu) if now is not None else wall

    def _end(self, message: str) -> None:
        """Record the stuck test as failed and end its process. Where the run resumes in a fresh
        process (`grader.learner.resume`), the fresh one reports it; otherwise the run ends here."""
        _record_failure(self.job, message)
        state = self.job.get("state")
        if state and self.job.get("record") is not None:
            from grader.learner import resume

            resume.ask_resume(Path(state), dict(self.job["record"], message=message), reported=False)
            sys.stderr.write(f"\n{message.splitlines()[0]} Its process was ended: it did not stop in time.\n")
        else:
            sys.stderr.write(f"\n{message}\nThe run was ended here: the test did not stop in time.\n")
        sys.stderr.flush()
        os.kill(self.pid, signal.SIGKILL)
        raise SystemExit(0)

    def check(self) -> None:
        """Signal the process once past a bound; end it if it is still stuck GRACE seconds later."""
        if self.signalled is not None:
            kind, when = self.signalled
            if time.monotonic() - when > self.job.get("grace", GRACE)[kind] and self.job.get("may_end", True):
                self._end(self.job["messages"][kind])
            return
        kind = None
        if self.job["cpu"] and self.used_seconds() > self.job["cpu"]:
            kind = "time"
        elif self.job["memory"] and (resident_bytes(self.pid) or 0) > self.job["memory"]:
            kind = "memory"
        if kind:
            self.signalled = (kind, time.monotonic())
            if SIGNALS[kind] is not None:
                os.kill(self.pid, SIGNALS[kind])


def _watch_main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the tests' process, which reports and ends
    job: _Job | None = None
    buffer = ""
    while True:
        ready, _, _ = select.select([sys.stdin], [], [], POLL)
        if ready:
            chunk = os.read(sys.stdin.fileno(), 65536).decode()
            if not chunk:
                return  # the test process has ended
            buffer += chunk
            *lines, buffer = buffer.split("\n")
            for line in lines:
                message = json.loads(line)
                job = None if message.get("stop") else _Job(message)
        if job is not None:
            job.check()


if __name__ == "__main__":
    _watch_main()
