"""Grading a whole class: ``python -m grader grade SUBMISSIONS --out OUT``.

For each student, one confined process (``grader.classroom.sandbox``) runs their code: the probes on hidden
inputs, then the public tests. This process, which never imports student code, watches it, keeps
each lesson to its time limit, starts a fresh process for the steps left after a crash, exit or
hang, and decides every test's points itself:

    a test earns its points  <=>  the public test passed in the sandbox
                                  and every probe that guards it matches the reference here
                                  (a concept check: every probe of its exercise).

Before anyone is graded, the run grades each lesson's reference and stub in the same settings (the
canary), and stops if they don't score full marks and nothing.

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
import site
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from grader import KIT_ROOT, package_modules
from grader.learner import jax_setup, points, targets
from grader.classroom import class_report, confine, report, runner, submissions

@dataclass
class Settings:
    out: Path
    lessons: list[targets.Lesson]
    secret: str
    jobs: int = 1
    timeout: float = 120.0  # CPU seconds a lesson may take in one student's sandbox

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
    shared_compiles: bool = True  # students' sandboxes read, by name, what the reference's compiled


@dataclass
class Run:
    """What the grading run shares between its workers."""
    settings: Settings
    kit: Path
    inputs: Path
    kit_digest: str
    server: runner.ForkServer | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    canary_deaths: set[str] = field(default_factory=set)  # unexplained deaths the canary saw
    compiled: Path | None = None  # the shared compile cache, where the kernel keeps it unlisted

    def cache_for(self, writes: bool = False) -> runner.SharedCache | None:
        return runner.SharedCache(self.compiled, writes) if self.compiled is not None else None

    def base_env(self) -> dict:
        env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "PYTHONPATH": str(self.kit),
               "PYTHONDONTWRITEBYTECODE": "1", "PYTHONNOUSERSITE": "1", "PYTHONHASHSEED": "0",
               "LANG": "C.UTF-8", "JAX_PLATFORMS": self.settings.platform, "TF_CPP_MIN_LOG_LEVEL": "2",
               "OPENBLAS_NUM_THREADS": "1",
               # the kit's copy holds the lessons: no marker file in the student's folder can say otherwise
               "JAX_LESSONS_HOME": str(self.kit)}
        if self.settings.platform == "cpu":
            # A sandbox compiles every program afresh and runs each a few times on tiny inputs, so
            # LLVM's optimizations cost more than they save (a fifth of lesson 06's and 07's time),
            # and XLA's classic fusion emitters compile in about half the time of the newer ones
            env["XLA_FLAGS"] = " ".join(jax_setup.fast_cpu_flags())
        return env

    def plan_base(self) -> dict:
        devices = _DEVICES + (_gpu_devices() if self.settings.platform not in ("cpu", "") else [])
        return {"kit": str(self.kit), "inputs": str(self.inputs),
                "confine": {"read": readable_paths() + [str(self.kit), str(self.inputs)], "devices": devices,
                            "file": 96 << 20}}

    def limits(self) -> runner.Limits:
        return runner.Limits(lesson_cpu=self.settings.timeout, step_cpu=self.settings.step_timeout,
                             memory=self.settings.memory)


def shares_compiles(settings: Settings) -> bool:
    """Whether students' sandboxes read the programs the reference compiled: only where Landlock lets
    a folder be opened by name and never listed (``confine.landlock``'s ``read_by_name``). A file there
    is named by a hash of the whole program, so a sandbox finds one only by compiling the very program
    the reference compiled, which tells it nothing it did not already have."""
    return settings.shared_compiles and confine.landlock_abi() >= 1


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


def staged_files() -> list[Path]:
    """What a sandbox may read of the kit: the grader package, the lessons' tests and data."""
    files = package_modules("learner", "probes", "classroom", package=KIT_ROOT / "grader")
    files += [l.test_file for l in targets.all_lessons()]
    return files + sorted((KIT_ROOT / "lessons" / "data").glob("*"))


def judged_against() -> list[Path]:
    """What the grader's verdicts rest on besides the staged kit: the references (never staged)."""
    return sorted((KIT_ROOT / "solutions").glob("[0-9][0-9]/*.py"))


def stage_kit(dest: Path, lessons: list[targets.Lesson]) -> str:
    """Copy `staged_files` to `dest`; returns a digest of them and of the references, so a change
    to either regrades every student on the next run."""
    if dest.exists():
        shutil.rmtree(dest)
    digest = hashlib.sha256()
    for path in staged_files():
        rel = path.relative_to(KIT_ROOT)
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, dest / rel)
        digest.update(str(rel).encode() + b"\0" + path.read_bytes())
    for path in judged_against():
        digest.update(str(path.relative_to(KIT_ROOT)).encode() + b"\0" + path.read_bytes())
    (dest / "pytest.ini").write_text(PYTEST_INI)
    return digest.hexdigest()[:16]


