"""Grading a whole class: ``python -m grader grade SUBMISSIONS --out OUT``.

For each student, one confined process (``grader.sandbox``) runs their code: the probes on hidden
inputs, then the public tests. This process, which never imports student code, watches it, keeps
each lesson to its time limit, starts a fresh process for the steps left after a crash, exit or
hang, and decides every test's points itself:

    a test earns its points  <=>  the public test passed in the sandbox
                                  and every probe of its exercise matches the reference here.

The probes' outputs are plain arrays compared with the reference's answers, computed here on the
same hidden inputs (drawn from the course secret). So a submission that patches pytest, chex or
NumPy, forges its output, or exits with status 0 gains nothing it did not compute.
"""
from __future__ import annotations

import hashlib
import json
import os
import secrets as secrets_mod
import shutil
import signal
import site
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from grader import KIT_ROOT, points, report, submissions, targets

MAX_STARTS = 12
STARTUP_LIMIT = 120.0
MAX_WORKDIR_BYTES = 512 << 20
MAX_STREAM_BYTES = 8 << 20


@dataclass
class Settings:
    out: Path
    lessons: list[targets.Lesson]
    secret: str
    jobs: int = 1
    timeout: float = 120.0  # seconds a lesson may take in one student's sandbox

    @property
    def step_timeout(self) -> float:
        """One step (a probe, a test) may take a quarter of its lesson's time, so one endless loop
        costs that exercise and leaves the lesson time for the others."""
        return self.timeout / 4
    memory: int = 4 << 30
    platform: str = "cpu"
    regrade: bool = False
    shard: tuple[int, int] = (1, 1)
    keep_sandboxes: bool = False
    progress: bool = True
    fork_server: bool = True


@dataclass
class Run:
    """What the grading run shares between its workers."""
    settings: Settings
    kit: Path
    inputs: Path
    kit_digest: str
    server: "ForkServer | None" = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def base_env(self) -> dict:
        env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "PYTHONPATH": str(self.kit),
               "PYTHONDONTWRITEBYTECODE": "1", "PYTHONNOUSERSITE": "1", "PYTHONHASHSEED": "0",
               "LANG": "C.UTF-8", "JAX_PLATFORMS": self.settings.platform, "TF_CPP_MIN_LOG_LEVEL": "2",
               "OPENBLAS_NUM_THREADS": "1"}
        if self.settings.platform == "cpu":
            # A sandbox compiles every program afresh and runs each a few times on tiny inputs, so
            # LLVM's optimizations cost more than they save (a fifth of lesson 06's and 07's time)
            env["XLA_FLAGS"] = "--xla_backend_optimization_level=0"
        return env


class ForkServer:
    """The parent's end of ``python -m grader.sandbox --server``: asks it for sandboxes, which it
    forks with JAX already imported, and hears when each one ends."""

    def __init__(self, run: Run, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "tmp").mkdir(exist_ok=True)
        env = dict(run.base_env(), HOME=str(folder), TMPDIR=str(folder / "tmp"), JAX_LESSONS_CACHE="off")
        lessons = [l.number for l in run.settings.lessons]
        self.proc = subprocess.Popen([sys.executable, "-B", "-m", "grader.sandbox", "--server", *lessons], cwd=folder, env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=open(folder / "server-stderr.txt", "wb"), start_new_session=True)
        self.folder, self.ready = folder, False
        self.lock, self.children, self.next_id = threading.Lock(), {}, 0

    def wait_ready(self) -> None:
        """Block until the server has imported everything (it starts while the grader prepares)."""
        if self.ready:
            return
        if not self.proc.stdout.readline().startswith(b'{"ready"'):
            raise RuntimeError(f"the fork server did not start: {(self.folder / 'server-stderr.txt').read_text()[-2000:]}")
        self.ready = True
        threading.Thread(target=self._listen, daemon=True).start()

    def _listen(self) -> None:
        for line in self.proc.stdout:
            message = json.loads(line)
            child = self.children.get(message.get("id"))
            if child is None:
                continue
            if "pid" in message:
                child.pid = message["pid"]
                child.started.set()
            if "exit" in message:
                child.returncode = message["exit"]
                child.ended.set()
        for child in list(self.children.values()):  # the server is gone: nothing else will end
            child.returncode = -signal.SIGKILL if child.returncode is None else child.returncode
            child.started.set()
            child.ended.set()

    def spawn(self, plan: dict, env: dict, cwd: Path, stderr: Path) -> "ServedChild":
        child = ServedChild()
        with self.lock:
            self.next_id += 1
            self.children[self.next_id] = child
            request = {"id": self.next_id, "plan": plan, "env": env, "cwd": str(cwd), "stderr": str(stderr)}
            self.proc.stdin.write((json.dumps(request) + "\n").encode())
            self.proc.stdin.flush()
        if not child.started.wait(60) or child.pid is None:
            raise RuntimeError("the fork server did not start a sandbox")
        return child

    def close(self) -> None:
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()


