"""The kit's self-check: every lesson's reference passes, every untouched stub fails, and every
planted mistake is caught by the tests it names (rustlings' ``dev check``, for JAX lessons).

A planted mistake is ``tests/planted/NN/<mistake>.py``: a docstring saying what the mistake is, a
``MUST_FAIL = [...]`` list of lesson test names, optionally ``MUST_SAY = {test: [phrase, ...]}`` (words
the failing test's message must contain, case-insensitive), optionally ``MUST_NOT_SAY`` (the same
form: a hint that names a cause the test did not see, which must not appear), optionally
``MUST_PASS = [...]`` (tests that must still pass: an exercise built on the mistaken one is judged on
its own work), then definitions that replace the reference's.
Its target module is the reference with the planted file appended.
"""
from __future__ import annotations

from pathlib import Path

from grader import KIT_ROOT
from grader.learner import runs, stubs, targets

PLANTED_DIR = KIT_ROOT / "tests" / "planted"


def planted_mistakes() -> list[Path]:
    return sorted(PLANTED_DIR.glob("[0-9][0-9]/*.py"))


def planted_key(planted: Path) -> str:
    return planted.relative_to(PLANTED_DIR).as_posix()


def _assignment(planted: Path, name: str, default):
    """The value of a top-level ``NAME = ...`` literal, read without running the rest of the file."""
    import ast

    for node in ast.parse(planted.read_text()).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
            return ast.literal_eval(node.value)
    return default


def must_fail(planted: Path) -> list[str]:
    """The MUST_FAIL list: the tests that must fail on this mistake."""
    names = _assignment(planted, "MUST_FAIL", None)
    if names is None:
        raise ValueError(f"{planted} has no MUST_FAIL list")
    return list(names)


def must_say(planted: Path) -> dict[str, list[str]]:
    """The optional MUST_SAY dict: {test name: [phrases its failure message must contain]}, so a
    message is proved to name the cause it observed, not a fixed guess."""
    return {test: list(phrases) for test, phrases in _assignment(planted, "MUST_SAY", {}).items()}


def must_not_say(planted: Path) -> dict[str, list[str]]:
    """The optional MUST_NOT_SAY dict: {test name: [phrases its message must not contain]}, such as a
    hint for a cause this mistake does not have."""
    return {test: list(phrases) for test, phrases in _assignment(planted, "MUST_NOT_SAY", {}).items()}


def must_pass(planted: Path) -> list[str]:
    """The optional MUST_PASS list: tests that must pass despite this mistake (one mistake costs one
    exercise: an exercise that builds on the mistaken one is judged on the reference's version)."""
    return list(_assignment(planted, "MUST_PASS", []))


def planted_target(planted: Path, root: Path) -> Path:
    lesson = targets.find_lesson(planted.parent.name)
    target = root / planted.stem
    module = lesson.module_in(target)
    module.parent.mkdir(parents=True, exist_ok=True)
    module.write_text(lesson.solution_file.read_text() + "\n\n# --- planted mistake ---\n" + planted.read_text())
    return target


def lesson_jobs(stub_dir: Path, lessons: list[targets.Lesson] | None = None) -> dict:
    stubs.write_stubs(stub_dir, lessons)
    jobs = {}
    for lesson in lessons or targets.all_lessons():
        jobs[(lesson.number, "solutions")] = ([f"lessons/{lesson.number}"], "solutions", [])
        jobs[(lesson.number, "stubs")] = ([f"lessons/{lesson.number}"], str(stub_dir), [])
    return jobs


def planted_jobs(root: Path, planted: list[Path] | None = None, whole_lesson: bool = False) -> dict:
    """A run_many job per planted mistake: its MUST_FAIL and MUST_PASS tests, or with `whole_lesson`
    every test."""
    jobs = {}
    for path in planted if planted is not None else planted_mistakes():
        selected = [] if whole_lesson else ["-k", " or ".join(must_fail(path) + must_pass(path))]
        jobs[planted_key(path)] = ([f"lessons/{path.parent.name}"], str(planted_target(path, root)), selected)
    return jobs


def uncaught(planted: Path, run: runs.LessonRun) -> list[str]:
    """The MUST_FAIL tests that did not fail on their assertions (an error is not a catch)."""
    outcomes = run.outcomes()
    return [name for name in must_fail(planted) if outcomes.get(name) != "failed"]


def wrongly_failed(planted: Path, run: runs.LessonRun) -> list[str]:
    """The MUST_PASS tests that did not pass."""
    outcomes = run.outcomes()
    return [name for name in must_pass(planted) if outcomes.get(name) != "passed"]


def probe_failures(planted: list[Path], root: Path) -> dict[Path, dict[str, str]]:
    """{planted mistake: {probe name: reason}} for the probes each fails: trusted code, run in a fresh
    child process per lesson, each mistake with the probes it can change (the rest pass, as on the
    reference)."""
    from grader.authoring import reach
    from grader.classroom import judge

    by_lesson: dict[str, list[Path]] = {}
    for path in planted:
        by_lesson.setdefault(path.parent.name, []).append(path)
    failed = {}
    for number, paths in by_lesson.items():
        lesson = targets.find_lesson(number)
        jobs = [(lesson.number, lesson.module_in(planted_target(p, root)), "devcheck", reach.probes_it_can_change(p))
                for p in paths]
        for path, results in zip(paths, judge.check_in_child(jobs)):
            failed[path] = {k: v for k, v in results.items() if v}
    return failed


def charged_beyond_public(planted: Path, failed: dict[str, str], run: runs.LessonRun) -> dict[str, str]:
    """{test: why}: the tests the class grader would charge for this mistake although its public tests
    passed them, leaving out the two charges the grader makes by design: a concept check of an exercise
    whose values are wrong, and an exercise built on one whose values are wrong (the public tests judge
    it on the student's own lower exercise, which only the sandbox can vouch for). Every planted
    mistake is one the public tests see, so this should be empty."""
    from grader.learner import points
    from grader import probes
    from grader.classroom import judge

    lesson = targets.find_lesson(planted.parent.name)
    tests = points.graded_tests(lesson.test_file)
    outcomes = run.outcomes()
    passed = {t.name for t in tests if outcomes.get(t.name) == "passed"}
    claims = {t.name for t in judge.claim_only(tests, lesson.number)}
    exercise_of = {p.name: p.exercise for p in probes.for_lesson(lesson.number).all}
    wrong = {exercise_of[name] for name, reason in failed.items() if not isinstance(reason, judge.NoOutput)}
    above = {e for e, lower in judge.builds_on(lesson).items() if lower & wrong}
    charged = judge.charges(lesson, tests, failed)
    return {t.name: charged[t.name] for t in tests
            if t.name in charged and t.name in passed and t.name not in claims and t.exercise not in above}


def claim_points(lesson: targets.Lesson) -> tuple[int, int, list[str]]:
    """(points that rest on a claim alone, the lesson's points, those tests' names): the concept
    checks, which the grader can only hear from the sandbox (it counts them only where the same
    exercise's values are right), and any test no probe guards (a kit test keeps those to none)."""
    from grader.learner import points
    from grader.classroom import judge

    tests = points.graded_tests(lesson.test_file)
    claims = judge.claim_only(tests, lesson.number)
    return sum(t.points for t in claims), sum(t.points for t in tests), [t.name for t in claims]
