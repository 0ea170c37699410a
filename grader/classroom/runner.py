"""The grader's side of one student's sandbox: start it, listen to it, time it, stop it.

A sandbox is a process forked by the fork server (``grader.classroom.sandbox``). The grader makes
two pipes before it exists (the channel and stderr) and keeps their reading ends; it reads nothing
else the sandbox can touch. Its limits come from its own measurements, whatever the sandbox says:

- CPU time of the process (from the kernel's accounting), per step and per lesson, with wall-clock
  ceilings a few times larger for a process that sleeps instead of computing;
- wall-clock time for the whole student, and for the start before the first step;
- the bytes sent through the channel, and the disk its folder uses (a private tmpfs of a fixed size
  where the grader runs as root; measured from here otherwise).

When the process hangs or breaks a limit the grader measured, the step in progress gets 0 with the
reason, and a fresh process runs the steps left. When it dies of something the grader did not measure
(a signal, an exit), nothing yet pins that on the student's code: the step is tried once more in a
fresh process. A death that comes back at the same step, where the canary (the reference and the
stub graded first in the same settings) never died so, is the student's code's; one that comes back
outside student code, or that struck the canary too, is the grader's: the record is marked as an
error to regrade, never a zero.
"""
from __future__ import annotations

import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from grader.learner import points, targets
from grader import probes
from grader.classroom import cgroups, channel

MAX_STARTS = 12
STARTUP_LIMIT = 120.0  # wall seconds from a start to its first message
WALL_SLACK = 4.0  # a step or lesson may take this many times its CPU allowance in wall-clock time
LOOK_MOST = 0.5  # wall seconds one look may charge a step: a watcher that fell behind charges no student
MAX_WORKDIR_BYTES = 512 << 20
MAX_WORK_ENTRIES = 20_000
CHANNEL_BUDGET = 256 << 20  # bytes one process may send
STDERR_TAIL = 4000


# --- the fork server ------------------------------------------------------------------------------

class ForkServer:
    """The parent's end of ``python -m grader.classroom.sandbox --server``: asks it for sandboxes
    (a request and the two pipe ends travel together over a Unix socket), which it forks with JAX
    already imported, and hears when each one ends."""

    def __init__(self, env: dict, folder: Path, lessons: list[str]):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "tmp").mkdir(exist_ok=True)
        self.sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = dict(env, HOME=str(folder), TMPDIR=str(folder / "tmp"), JAX_LESSONS_CACHE="off")
        with open(folder / "server-stderr.txt", "wb") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-B", "-m", "grader.classroom.sandbox", "--server", str(theirs.fileno()), *lessons],
                cwd=folder, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                pass_fds=(theirs.fileno(),), start_new_session=True)
        theirs.close()
        self.folder, self.ready = folder, False
        self.lock, self.children, self.next_id = threading.Lock(), {}, 0

    def wait_ready(self) -> None:
        """Block until the server has imported everything (it starts while the grader prepares)."""
        if self.ready:
            return
        self.sock.settimeout(600)
        try:
            message = self.sock.recv(1 << 16)
        except OSError:
            message = b""
        self.sock.settimeout(None)
        if not message.startswith(b'{"ready"'):
            tail = (self.folder / "server-stderr.txt").read_bytes()[-2000:].decode(errors="replace")
            raise RuntimeError(f"the fork server did not start: {tail}")
        self.ready = True
        threading.Thread(target=self._listen, daemon=True).start()

    def _listen(self) -> None:
        while True:
            try:
                message = self.sock.recv(1 << 16)
            except OSError:
                break
            if not message:
                break
            reply = json.loads(message)
            child = self.children.get(reply.get("id"))
            if child is None:
                continue
            if "pid" in reply:
                child.pid = reply["pid"]
                child.started.set()
            if "exit" in reply:
                child.returncode = reply["exit"]
                child.ended.set()
        for child in list(self.children.values()):  # the server is gone: nothing else will end
            child.returncode = -signal.SIGKILL if child.returncode is None else child.returncode
            child.started.set()
            child.ended.set()

    def spawn(self, request: dict, fds: list[int]) -> "ServedChild":
        child = ServedChild()
        with self.lock:
            self.next_id += 1
            self.children[self.next_id] = child
            socket.send_fds(self.sock, [json.dumps(dict(request, id=self.next_id)).encode()], fds)
        if not child.started.wait(60) or child.pid is None:
            raise RuntimeError("the fork server did not start a sandbox")
        return child

    def close(self) -> None:
        try:  # shutdown, not only close: it ends the listener's recv and tells the server at once
            self.sock.shutdown(socket.SHUT_RDWR)
            self.sock.close()
            self.proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()