def _python_paths() -> list[str]:
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix, *site.getsitepackages()}
    paths |= {p for p in sys.path if p and "site-packages" in p}
    paths.add(os.path.dirname(os.path.realpath(sys.executable)))
    return sorted(paths)


# What a sandbox may read besides Python, the staged kit and its own files. /proc is only its own
# entry and a few system-wide files (not other processes' environments or memory); /etc only what
# Python and the C library read (not shadow files, keys or credentials).
_SYSTEM_READ = ["/usr", "/lib", "/lib64", "/lib32", "/bin", "/sys", "/opt/conda", "/proc/self", "/proc/cpuinfo",
                "/proc/meminfo", "/proc/stat", "/proc/sys/kernel/osrelease", "/proc/sys/vm/overcommit_memory",
                "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/timezone",
                "/etc/passwd", "/etc/group", "/etc/nsswitch.conf", "/etc/hosts", "/etc/host.conf",
                "/etc/os-release", "/etc/mime.types", "/etc/matplotlibrc"]
_DEVICES = ["/dev/null", "/dev/zero", "/dev/urandom", "/dev/random"]


def readable_paths() -> list[str]:
    return _python_paths() + _SYSTEM_READ


def _gpu_devices() -> list[str]:
    return [str(p) for p in Path("/dev").glob("nvidia*")] + ["/dev/dri"]


# --- verdicts --------------------------------------------------------------------------------------

def lesson_record(lesson: targets.Lesson, outcome: runner.Outcome | None, sub: submissions.Submission,
                  secret: str) -> dict:
    """One lesson's rows: a test earns its points when it passed in the sandbox and no probe's
    finding, judged here on what the sandbox sent, charges it (`judge.charges`). A failure the
    sandbox claims only ever costs its own test."""
    from grader import probes
    from grader.classroom import judge, wire

    tests = points.graded_tests(lesson.test_file)
    total = sum(t.points for t in tests)
    missing = None
    if lesson.number in sub.problems:
        missing = f"{lesson.number}/{lesson.topic}.py could not be graded: {sub.problems[lesson.number]}"
    elif lesson.number not in sub.files or outcome is None:
        missing = f"not submitted: there is no {lesson.number}/{lesson.topic}.py"
    if missing:
        rows = [_row(t, 0, missing) for t in tests]
        return {"topic": lesson.topic, "earned": 0, "total": total, "tests": rows}

    def step_failure(step):
        if step in outcome.forced:
            return outcome.forced[step]
        event = outcome.done.get(step)
        if event is None:
            return "not run"
        if event.get("status") != "ok":
            return str(event.get("message", ""))[:2000] or "failed"
        return None

    import_failure = step_failure(f"import:{lesson.number}")
    probe_failure: dict[str, str] = {}
    for probe in probes.for_lesson(lesson.number).all:
        step = f"probe:{lesson.number}:{probe.name}"
        reason = step_failure(step)
        if reason is None:
            try:
                got = wire.loads(outcome.outputs.get(step, b""), keys="data")
            except wire.WireError as err:
                reason = f"its output could not be read: {err}"
            else:
                reason = judge.verdict(probe, got, secret)
                if reason is not None:
                    probe_failure[probe.name] = reason
                continue
        probe_failure[probe.name] = judge.no_output(reason)

    public_failure = {}
    for test in tests:
        step = f"test:{lesson.number}:{test.name}"
        public = outcome.forced.get(step)
        event = outcome.done.get(step)
        if public is None and import_failure and event is None:
            public = import_failure
        if public is None and event is None:
            public = outcome.stopped.get(lesson.number, "not run: the process ended before this test")
        if public is None and event.get("outcome") != "passed":
            public = str(event.get("message") or event.get("outcome"))[:2000]
        public_failure[test.name] = public

    passed = {name for name, failure in public_failure.items() if failure is None}
    hidden = judge.charges(lesson, tests, probe_failure)
    cells = sub.cells.get(lesson.number)
    rows = []
    for test in tests:
        failure = public_failure[test.name]
        if failure is None and test.name in hidden:
            failure = judge.hidden_message(test, hidden[test.name], tests, passed)
        if failure and cells is not None:
            failure = cells.translate(failure)
        rows.append(_row(test, 0 if failure else test.points, failure or ""))
    result = {"topic": lesson.topic, "earned": sum(r["earned"] for r in rows), "total": total, "tests": rows}
    if sub.tamper.get(lesson.number):
        result["tamper"] = sub.tamper[lesson.number]
    if sub.left_out.get(lesson.number):
        result["left_out"] = sub.left_out[lesson.number]
    return result