class ServedChild:
    """A forked sandbox, with the part of Popen's interface the grader uses."""

    def __init__(self):
        self.pid, self.returncode = None, None
        self.started, self.ended = threading.Event(), threading.Event()

    def wait(self, timeout=None):
        if not self.ended.wait(timeout):
            raise subprocess.TimeoutExpired("sandbox", timeout)
        return self.returncode


def secret_for(out: Path, given: str | None) -> str:
    """The course secret: given, or from JAX_LESSONS_SECRET, or kept in OUT/secret.txt (made once)."""
    if given:
        return given
    if os.environ.get("JAX_LESSONS_SECRET"):
        return os.environ["JAX_LESSONS_SECRET"]
    path = Path(out) / "secret.txt"
    if not path.exists():
        report.atomic_write(path, secrets_mod.token_hex(16) + "\n")
        path.chmod(0o600)
    return path.read_text().strip()


def secret_id(secret: str) -> str:
    return hashlib.sha256(("jax-lessons-secret\0" + secret).encode()).hexdigest()[:12]


def in_shard(student: str, shard: tuple[int, int]) -> bool:
    """Shard i of n (1-based) by a hash of the id: a student's shard never depends on the others."""
    index, count = shard
    return int(hashlib.sha256(student.encode()).hexdigest(), 16) % count == index - 1


# --- the staged kit: what a sandbox may read -------------------------------------------------------

PYTEST_INI = """[pytest]
addopts = --import-mode=importlib --tb=short -p no:hypothesispytest -p no:anyio -p no:unraisableexception
"""


def stage_kit(dest: Path, lessons: list[targets.Lesson]) -> str:
    """Copy the grader package, the lessons' tests and data (never the solutions) to `dest`;
    returns a digest of what was copied."""
    if dest.exists():
        shutil.rmtree(dest)
    files = sorted((KIT_ROOT / "grader").glob("*.py")) + sorted((KIT_ROOT / "grader" / "probes").glob("*.py"))
    files += [l.test_file for l in targets.all_lessons()]
    files += sorted((KIT_ROOT / "lessons" / "data").glob("*"))
    digest = hashlib.sha256()
    for path in files:
        rel = path.relative_to(KIT_ROOT)
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, dest / rel)
        digest.update(str(rel).encode() + b"\0" + path.read_bytes())
    (dest / "pytest.ini").write_text(PYTEST_INI)
    return digest.hexdigest()[:16]


def _python_paths() -> list[str]:
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix, *site.getsitepackages()}
    paths |= {p for p in sys.path if p and "site-packages" in p}
    paths.add(os.path.dirname(os.path.realpath(sys.executable)))
    return sorted(paths)


_SYSTEM_READ = ["/usr", "/lib", "/lib64", "/lib32", "/bin", "/etc", "/proc", "/sys", "/opt/conda"]
_DEVICES = ["/dev/null", "/dev/zero", "/dev/urandom", "/dev/random"]


def _gpu_devices() -> list[str]:
    return [str(p) for p in Path("/dev").glob("nvidia*")] + ["/dev/dri"]


# --- one student's sandbox ------------------------------------------------------------------------

def _steps(lesson: targets.Lesson) -> list[str]:
    from grader import probes

    return ([f"import:{lesson.number}"] + [f"probe:{lesson.number}:{p.name}" for p in probes.for_lesson(lesson.number).all]
            + [f"test:{lesson.number}:{t.name}" for t in points.graded_tests(lesson.test_file)])