class ServedChild:
    """A forked sandbox, with the part of Popen's interface the grader uses."""

    def __init__(self):
        self.pid, self.returncode = None, None
        self.started, self.ended = threading.Event(), threading.Event()

    def poll(self):
        return self.returncode if self.ended.is_set() else None

    def wait(self, timeout=None):
        if not self.ended.wait(timeout):
            raise subprocess.TimeoutExpired("sandbox", timeout)
        return self.returncode


# --- one student's sandbox ------------------------------------------------------------------------

@dataclass
class Limits:
    lesson_cpu: float  # CPU seconds a lesson may use
    step_cpu: float  # CPU seconds one step (a probe, a test) may use
    memory: int
    private_tmpfs: bool = True  # as root: the work folder is a tmpfs of MAX_WORKDIR_BYTES

    @property
    def step_wall(self) -> float:
        return self.step_cpu * WALL_SLACK

    @property
    def lesson_wall(self) -> float:
        return self.lesson_cpu * WALL_SLACK


def steps(lesson: targets.Lesson) -> list[str]:
    return ([f"import:{lesson.number}"] + [f"probe:{lesson.number}:{p.name}" for p in probes.for_lesson(lesson.number).all]
            + [f"test:{lesson.number}:{t.name}" for t in points.graded_tests(lesson.test_file)])


def lesson_of_step(step: str | None) -> str | None:
    parts = (step or "").split(":")
    return parts[1] if len(parts) > 1 else None


@dataclass
class Outcome:
    """What the grader learned from one student's sandbox: facts it measured, and claims it heard."""
    done: dict[str, dict] = field(default_factory=dict)  # step -> the sandbox's "done" message
    outputs: dict[str, bytes] = field(default_factory=dict)  # probe step -> the bytes it sent
    forced: dict[str, str] = field(default_factory=dict)  # step -> a failure decided here
    stopped: dict[str, str] = field(default_factory=dict)  # lesson -> why the rest of it was not run
    confinement: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    deaths: list[tuple[str | None, str]] = field(default_factory=list)  # (step or None, reason), as seen
    memory_retried: set[str] = field(default_factory=set)  # steps short of memory once, then run afresh
    error: str | None = None  # the grader could not run this submission: no grade, a rerun tries again


@dataclass(frozen=True)
class SharedCache:
    """The run's compile cache: the reference's sandbox writes it (``writes``), and every student's
    sandbox may open a file in it by name, never list it or write to it (``confine.landlock``'s
    ``read_by_name``). A program's file is named by a hash of the whole program, so a sandbox finds
    only the programs it compiles itself, where the reference compiled them too: the tests' own
    programs, and an exercise written exactly as the reference wrote it."""
    folder: Path
    writes: bool = False