def _row(test, earned: int, message: str) -> dict:
    return {"test": test.name, "exercise": test.exercise, "points": test.points, "earned": earned, "message": message}


def grade_submission(run: Run, sub: submissions.Submission) -> dict:
    start = time.perf_counter()
    return _judged(run, sub, _sandboxed(run, sub, cache=run.cache_for()), start)


def _sandboxed(run: Run, sub: submissions.Submission, folder: Path | None = None,
               cache: runner.SharedCache | None = None) -> runner.Outcome | None:
    """What one submission's sandbox did: None where it handed in none of the lessons graded."""
    lessons = [l for l in run.settings.lessons if l.number in sub.files]
    if not lessons:
        return None
    box = runner.Sandbox(folder=folder or run.settings.out / ".sandbox" / report.folder_name(sub.student),
                         files=sub.files, lessons=lessons, limits=run.limits(), base_env=run.base_env(),
                         plan_base=run.plan_base(), server=run.server, canary_deaths=run.canary_deaths,
                         cache=cache)
    try:
        return box.grade()
    finally:
        if not run.settings.keep_sandboxes:
            box.cleanup()


def _judged(run: Run, sub: submissions.Submission, outcome: runner.Outcome | None, start: float) -> dict:
    """The record: each test's points decided here from what the sandbox sent (or an error record)."""
    if outcome is not None and outcome.error:
        return failed_record(run, sub, GraderFailure(outcome.error), outcome)
    records = {l.number: lesson_record(l, outcome, sub, run.settings.secret) for l in run.settings.lessons}
    return _record(run, sub, records, outcome, time.perf_counter() - start)


class GraderFailure(RuntimeError):
    """The grader could not run a submission for a reason that is not the submission's."""


class CanaryError(RuntimeError):
    """The reference did not score full marks, or the stub scored points, in this run's sandbox."""


def canary(run: Run) -> dict[str, dict]:
    """Grade each lesson's reference and untouched stub in the very sandbox settings the class gets,
    before any student: the reference must score full marks and the stub nothing. Returns their
    records; raises CanaryError naming what went wrong where either is off. The unexplained deaths
    either one saw are kept: such a death never counts against a student in this run."""
    from grader.learner import stubs

    lessons = run.settings.lessons
    pairs = {"reference": {l.number: l.solution_file.read_bytes() for l in lessons},
             "stub": {l.number: stubs.stub_for(l).encode() for l in lessons}}
    subs = {name: submissions.Submission(student=f"({name})", files=files, problems={})
            for name, files in pairs.items()}

    def grade(name):
        start = time.perf_counter()
        # the reference fills the shared compile cache; the stub compiles in a cache of its own
        outcome = _sandboxed(run, subs[name], folder=run.settings.out / ".sandbox" / f".canary-{name}",
                             cache=run.cache_for(writes=True) if name == "reference" else None)
        run.canary_deaths.update(reason for _, reason in outcome.deaths)
        return name, _judged(run, subs[name], outcome, start)

    with ThreadPoolExecutor(max_workers=2) as pool:
        records = dict(pool.map(grade, subs))
    problems = _canary_problems(records)
    if problems:
        raise CanaryError(_canary_message(run, problems))
    return records