def _lesson_of_step(step: str) -> str | None:
    parts = step.split(":")
    return parts[1] if len(parts) > 1 else None


class Sandbox:
    """Runs one submission to the end: fresh processes until every step has happened or failed."""

    def __init__(self, run: Run, sub: submissions.Submission, lessons: list[targets.Lesson]):
        self.run, self.sub, self.lessons = run, sub, lessons
        self.workdir = run.settings.out / ".sandbox" / sub.student
        self.done: dict[str, dict] = {}  # step -> its "done" event from the sandbox
        self.forced: dict[str, str] = {}  # step -> a failure decided here (crash, timeout)
        self.lesson_time = {l.number: 0.0 for l in lessons}
        self.stopped: dict[str, str] = {}  # lesson -> why the rest of it was not run
        self.confinement: dict = {}
        self.notes: list[str] = []

    def env(self) -> dict:
        return dict(self.run.base_env(), HOME=str(self.workdir / "home"), TMPDIR=str(self.workdir / "tmp"),
                    JAX_LESSONS_CACHE=str(self.workdir / "cache"), JAX_LESSONS_SANDBOX=self.token)

    def prepare(self) -> None:
        if self.workdir.exists():
            shutil.rmtree(self.workdir)
        for sub in ("submission", "tmp", "home", "out", "cache"):
            (self.workdir / sub).mkdir(parents=True)
        for lesson in self.lessons:
            module = lesson.module_in(self.workdir / "submission")
            module.parent.mkdir(parents=True, exist_ok=True)
            module.write_bytes(self.sub.files[lesson.number])
        self.token = secrets_mod.token_hex(8)

    def plan(self) -> dict:
        skip = set(self.done) | set(self.forced) | {f"lesson:{n}" for n in self.stopped}
        read = _python_paths() + _SYSTEM_READ + [str(self.run.kit), str(self.run.inputs)]
        devices = _DEVICES + (_gpu_devices() if self.run.settings.platform not in ("cpu", "") else [])
        return {"lessons": [l.number for l in self.lessons], "skip": sorted(skip),
                "submission": str(self.workdir / "submission"), "kit": str(self.run.kit),
                "inputs": str(self.run.inputs), "outputs": str(self.workdir / "out"),
                "stream": str(self.workdir / "stream.jsonl"),
                "confine": {"read": read, "write": [str(self.workdir)], "devices": devices,
                            "memory": self.run.settings.memory, "file": 96 << 20,
                            "cpu": int(60 + 4 * self.run.settings.timeout * len(self.lessons))}}

    def grade(self) -> None:
        self.prepare()
        for _ in range(MAX_STARTS):
            if self._remaining() == [] or not self._start_once():
                break
        for step in self._remaining():
            self.forced[step] = "not run: the process running your code kept ending before this step"

    def cleanup(self) -> None:
        if not self.run.settings.keep_sandboxes:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def _remaining(self) -> list[str]:
        left = []
        for lesson in self.lessons:
            if lesson.number in self.stopped:
                continue
            left += [s for s in _steps(lesson) if s not in self.done and s not in self.forced]
        return left

    def _start_once(self) -> bool:
        """One process; False when it made no progress (nothing more to gain from another)."""
        stream_path = self.workdir / "stream.jsonl"
        stream_path.write_text("")
        before = len(self.done) + len(self.forced)
        proc = self._spawn()
        reason, current = self._watch(proc, stream_path)
        _kill_all(proc, self.token)
        finished = self._absorb(stream_path)
        if finished:
            return False
        if current is None:
            tail = (self.workdir / "stderr.txt").read_bytes()[-800:].decode(errors="replace")
            self.notes.append(f"the sandbox stopped before any step ({reason}): {tail}")
            return len(self.done) + len(self.forced) > before
        lesson = _lesson_of_step(current)
        if reason == "step timeout":
            self.forced[current] = (f"took longer than the {self.run.settings.step_timeout:.0f} s one step may take "
                                    "(an endless loop?), and was stopped")
        elif reason == "timeout":
            self.forced[current] = (f"took longer than the {self.run.settings.timeout:.0f} s this lesson may take "
                                    "(an endless loop?)")
            self.stopped[lesson] = f"not run: lesson {lesson} ran out of time in an earlier step"
        elif current.startswith("import:"):
            self.forced[current] = (f"importing your file ended the process ({reason}); code at the top level "
                                    "runs on import, so keep work inside the functions")
            self.stopped[lesson] = self.forced[current]
        else:
            self.forced[current] = f"your code ended the process ({reason}) during this test"
        return True

    def _spawn(self):
        cwd, stderr_path = self.workdir / "submission", self.workdir / "stderr.txt"
        if self.run.server is not None:
            return self.run.server.spawn(self.plan(), self.env(), cwd, stderr_path)
        with open(stderr_path, "wb") as stderr:
            proc = subprocess.Popen([sys.executable, "-B", "-m", "grader.sandbox"], cwd=cwd, env=self.env(),
                                    stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=stderr,
                                    start_new_session=True)
        try:
            proc.stdin.write(json.dumps(self.plan()).encode())
            proc.stdin.close()
        except OSError:
            pass
        return proc

    def _watch(self, proc, stream_path: Path) -> tuple[str, str | None]:
        """Wait for the process; returns (how it ended, the step in progress then)."""
        current, offset, started = None, 0, time.monotonic()
        last, last_disk, last_event, step_started = started, started, started, started
        while True:
            try:
                code = proc.wait(timeout=0.05)
            except subprocess.TimeoutExpired:
                code = None
            now = time.monotonic()
            new_offset, step = self._follow(stream_path, offset, current)
            if new_offset != offset:
                offset, last_event = new_offset, now
            if step != current:
                current, step_started = step, now
            lesson = _lesson_of_step(current) if current else None
            if lesson in self.lesson_time:
                self.lesson_time[lesson] += now - last
            last = now
            if code is not None:
                return _describe_exit(code), current
            if lesson in self.lesson_time and self.lesson_time[lesson] > self.run.settings.timeout:
                return "timeout", current
            if current and now - step_started > self.run.settings.step_timeout:
                return "step timeout", current
            if current is None and now - last_event > STARTUP_LIMIT:
                return f"no progress for {STARTUP_LIMIT:.0f} s", None
            if now - last_disk > 0.5:
                last_disk = now
                if _tree_bytes(self.workdir) > MAX_WORKDIR_BYTES:
                    return f"wrote more than {MAX_WORKDIR_BYTES >> 20} MiB of files", current

    def _follow(self, path: Path, offset: int, current: str | None):
        try:
            with open(path, "rb") as f:
                f.seek(offset)
                chunk = f.read(MAX_STREAM_BYTES)
        except OSError:
            return offset, current
        end = chunk.rfind(b"\n")
        if end < 0:
            return offset, current
        for line in chunk[:end].splitlines():
            event = _event(line)
            if event and event.get("ev") == "start":
                current = event["step"]
            elif event and event.get("ev") == "done" and event.get("step") == current:
                current = None
        return offset + end + 1, current

    def _absorb(self, path: Path) -> bool:
        """Take the finished steps from the stream; True if the process said it finished."""
        finished = False
        try:
            data = path.read_bytes()[:MAX_STREAM_BYTES]
        except OSError:
            return False
        for line in data.splitlines():
            event = _event(line)
            if not event:
                continue
            if event.get("ev") == "confined":
                self.confinement = {k: event.get(k) for k in ("landlock", "seccomp", "rlimits")}
            elif event.get("ev") == "done" and event.get("step") not in self.forced:
                self.done[event["step"]] = event
            elif event.get("ev") == "finished":
                finished = True
        return finished