class Sandbox:
    """Runs one submission to the end: fresh processes until every step has happened or failed.

    Folders, under ``OUT/.sandbox/<id>/``: ``submission/`` (written here, read-only to the sandbox)
    and ``work/`` (its home, temporary files and compile cache; the only place it may write). With a
    ``SharedCache``, compiled programs are read from it (or, for the reference, written to it)
    instead of the private cache."""

    cgroup: cgroups.Handle | None = None  # the running process's own cgroup, where one could be made
    _kernel_limits: dict | None = None  # what the kernel held the processes to, for the record

    def __init__(self, *, folder: Path, files: dict[str, bytes], lessons: list[targets.Lesson], limits: Limits,
                 base_env: dict, plan_base: dict, server: ForkServer | None, canary_deaths: set[str] = frozenset(),
                 cache: SharedCache | None = None):
        self.folder, self.files, self.lessons, self.limits = folder, files, lessons, limits
        self.cache = cache
        self.base_env, self.plan_base, self.server = base_env, plan_base, server
        self.canary_deaths = set(canary_deaths)  # the unexplained deaths the canary saw: never the student's
        self.result = Outcome()
        self.lesson_cpu = {l.number: 0.0 for l in lessons}
        self.lesson_wall = {l.number: 0.0 for l in lessons}
        self.token = os.urandom(8).hex()

    @property
    def work(self) -> Path:
        return self.folder / "work"

    @property
    def submission(self) -> Path:
        return self.folder / "submission"

    def prepare(self) -> None:
        remove_tree(self.folder)
        self.folder.mkdir(parents=True)
        for lesson in self.lessons:
            module = lesson.module_in(self.submission)
            module.parent.mkdir(parents=True, exist_ok=True)
            module.write_bytes(self.files[lesson.number])

    def env(self) -> dict:
        cache, writes = (self.cache.folder, self.cache.writes) if self.cache else (self.work / "cache", True)
        return dict(self.base_env, HOME=str(self.work / "home"), TMPDIR=str(self.work / "tmp"),
                    JAX_LESSONS_CACHE=str(cache), JAX_LESSONS_CACHE_WRITES="on" if writes else "off",
                    JAX_LESSONS_SANDBOX=self.token)

    def plan(self) -> dict:
        r = self.result
        skip = set(r.done) | set(r.forced) | {f"lesson:{n}" for n in r.stopped}
        confine = dict(self.plan_base["confine"], read=self.plan_base["confine"]["read"] + [str(self.submission)],
                       write=[str(self.work)] + ([str(self.cache.folder)] if self.cache and self.cache.writes else []),
                       read_by_name=[str(self.cache.folder)] if self.cache and not self.cache.writes else [],
                       memory=self.limits.memory,
                       cpu=int(60 + 2 * self.limits.lesson_cpu * len(self.lessons)))
        if self.limits.private_tmpfs:
            confine.update(private_dir=str(self.work), private_bytes=MAX_WORKDIR_BYTES)
        confine["threads"] = cgroups.PIDS_MAX  # a cgroup's pids limit, else RLIMIT_NPROC's margin (not root)
        if self.cgroup is not None:
            confine["cgroup"] = self.cgroup.procs_files()
        return dict(self.plan_base, lessons=[l.number for l in self.lessons], skip=sorted(skip),
                    submission=str(self.submission), work=str(self.work), confine=confine)

    def grade(self) -> Outcome:
        self.prepare()
        deadline = time.monotonic() + self.student_wall()
        for _ in range(MAX_STARTS):
            if not self.remaining() or not self._start_once(deadline):
                break
        if self.result.error is None:
            for step in self.remaining():
                self.result.forced[step] = "not run: the process running your code kept ending before this step"
        return self.result

    def student_wall(self) -> float:
        """Wall-clock seconds for the whole student, whatever the sandbox reports."""
        return STARTUP_LIMIT + self.limits.lesson_wall * len(self.lessons)

    def cleanup(self) -> None:
        remove_tree(self.folder)

    def remaining(self) -> list[str]:
        r, left = self.result, []
        for lesson in self.lessons:
            if lesson.number not in r.stopped:
                left += [s for s in steps(lesson) if s not in r.done and s not in r.forced]
        return left

    # -- one process --------------------------------------------------------------------------------

    def _start_once(self, deadline: float) -> bool:
        """One process; False when it made no progress (nothing more to gain from another)."""
        r = self.result
        before = len(r.done) + len(r.forced)
        remove_tree(self.work)  # each process starts from an empty folder: what one left costs no other
        self.work.mkdir()
        chan_r, chan_w = os.pipe()
        err_r, err_w = os.pipe()
        try:
            proc = self._spawn(chan_w, err_w)
        finally:
            os.close(chan_w)
            os.close(err_w)
        watch = _Watch(self, proc, chan_r, err_r, deadline)
        try:
            reason, current, finished = watch.run()
        finally:
            kill_all(proc, self.token)
            self._release_cgroup()
            watch.drain()
            os.close(chan_r)
            os.close(err_r)
        if finished:
            return False
        lesson = lesson_of_step(current) or watch.last_lesson
        if current is None and reason == "lesson timeout" and lesson:
            r.stopped[lesson] = f"not run: lesson {lesson} ran out of time"
            return True
        if reason.startswith(UNMEASURED):
            return self._unexplained_death(current, reason, watch)
        short_of_memory = reason.startswith(OUT_OF_MEMORY) or (watch.memory_full and reason == "step timeout")
        if current is not None and short_of_memory and watch.steps_ended and current not in r.memory_retried:
            r.memory_retried.add(current)  # what earlier steps left (a traceback, a cache) costs no other exercise
            r.notes.append(f"{current} ran short of memory after {watch.steps_ended} other steps in the same "
                           "process; it was run again first in a fresh one")
            return True
        if current is None:
            r.notes.append(f"the sandbox stopped outside any step ({reason}): {watch.stderr_tail()}")
            if reason == "out of time":
                self._stop_every_lesson()
            return len(r.done) + len(r.forced) > before
        if watch.memory_full:  # only ever set when a clock stopped it
            r.forced[current] = (f"{OUT_OF_MEMORY} ({self.limits.memory >> 20} MiB): it held all the memory it "
                                 "may and was still asking for more when its time ran out. It was stopped")
        elif reason == "step timeout":
            r.forced[current] = self._step_stop(*watch.step_spent, taken=watch.memory_taken)
        elif reason in ("lesson timeout", "out of time"):
            r.forced[current] = (f"ran out of the time this lesson may take ({self.limits.lesson_cpu:.0f} s of "
                                 "computing): an endless loop?")
        else:
            self._charge_death(current, reason)
        if reason in ("lesson timeout", "out of time"):
            r.stopped[lesson] = f"not run: lesson {lesson} ran out of time in an earlier step"
            if reason == "out of time":
                self._stop_every_lesson()
        return True

    def _step_stop(self, cpu: float, wall: float, taken: int = 0) -> str:
        """Which of a step's two clocks stopped it, in the words a student can act on. Taking memory
        costs CPU (the kernel fills each new page: about 3 s a GiB on a freshly started machine), so a
        loop that keeps allocating may meet the CPU bound before the memory limit; a step that took
        over an eighth of the memory it may before the CPU clock stopped it hears of both."""
        if cpu > self.limits.step_cpu:
            if self.limits.memory and taken > self.limits.memory >> 3:
                return (f"computed for {cpu:.1f} s without finishing, taking {taken >> 20} MiB of memory on "
                        f"the way (it may hold {self.limits.memory >> 20} MiB; one step may compute for "
                        f"{self.limits.step_cpu:.0f} s): a loop that keeps allocating? It was stopped")
            return (f"computed for {cpu:.1f} s without finishing (one step may compute for "
                    f"{self.limits.step_cpu:.0f} s): an endless loop? It was stopped")
        return (f"ran for {wall:.0f} s without finishing, computing for only {cpu:.1f} s of it (one step may "
                f"take {self.limits.step_wall:.0f} s): waiting for something that never came? It was stopped")

    def _charge_death(self, step: str, reason: str, again: str = "") -> None:
        """The step a process died in, charged to the student's code (an import stops its lesson)."""
        r = self.result
        if step.startswith("import:"):
            r.forced[step] = (f"importing your file ended the process ({reason}){again}; code at the top level "
                              "runs on import, so keep work inside the functions")
            r.stopped[lesson_of_step(step)] = r.forced[step]
        else:
            r.forced[step] = f"your code ended the process ({reason}) during this step{again}"

    def _unexplained_death(self, current: str | None, reason: str, watch: "_Watch") -> bool:
        """A death the grader did not measure (a signal, an exit): tried once more in a fresh process.
        It is the student's code's only when it comes back at the same step while that code ran, and the
        canary never died so; otherwise it is the grader's, and the record becomes an error to regrade."""
        r = self.result
        where = current if current is not None else ("after your code was loaded" if watch.loaded else None)
        seen_before = (where, reason) in r.deaths
        r.deaths.append((where, reason))
        r.notes.append(f"the sandbox died ({reason}) {f'during {current}' if current else 'outside any step'}"
                       f"{' again' if seen_before else ''}: {watch.stderr_tail()}")
        if not seen_before:
            return True  # the same steps again, in a fresh process
        if where is None or reason in self.canary_deaths:
            why = ("it struck the reference too" if reason in self.canary_deaths
                   else "before any of the student's code ran")
            r.error = (f"the process grading this submission died twice ({reason}) {why}: that is the "
                       "grader's failure, not the student's; a rerun grades it again")
            return False
        if current is None:
            return False  # the steps left are forced in `grade`, after the code loaded twice and died twice
        self._charge_death(current, reason, again=", twice")
        return True

    def _stop_every_lesson(self) -> None:
        for lesson in self.lessons:
            self.result.stopped.setdefault(lesson.number, "not run: your submission ran out of time")

    def _spawn(self, chan_w: int, err_w: int):
        self._make_cgroup()
        try:
            proc = self._start(chan_w, err_w)
        except BaseException:
            self._release_cgroup()
            raise
        self._adopt(proc)
        return proc

    def _start(self, chan_w: int, err_w: int):
        request = {"plan": self.plan(), "env": self.env(), "cwd": str(self.submission)}
        if self.server is not None:
            return self.server.spawn(request, [chan_w, err_w])
        request.update(channel_fd=chan_w, stderr_fd=err_w)
        proc = subprocess.Popen([sys.executable, "-B", "-m", "grader.classroom.sandbox"], cwd=self.submission,
                                env=self.env(), stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, pass_fds=(chan_w, err_w), start_new_session=True)
        try:
            proc.stdin.write(json.dumps(request).encode())
            proc.stdin.close()
        except OSError:
            pass
        return proc

    # -- kernel limits: a cgroup per process (grader.classroom.cgroups) ------------------------------

    def _make_cgroup(self) -> None:
        """The next process's cgroup: --memory without swap, and at most PIDS_MAX threads."""
        self._release_cgroup()
        self.cgroup = cgroups.create(self.limits.memory)

    def _adopt(self, proc) -> None:
        """Move the new process into its cgroup from here too, and record the limits the kernel
        holds it to once /proc shows it there (the grader's own evidence, not the sandbox's word)."""
        if self.cgroup is None:
            self._kernel_limits = {"none": cgroups.unavailable_reason()}
        elif cgroups.adopt(self.cgroup, proc.pid):
            self._kernel_limits = self.cgroup.describe()
        else:
            self._kernel_limits = {"none": "the process could not be moved into its cgroup"}

    def _release_cgroup(self) -> None:
        """After the process: what it left in its cgroup is killed and the cgroup removed."""
        if self._kernel_limits is not None and self.result.confinement:
            self.result.confinement.setdefault("cgroup", self._kernel_limits)
        if self.cgroup is not None:
            cgroups.remove(self.cgroup)
            self.cgroup = None