def _canary_problems(records: dict[str, dict]) -> list[str]:
    problems = []
    for name, record in records.items():
        found = [f"the {name}: {record['error']}"] if record.get("error") else []
        for number, lesson in ([] if found else record["lessons"].items()):
            bad = [t for t in lesson["tests"] if (t["earned"] != t["points"]) == (name == "reference")]
            if bad:
                want = "full marks" if name == "reference" else "nothing"
                found.append(f"the {name} of lesson {number} scored {lesson['earned']}/{lesson['total']} "
                             f"(expected {want}); `{bad[0]['test']}`: {bad[0]['message'][:400] or 'passed'}")
        deaths = [n for n in record.get("notes", []) if n.startswith(("the sandbox died", "the sandbox stopped"))]
        if found and deaths:
            found.append(f"what the {name}'s sandbox did: {deaths[-1][:600]}")
        problems += found
    return problems


def _canary_message(run: Run, problems: list[str]) -> str:
    text = ("The grader's own check failed before grading anyone: in this run's sandbox settings\n- "
            + "\n- ".join(problems) + "\nNo student was graded.")
    joined = " ".join(problems)
    if runner.OUT_OF_MEMORY in joined:
        text += (f"\nThe reference ran out of memory under --memory {run.settings.memory >> 20}M (the kernel's "
                 "count, in a cgroup of its own): raise --memory.")
    elif "SIGABRT" in joined or "SIGKILL" in joined or "memory" in joined:
        text += (f"\nThe sandbox died: with a memory limit of {run.settings.memory >> 20} MiB, JAX's plugins (the "
                 "CUDA plugin reserves much address space when it starts) or XLA may not start. Try a larger "
                 "--memory, or grade on a machine where the grader can make cgroups (run it as root).")
    elif "ran longer" in joined or "out of the time" in joined:
        text += "\nThe machine is too slow or too busy for --timeout: raise it, or grade with fewer --jobs."
    return text


def _record(run: Run, sub: submissions.Submission, records: dict, outcome: runner.Outcome | None,
            seconds: float, error: str | None = None) -> dict:
    record = {"student": sub.student, "submission": sub.digest(), "secret": secret_id(run.settings.secret),
              "kit": run.kit_digest, "platform": run.settings.platform,
              "confinement": outcome.confinement if outcome else {}, "notes": outcome.notes if outcome else [],
              "lessons": records, "earned": sum(r["earned"] for r in records.values()),
              "total": sum(r["total"] for r in records.values()), "seconds": round(seconds, 2)}
    if error:
        record["error"] = error
    return record


def failed_record(run: Run, sub: submissions.Submission, err: BaseException,
                  outcome: runner.Outcome | None = None) -> dict:
    """The record of a student whose grading failed for the grader's reasons (a bug of the grader's,
    a sandbox that died where no student code was to blame): every test 0 with the reason, marked
    `error`, so it is not a grade and a rerun grades it again."""
    reason = (f"this submission could not be graded ({type(err).__name__}: {str(err)[:300]}); "
              "this is not a grade: your instructor has been told")
    records = {}
    for lesson in run.settings.lessons:
        tests = points.graded_tests(lesson.test_file)
        records[lesson.number] = {"topic": lesson.topic, "earned": 0, "total": sum(t.points for t in tests),
                                  "tests": [_row(t, 0, reason) for t in tests]}
    return _record(run, sub, records, outcome, 0.0, error=f"{type(err).__name__}: {err}")