def _event(line: bytes) -> dict | None:
    try:
        event = json.loads(line)
    except ValueError:
        return None
    if not isinstance(event, dict) or not isinstance(event.get("step", ""), str):
        return None
    return event


def _describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"


def _tree_bytes(root: Path) -> int:
    total, count = 0, 0
    stack = [root]
    while stack:
        try:
            entries = list(os.scandir(stack.pop()))
        except OSError:
            continue
        for entry in entries:
            count += 1
            if count > 20_000:
                return MAX_WORKDIR_BYTES + 1
            if entry.is_dir(follow_symlinks=False):
                stack.append(entry.path)
            else:
                try:
                    total += entry.stat(follow_symlinks=False).st_size
                except OSError:
                    pass
    return total


def _kill_all(proc, token: str) -> None:
    """The sandbox's process group, then any process still carrying its token (one that escaped
    the group, on a system without seccomp)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()
    marker = f"JAX_LESSONS_SANDBOX={token}".encode()
    for entry in Path("/proc").glob("[0-9]*") if Path("/proc").is_dir() else []:
        try:
            if marker in (entry / "environ").read_bytes().split(b"\0"):
                os.kill(int(entry.name), signal.SIGKILL)
        except (OSError, ValueError):
            continue


# --- verdicts --------------------------------------------------------------------------------------

def lesson_record(lesson: targets.Lesson, box: Sandbox | None, sub: submissions.Submission, secret: str) -> dict:
    from grader import judge, probes, wire

    tests = points.graded_tests(lesson.test_file)
    total = sum(t.points for t in tests)
    missing = None
    if lesson.number in sub.problems:
        missing = f"{lesson.number}/{lesson.topic}.py could not be graded: {sub.problems[lesson.number]}"
    elif lesson.number not in sub.files:
        missing = f"not submitted: there is no {lesson.number}/{lesson.topic}.py"
    if missing:
        rows = [_row(t, 0, missing) for t in tests]
        return {"topic": lesson.topic, "earned": 0, "total": total, "tests": rows}

    def step_failure(step):
        if step in box.forced:
            return box.forced[step]
        event = box.done.get(step)
        if event is None:
            return "not run"
        if event.get("status") == "error":
            return str(event.get("message", ""))[:2000] or "failed"
        return None

    import_failure = step_failure(f"import:{lesson.number}")
    probe_failure: dict[str, str] = {}
    for probe in probes.for_lesson(lesson.number).all:
        reason = step_failure(f"probe:{lesson.number}:{probe.name}")
        if reason is None:
            try:
                got = wire.load(box.workdir / "out" / lesson.number / f"{probe.name}.npz", keys="data")
                reason = judge.verdict(probe, got, secret)
            except (OSError, wire.WireError) as err:
                reason = f"its output could not be read: {err}"
        if reason:
            probe_failure[probe.name] = reason

    public_failure = {}
    for test in tests:
        step = f"test:{lesson.number}:{test.name}"
        public = box.forced.get(step)
        event = box.done.get(step)
        if public is None and import_failure and event is None:
            public = import_failure
        if public is None and event is None:
            public = box.stopped.get(lesson.number, "not run: the process ended before this test")
        if public is None and event.get("outcome") != "passed":
            public = str(event.get("message") or event.get("outcome"))[:2000]
        public_failure[test.name] = public

    passed = {name for name, failure in public_failure.items() if failure is None}
    hidden = judge.charges(lesson, tests, passed, probe_failure)
    rows = []
    for test in tests:
        failure = public_failure[test.name]
        if failure is None and test.name in hidden:
            failure = (f"`{test.exercise}` passes this test's own inputs but not the grader's hidden inputs: "
                       f"{hidden[test.name]}.\nHint: make it work for any input of the kind the "
                       f"README describes, not only the ones in the test file.")
        rows.append(_row(test, 0 if failure else test.points, failure or ""))
    return {"topic": lesson.topic, "earned": sum(r["earned"] for r in rows), "total": total, "tests": rows}


def _row(test, earned: int, message: str) -> dict:
    return {"test": test.name, "exercise": test.exercise, "points": test.points, "earned": earned, "message": message}


def grade_submission(run: Run, sub: submissions.Submission) -> dict:
    start = time.perf_counter()
    lessons = [l for l in run.settings.lessons if l.number in sub.files]
    box = None
    if lessons:
        box = Sandbox(run, sub, lessons)
        box.grade()
    records = {l.number: lesson_record(l, box, sub, run.settings.secret) for l in run.settings.lessons}
    if box:
        box.cleanup()
    return {"student": sub.student, "submission": sub.digest(), "secret": secret_id(run.settings.secret),
            "kit": run.kit_digest, "platform": run.settings.platform,
            "confinement": box.confinement if box else {}, "notes": box.notes if box else [],
            "lessons": records, "earned": sum(r["earned"] for r in records.values()),
            "total": sum(r["total"] for r in records.values()), "seconds": round(time.perf_counter() - start, 2)}


def _already_graded(run: Run, sub: submissions.Submission) -> bool:
    path = report.student_dir(run.settings.out, sub.student) / report.RESULT
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return False
    return (record.get("submission") == sub.digest() and record.get("secret") == secret_id(run.settings.secret)
            and record.get("kit") == run.kit_digest and set(record.get("lessons", {})) >= {l.number for l in run.settings.lessons})


class Progress:
    def __init__(self, total: int, enabled: bool):
        self.total, self.done, self.enabled = total, 0, enabled
        self.start = time.monotonic()
        self.tty = sys.stderr.isatty()

    def step(self, record: dict | None, student: str) -> None:
        self.done += 1
        if not self.enabled:
            return
        width = 30
        filled = int(width * self.done / max(self.total, 1))
        bar = "#" * filled + "." * (width - filled)
        score = f"{record['earned']}/{record['total']}" if record else "skipped (already graded)"
        line = f"[{bar}] {self.done}/{self.total} {time.monotonic() - self.start:6.1f} s  {student}: {score}"
        sys.stderr.write(("\r\x1b[2K" if self.tty else "") + line + ("" if self.tty else "\n"))
        if self.tty and self.done == self.total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def grade_class(submissions_dir: Path, settings: Settings) -> dict:
    """Grade every submission in the shard; returns a summary. Results land in settings.out."""
    from grader import jax_setup

    jax_setup.configure()
    from grader import judge

    out = settings.out
    out.mkdir(parents=True, exist_ok=True)
    subs, notes = submissions.discover(submissions_dir, settings.lessons)
    subs = [s for s in subs if in_shard(s.student, settings.shard)]
    kit = out / ".kit"
    digest = stage_kit(kit, settings.lessons)
    inputs = out / ".inputs"
    inputs.mkdir(exist_ok=True)
    run = Run(settings, kit, inputs, digest)
    if settings.fork_server:
        run.server = ForkServer(run, out / ".sandbox" / ".server")
    for lesson in settings.lessons:
        judge.save_inputs(inputs / f"{lesson.number}.npz", lesson.number, settings.secret)
        judge.reference_answers(lesson.number, settings.secret)
    if run.server is not None:
        run.server.wait_ready()
    todo = [s for s in subs if settings.regrade or not _already_graded(run, s)]
    progress = Progress(len(subs), settings.progress)
    for sub in subs:
        if sub not in todo:
            progress.step(None, sub.student)

    def work(sub):
        record = grade_submission(run, sub)
        report.write_student(out, record)
        with run.lock:
            progress.step(record, sub.student)
        return record

    start = time.perf_counter()
    try:
        with ThreadPoolExecutor(max_workers=max(1, settings.jobs)) as pool:
            graded = list(pool.map(work, todo))
    finally:
        if run.server is not None:
            run.server.close()
    elapsed = time.perf_counter() - start
    grades = report.write_grades(out, [l.number for l in settings.lessons])
    summary = {"students": len(subs), "graded": len(graded), "skipped": len(subs) - len(todo),
               "seconds": round(elapsed, 2), "grades": str(grades), "notes": notes, "shard": list(settings.shard),
               "secret": secret_id(settings.secret), "confinement": graded[0]["confinement"] if graded else {}}
    report.atomic_write(out / "run.json", json.dumps(summary, indent=1))
    return summary


def merge(shards: list[Path], out: Path, lessons: list[str]) -> Path:
    """Join the student folders of several shard outputs into `out` and write its grades.csv."""
    for shard in shards:
        for record_path in sorted((Path(shard) / "students").glob(f"*/{report.RESULT}")):
            dest = report.student_dir(out, record_path.parent.name)
            if dest.resolve() == record_path.parent.resolve():
                continue
            for name in ("feedback.md", "results.json", report.RESULT):
                src = record_path.parent / name
                if src.exists():
                    report.atomic_write(dest / name, src.read_text())
    return report.write_grades(out, lessons)