class _Watch:
    """Follows one sandboxed process until it ends or breaks a limit."""

    def __init__(self, box: Sandbox, proc, chan_r: int, err_r: int, deadline: float):
        self.box, self.proc, self.chan_r, self.err_r, self.deadline = box, proc, chan_r, err_r, deadline
        self.reader = channel.Reader(CHANNEL_BUDGET)
        self.stderr = bytearray()
        self.current: str | None = None
        self.last_lesson: str | None = None
        self.finished = False
        self.heard = False
        self.loaded = False  # the sandbox said it is loading student code in this process
        self.expected = set(box.remaining())
        self.frame_at = time.monotonic()
        self._step_changed = False  # set by _take when a step starts or ends; run restarts its clocks
        self.over_limit: str | None = None  # a step ran into its cgroup's pids limit: the process ends here
        self.memory_full = False  # stopped by a clock while its cgroup held all the memory it may
        self.steps_ended = 0  # steps that ended in this process: memory they still hold, the next one pays
        self.step_spent = (0.0, 0.0)  # (CPU, charged wall) seconds of the step in progress when it stopped
        self.memory_taken = 0  # bytes beyond reclaim the step in progress had added when a clock stopped it

    def run(self) -> tuple[str, str | None, bool]:
        """(how it ended, the step in progress then, whether it said it finished)."""
        limits, box = self.box.limits, self.box
        now = time.monotonic()
        started = last = idle_since = last_disk = now
        cpu_last = step_cpu = step_wall = unread = 0.0
        step_held = cgroups.held(box.cgroup)
        waits = CpuWaits(self.proc.pid)
        while True:
            self._read(0.05)
            now = time.monotonic()
            cpu = cpu_seconds(self.proc.pid)
            if self.reader.broken:
                return self.reader.broken, self.current, False
            if self.over_limit:  # the step that ran into it is charged in _take; the rest run afresh
                return self.over_limit, None, False
            if self._step_changed:
                self._step_changed = False
                step_cpu, step_wall, idle_since = cpu, 0.0, now
                step_held = cgroups.held(box.cgroup)
            charged = min(now - last, LOOK_MOST)
            unread += charged
            if now - last_disk > 0.25:  # time the machine kept it waiting for a core is not its time
                waited = waits.since_last()
                if cgroups.process_count(box.cgroup) <= 1:  # no process of its own to blame
                    charged -= min(waited, unread)
                unread = 0.0
            step_wall = max(step_wall + charged, 0.0)
            lesson = lesson_of_step(self.current) or self.last_lesson or box.lessons[0].number
            if lesson in box.lesson_cpu:
                box.lesson_cpu[lesson] += max(cpu - cpu_last, 0.0)
                box.lesson_wall[lesson] = max(box.lesson_wall[lesson] + charged, 0.0)
            cpu_last, last = cpu, now
            code = self.proc.poll()
            if code is not None:
                self.drain()  # what it sent before it ended decides where it was: read all of it first
                return describe_exit(code, box.cgroup), self.current, self.finished
            stop = None
            if now > self.deadline:
                stop = "out of time"
            elif lesson in box.lesson_cpu and (box.lesson_cpu[lesson] > limits.lesson_cpu
                                               or box.lesson_wall[lesson] > limits.lesson_wall):
                stop = "lesson timeout"
            elif self.current and (cpu - step_cpu > limits.step_cpu or step_wall > limits.step_wall):
                stop = "step timeout"
            if stop is not None:
                if self._caught_up():  # what it sent before the clock ran out counts first
                    continue
                self.memory_full = cgroups.memory_full(box.cgroup) and stop != "out of time"
                self.memory_taken = max(cgroups.held(box.cgroup) - step_held, 0)
                self.step_spent = (cpu - step_cpu, step_wall)
                return stop, self.current, False
            if not self.heard and now - started > STARTUP_LIMIT:
                return f"no message for {STARTUP_LIMIT:.0f} s after it started", None, False
            if self.heard and not self.current and now - max(idle_since, self.frame_at) > limits.step_wall:
                return f"no step started for {limits.step_wall:.0f} s", None, False
            if now - last_disk > 0.25:  # also under a private tmpfs: the grader takes no one's word for it
                last_disk = now
                problem = disk_problem(box.work)
                if problem:
                    return problem, self.current, False

    def _caught_up(self) -> bool:
        """Read what already waits in the pipes; True when a step ended or started there, or the run
        finished, so a clock that ran out while those frames sat unread stops nothing."""
        for _ in range(64):  # bounded: a process still writing is judged by its clocks
            fds = [fd for fd in (self.chan_r, self.err_r) if fd is not None]
            if not fds or not select.select(fds, [], [], 0)[0]:
                break
            self._read(0)
        return self._step_changed or self.finished

    def _read(self, timeout: float) -> bool:
        """Read what is waiting on either pipe; False once both are at their end."""
        fds = [fd for fd in (self.chan_r, self.err_r) if fd is not None]
        if not fds:
            time.sleep(timeout)
            return False
        ready, _, _ = select.select(fds, [], [], timeout)
        for fd in ready:
            data = os.read(fd, 1 << 20)
            if fd == self.err_r:
                if not data:
                    self.err_r = None
                self.stderr += data
                del self.stderr[:-STDERR_TAIL]
                continue
            if not data:
                self.chan_r = None
                continue
            for frame in self.reader.feed(data):
                self._take(frame)
        return True

    def _take(self, frame: channel.Frame) -> None:
        event, r = frame.header, self.box.result
        kind, step = event.get("ev"), event.get("step")
        self.heard, self.frame_at = True, time.monotonic()
        if self.over_limit:  # what a process sends after it ran into a limit counts for nothing
            return
        if kind == "confined" and not r.confinement:
            r.confinement = {k: event.get(k) for k in ("landlock", "seccomp", "rlimits", "private_tmpfs",
                                                        "root_without_capabilities", "address_space", "user_tasks")}
        elif kind == "start" and step in self.expected and self.current is None:
            self.current, self._step_changed = step, True
            self.last_lesson = lesson_of_step(step)
        elif kind == "done" and step is not None and step == self.current:
            if cgroups.pids_exhausted(self.box.cgroup):
                self.over_limit = f"started more threads than it may ({self.box.cgroup.pids})"
                r.forced[step] = (f"your code {self.over_limit} during this step; the threads it left were "
                                  "stopped, and the steps after it ran in a fresh process")
            if step not in r.forced:
                r.done[step] = {k: event[k] for k in ("status", "outcome", "message") if k in event}
                if step.startswith("probe:") and frame.body:
                    r.outputs[step] = frame.body
            self.expected.discard(step)
            self.current, self._step_changed = None, True
            self.steps_ended += not step.startswith("import:")
        elif kind == "loading":
            self.loaded = True
        elif kind == "finished":
            self.finished = True

    def drain(self) -> None:
        """After the kill: what is still in the pipes (the writers are gone, so this ends)."""
        end = time.monotonic() + 5
        while (self.chan_r is not None or self.err_r is not None) and time.monotonic() < end:
            self._read(0.05)

    def stderr_tail(self) -> str:
        return bytes(self.stderr[-800:]).decode(errors="replace")