def _already_graded(run: Run, sub: submissions.Submission) -> bool:
    path = report.student_dir(run.settings.out, sub.student) / report.RESULT
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return False
    return ("error" not in record and record.get("submission") == sub.digest() and record.get("secret") == secret_id(run.settings.secret)
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
    """Grade every submission in the shard; returns a summary. Results land in settings.out.

    One student's failure, whatever its cause, is that student's record; grades.csv is written
    whatever happens to the run."""
    from grader.learner import jax_setup

    jax_setup.configure()
    from grader.classroom import judge

    settings.out = out = Path(settings.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    subs, notes = submissions.discover(submissions_dir, settings.lessons)
    subs = [s for s in subs if in_shard(s.student, settings.shard)]
    kit = out / ".kit"
    digest = stage_kit(kit, settings.lessons)
    inputs = out / ".inputs"
    inputs.mkdir(exist_ok=True)
    run = Run(settings, kit, inputs, digest)
    graded, errors, start = [], [], time.perf_counter()
    todo = [s for s in subs if settings.regrade or not _already_graded(run, s)]
    if todo and shares_compiles(settings):
        run.compiled = out / ".sandbox" / ".compiled"
        runner.remove_tree(run.compiled)
        run.compiled.mkdir(parents=True)
    try:
        if settings.fork_server and todo:
            run.server = runner.ForkServer(run.base_env(), out / ".sandbox" / ".server",
                                           [l.number for l in settings.lessons])
        for lesson in settings.lessons:
            judge.save_inputs(inputs / f"{lesson.number}.npz", lesson.number, settings.secret)
            judge.reference_answers(lesson.number, settings.secret)
        if run.server is not None:
            run.server.wait_ready()
        checked = canary(run) if todo else {}
        progress = Progress(len(subs), settings.progress)
        for sub in subs:
            if sub not in todo:
                progress.step(None, sub.student)

        def work(sub):
            try:
                record = grade_submission(run, sub)
            except Exception as err:  # noqa: BLE001 - recorded for this student; the run goes on
                record = failed_record(run, sub, err)
            if record.get("error"):
                with run.lock:
                    errors.append(f"{sub.student}: {record['error']}")
            report.write_student(out, record, {n: d for n, d in sub.files.items() if n in record["lessons"]})
            with run.lock:
                progress.step(record, sub.student)
            return record

        with ThreadPoolExecutor(max_workers=max(1, settings.jobs)) as pool:
            graded = list(pool.map(work, todo))
    finally:
        if run.server is not None:
            run.server.close()
        if run.compiled is not None:
            runner.remove_tree(run.compiled)
        grades = report.write_grades(out, [l.number for l in settings.lessons])
        problem = class_report.write_safely(out)
    elapsed = time.perf_counter() - start
    notes += [f"could not grade {e} (its record says so; a rerun tries again)" for e in errors]
    notes += [problem] if problem else []
    for record in graded:
        for number, lesson in record["lessons"].items():
            if lesson.get("tamper"):
                notes.append(f"{record['student']}: lesson {number}'s notebook changed its grading: "
                             + "; ".join(lesson["tamper"]) + " (graded from its solution cells; see feedback.md)")
            if lesson.get("left_out"):
                notes.append(f"{record['student']}: lesson {number}'s file has syntax errors (graded one top-level "
                             "definition at a time; see feedback.md): " + "; ".join(lesson["left_out"]))
    summary = {"students": len(subs), "graded": len(graded), "skipped": len(subs) - len(todo),
               "seconds": round(elapsed, 2), "grades": str(grades), "notes": notes, "shard": list(settings.shard),
               "secret": secret_id(settings.secret), "errors": errors,
               "canary": {name: f"{r['earned']}/{r['total']}" for name, r in checked.items()},
               "confinement": next((g["confinement"] for g in graded if g["confinement"]), {})}
    report.atomic_write(out / "run.json", json.dumps(summary, indent=1))
    return summary


class MergeError(ValueError):
    """Shard outputs that can't be joined into one class's grades."""


def merge(shards: list[Path], out: Path, lessons: list[str] | None = None) -> Path:
    """Join the student folders of several shard outputs into `out` and write its grades.csv, with a
    column for each of `lessons` (default: every lesson the shards graded). Refuses shards graded
    with different secrets (different hidden inputs) or different kits (different tests or
    references): their grades don't mean the same thing."""
    found: list[tuple[Path, dict]] = []
    for shard in shards:
        for record_path in sorted((Path(shard) / "students").glob(f"*/{report.RESULT}")):
            try:
                found.append((record_path, json.loads(record_path.read_text(encoding="utf-8"))))
            except ValueError:
                continue
    for field_name, what in (("secret", "course secrets"), ("kit", "versions of the kit")):
        values = {record.get(field_name) for _, record in found}
        if len(values) > 1:
            raise MergeError(f"these shards were graded with different {what} ({', '.join(sorted(map(str, values)))}): "
                             "grade them again with the same ones, then merge")
    for record_path, record in found:
        dest = report.student_dir(out, record["student"])
        if dest.resolve() == record_path.parent.resolve():
            continue
        graded = sorted(p.relative_to(record_path.parent) for p in (record_path.parent / report.GRADED).glob("*.py"))
        for name in [*graded, "feedback.md", "results.json", report.RESULT]:
            src = record_path.parent / name
            if src.exists():
                report.atomic_write(dest / name, src.read_text(encoding="utf-8"))
    if lessons is None:
        lessons = sorted({number for _, record in found for number in record.get("lessons", {})})
    grades = report.write_grades(out, lessons)
    problem = class_report.write_safely(out)
    if problem:
        print(f"note: {problem}", file=sys.stderr)
    return grades