# --- measurements the grader takes itself -------------------------------------------------------

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU time of process `pid` (all its threads), from the kernel's accounting;
    0.0 where that can't be read (the clocks then fall back to wall time alone)."""
    if pid is None:
        return 0.0
    try:
        with open(f"/proc/{int(pid)}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICKS
    except (OSError, IndexError, ValueError):
        return 0.0


class CpuWaits:
    """How long the machine kept a process waiting for a core: the kernel's run-queue delay
    (/proc/PID/task/TID/schedstat) of the thread that waited longest since the last reading. A step's
    wall clock leaves it out, so a busy machine stops no one; the CPU bound still stops a loop."""
    MOST_THREADS = 256

    def __init__(self, pid: int | None):
        self.pid, self.seen, self.at = pid, {}, time.monotonic()

    def since_last(self) -> float:
        now = time.monotonic()
        elapsed, self.at = now - self.at, now
        if self.pid is None:
            return 0.0
        try:
            threads = os.listdir(f"/proc/{int(self.pid)}/task")[:self.MOST_THREADS]
        except OSError:
            return 0.0
        seen, waited = {}, 0.0
        for tid in threads:
            try:
                with open(f"/proc/{int(self.pid)}/task/{tid}/schedstat", "rb") as f:
                    seen[tid] = int(f.read().split()[1]) / 1e9
            except (OSError, IndexError, ValueError):
                continue
            waited = max(waited, seen[tid] - self.seen.get(tid, seen[tid]))
        self.seen = seen
        return min(waited, elapsed)


def disk_problem(root: Path) -> str | None:
    """A reason to stop a sandbox for its folder's size, measured from here: blocks really used,
    counted without following links, through directory descriptors (no path grows too long)."""
    total, entries = 0, 0

    def refuse(err):
        raise err

    try:
        for _, dirs, files, dirfd in os.fwalk(root, follow_symlinks=False, onerror=refuse):
            for name in dirs + files:
                entries += 1
                try:
                    total += os.stat(name, dir_fd=dirfd, follow_symlinks=False).st_blocks * 512
                except OSError:
                    continue
            if entries > MAX_WORK_ENTRIES:
                return f"made more than {MAX_WORK_ENTRIES} files"
            if total > MAX_WORKDIR_BYTES:
                return f"wrote more than {MAX_WORKDIR_BYTES >> 20} MiB of files"
    except OSError:
        return "made its folder unreadable"
    return None


def remove_tree(path: Path) -> None:
    """Remove a sandbox's folder whatever it left there (links are removed, never followed)."""
    if not os.path.lexists(path):
        return

    def unlock(func, target, _exc):
        try:
            os.chmod(os.path.dirname(target), 0o700)
            func(target)
        except OSError:
            pass

    shutil.rmtree(path, onerror=unlock)


UNMEASURED = ("killed by", "exit status")  # deaths the grader's own clocks and meters did not cause
OUT_OF_MEMORY = "ran out of memory"  # how a step short of memory is told, whichever evidence showed it
# words in every message of a step or lesson the grader's clocks or memory limit stopped (the class report counts them)
BOUND_WORDS = ("without finishing", OUT_OF_MEMORY, "ran out of the time", "ran out of time")


def describe_exit(code: int, cgroup: cgroups.Handle | None = None) -> str:
    """How a process ended; where its cgroup holds the evidence, the limit it ran into."""
    if cgroups.oom_killed(cgroup):
        return f"{OUT_OF_MEMORY} ({cgroup.memory >> 20} MiB)"
    if code != 0 and cgroups.pids_exhausted(cgroup):
        return f"started more threads than it may ({cgroup.pids})"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"


def kill_all(proc, token: str) -> None:
    """The sandbox's process group, then any process still carrying its token (one that escaped
    the group, on a system without seccomp)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, TypeError):
        pass
    proc.wait()
    marker = f"JAX_LESSONS_SANDBOX={token}".encode()
    for entry in Path("/proc").glob("[0-9]*") if Path("/proc").is_dir() else []:
        try:
            if marker in (entry / "environ").read_bytes().split(b"\0"):
                os.kill(int(entry.name), signal.SIGKILL)
        except (OSError, ValueError):
            continue
