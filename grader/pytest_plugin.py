"""The lessons' pytest plugin: picks the implementation under test and keeps the output short.

Options: ``--target lessons|solutions|DIR`` chooses where ``ex`` comes from; ``--results FILE`` writes
every lesson test's outcome and points as JSON (what the progress report and the kit's own tests read).
"""
from __future__ import annotations

import contextlib
import json
import os
import sys
from pathlib import Path

import pytest

from grader.learner import jax_setup, limits, resume, targets

try:
    jax_setup.configure()
except jax_setup.TooLateError as err:
    raise pytest.UsageError(str(err)) from None

import chex  # noqa: E402  (after the devices are set up)
from grader.learner import jax_errors  # noqa: E402

_EX_PATH = pytest.StashKey[Path]()
_RESULTS = pytest.StashKey[dict]()
_BOUNDS = pytest.StashKey[limits.Bounds]()
_ABANDONED = pytest.StashKey[bool]()
_EXIT_STATUS = pytest.StashKey[int]()
_STATE = pytest.StashKey[Path]()  # grader.learner.resume's state file, in a run that can resume
_PRIOR = pytest.StashKey[dict]()  # {nodeid: result} from the process(es) before this one
_STOPPED = pytest.StashKey[dict]()  # {exercise: test} stopped at a bound in this run


def pytest_addoption(parser):
    group = parser.getgroup("jax lessons")
    group.addoption(
        "--target", default=os.environ.get("JAX_LESSONS_TARGET", "lessons"),
        help="implementation under test: 'lessons' (your files, the default), 'solutions' "
             "(the reference), or a folder laid out like lessons/ (DIR/03/transforms.py)",
    )
    group.addoption("--results", default=None, metavar="FILE",
                    help="write each lesson test's outcome and points to FILE as JSON")
    group.addoption("--time-limit", type=float, default=float(os.environ.get("JAX_LESSONS_TIME_LIMIT", 60)),
                    metavar="SECONDS", help="stop a lesson test once it has run this many seconds, both of "
                                            "wall time and of CPU time (default 60; 0: no limit)")
    group.addoption("--memory-limit", default=os.environ.get("JAX_LESSONS_MEMORY_LIMIT", "4G"), metavar="SIZE",
                    help="stop a lesson test when the process holds more memory than this (default 4G; 0: no limit)")
    group.addoption("--stream", action="store_true", default=False,
                    help="send each lesson test's start and result through the class grader's channel "
                         "(only inside its sandbox, which must say the test a crash happened in)")


def _did_you_mean_lesson(config) -> None:
    """`pytest lessons/3` names no folder: lesson folders have two digits. Say which one was meant."""
    import re

    for arg in config.args:
        path = arg.split("::")[0]
        match = re.fullmatch(r"(.*?lessons[/\\])(\d)([/\\].*)?", path)
        if match and not Path(path).exists():
            meant = f"{match.group(1)}0{match.group(2)}{match.group(3) or ''}"
            if Path(meant).exists():
                raise pytest.UsageError(f"There is no {path}: lesson folders have two digits. Did you mean "
                                        f"pytest {meant}?")


@pytest.hookimpl(wrapper=True)
def pytest_collection(session):
    """A lesson test named wrong (`::test_swapp`) gets the closest names of that lesson's tests."""
    try:
        return (yield)
    except pytest.UsageError as err:
        hint = _did_you_mean_test(session.config)
        if hint:
            raise pytest.UsageError(f"{err}\n{hint}") from None
        raise


def _did_you_mean_test(config) -> str | None:
    import difflib

    from grader.learner import points

    for arg in config.args:
        path, _, rest = arg.partition("::")
        lesson = targets.lesson_of_test_file(Path(path)) if rest else None
        if lesson is None:
            continue
        names = [t.name for t in points.graded_tests(lesson.test_file)]
        wanted = rest.split("::")[0].split("[")[0]
        if wanted in names:
            continue
        close = difflib.get_close_matches(wanted, names, n=3, cutoff=0.6)
        if close:
            return "Did you mean " + " or ".join(f"{path}::{name}" for name in close) + "?"
        return f"Lesson {lesson.number}'s tests: {', '.join(names)}."
    return None


# Libraries the lessons use that call JAX APIs newer JAX versions deprecate (orbax under jax 0.12).
LIBRARIES_WITH_DEPRECATIONS = ("orbax", "grain", "haiku", "flax", "optax", "chex")


def pytest_configure(config):
    _did_you_mean_lesson(config)
    config.addinivalue_line("markers", "exercise(name, points=1): the exercise a lesson test grades, and its points")
    for library in LIBRARIES_WITH_DEPRECATIONS:  # what a learner can't act on: the library's own calls
        config.addinivalue_line("filterwarnings", f"ignore::DeprecationWarning:{library}")
    config.stash[_RESULTS] = {}
    cpu, memory = config.getoption("time_limit"), limits.parse_size(config.getoption("memory_limit"))
    if (cpu or memory) and not config.getoption("stream"):
        in_kernel = config.getoption("target") == targets.IN_PROCESS
        capture = config.pluginmanager.getplugin("capturemanager")
        uncaptured = capture.global_and_fixture_disabled if capture is not None else contextlib.nullcontext
        config.stash[_BOUNDS] = limits.Bounds(cpu, memory, may_end_process=not in_kernel, uncaptured=uncaptured)
        if not in_kernel and resume.wanted(config):
            _start_resumable(config, uncaptured)
    config.stash.setdefault(_STOPPED, {})


def _start_resumable(config, uncaptured) -> None:
    """Split off the process that runs the tests (see `grader.learner.resume`); in a resumed process, take
    over what the earlier ones did."""
    state = resume.start(config, uncaptured)
    config.stash[_STATE] = config.stash[_BOUNDS].state = state
    payload = resume.read(state)
    config.stash[_PRIOR] = {t["nodeid"]: t for t in payload["tests"] if t.get("nodeid") and t["outcome"] != "not run"}
    config.stash[_STOPPED] = dict(payload["stopped"])


def pytest_unconfigure(config):
    bounds = config.stash.get(_BOUNDS, None)
    if bounds is not None:
        bounds.close()
    if config.stash.get(_ABANDONED, False) and config.getoption("target") != targets.IN_PROCESS:
        if _STATE in config.stash:
            resume.ask_resume(config.stash[_STATE], None, reported=True)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(config.stash.get(_EXIT_STATUS, 1))


def _lesson_of(item) -> targets.Lesson | None:
    return targets.lesson_of_test_file(Path(item.path))


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session, config, items):
    _quiet_short_summary(config, items)
    _skip_what_ran_before(config, items)
    for item in items:
        if _lesson_of(item) is None:
            continue
        marks = list(item.iter_markers("exercise"))
        if len(marks) != 1:
            raise pytest.UsageError(f"{item.nodeid}: a lesson test needs exactly one @pytest.mark.exercise")
        if getattr(item, "callspec", None) is not None:
            raise pytest.UsageError(f"{item.nodeid}: graded lesson tests are not parametrized; loop inside")


def _skip_what_ran_before(config, items) -> None:
    """In a resumed process: the tests an earlier process reported are not run again; their results
    count in this process's points line."""
    prior = config.stash.get(_PRIOR, {})
    if not prior:
        return
    results = config.stash[_RESULTS]
    kept = []
    for item in items:
        earlier = prior.get(item.nodeid)
        if earlier is None or not earlier.get("reported", True):
            kept.append(item)
        else:
            results[item.nodeid] = earlier
    items[:] = kept


def pytest_collection_finish(session):
    """Every collected lesson test counts in the points line, run or not (a run stopped early still
    shows each lesson's whole total)."""
    results = session.config.stash[_RESULTS]
    for item in session.items:
        if item.nodeid not in results:
            results[item.nodeid] = _new_result(item)
            if results[item.nodeid] is not None:
                results[item.nodeid]["message"] = "did not run: the run ended before this test"


def _quiet_short_summary(config, items) -> None:
    """In a lesson-only run each failure is already one line; pytest's short summary would repeat
    them cut off, below the points. Keep it when asked for with -r."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    explicit = any(a.startswith("-r") for a in config.invocation_params.args)
    if reporter is not None and not explicit and items and all(_lesson_of(i) for i in items):
        reporter.reportchars = "w"  # the warnings summary stays


def exercise_info(item) -> tuple[str, int]:
    mark = item.get_closest_marker("exercise")
    name = mark.args[0] if mark.args else mark.kwargs["name"]
    points = mark.kwargs.get("points", mark.args[1] if len(mark.args) > 1 else 1)
    return name, points


@pytest.fixture
def ex(request):
    """The exercise module under test: the learner's file, the reference, or a submission's."""
    lesson = targets.lesson_of_test_file(Path(request.node.path))
    if lesson is None:
        raise pytest.UsageError(f"`ex` is for lesson tests (NN/test_<topic>.py), not {request.node.path}")
    target = request.config.getoption("target")
    try:
        if target == targets.IN_PROCESS:
            return targets.in_process(lesson.number)
        base = request.config.invocation_params.dir
        path = lesson.module_in(targets.resolve_target(target, base))
        request.node.stash[_EX_PATH] = path
        return targets.load(path)
    except targets.TargetError as err:
        problem = _said_once(request.config, str(err), request.node.name)
    pytest.fail(problem, pytrace=False)


_SAID = pytest.StashKey[dict]()


def _said_once(config, message: str, test: str) -> str:
    """A problem shared by many tests (a missing folder, a file that doesn't compile) is told in full
    at the first of them; the others point back to it."""
    said = config.stash.setdefault(_SAID, {})
    first = said.setdefault(message, test)
    if first == test:
        return message
    head = message.splitlines()[0] if message.strip() else message
    return f"Not run: {head.rstrip('.:')} (told in full at {first}, above)."


@pytest.fixture(autouse=True)
def _fresh_trace_counter():
    chex.clear_trace_counter()
    yield


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    excinfo = call.excinfo
    if report.failed and excinfo is not None:
        if excinfo.errisinstance(limits.LimitExceeded):
            item.config.stash[_STOPPED][exercise_info(item)[0]] = item.name
            report.longrepr = str(excinfo.value) + _stop_after_bound(item)
        elif excinfo.errisinstance(NotImplementedError):
            report.longrepr = _not_written_line(item, excinfo)
        elif excinfo.errisinstance(targets.MissingExercise):
            report.longrepr = str(excinfo.value)
        elif not excinfo.errisinstance((AssertionError, pytest.fail.Exception, pytest.skip.Exception)):
            concise = _raised_in_target(item, excinfo) or _raised_by_jax(excinfo)
            if concise:
                report.longrepr = concise
    _record(item, report)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """A lesson test runs inside the kit's bounds (`grader.learner.limits`); inside the class grader's
    sandbox the grader's own clocks bound it instead."""
    bounds = item.config.stash.get(_BOUNDS, None)
    if bounds is None or _lesson_of(item) is None:
        return (yield)
    exercise = exercise_info(item)[0]

    in_kernel = item.config.getoption("target") == targets.IN_PROCESS

    def describe(kind: str, amount: float) -> str:
        return limits.stopped_message(exercise, item.name, kind, amount, in_notebook=in_kernel)

    _write_results(item.config)
    _save_state(item.config)
    with bounds.watch(describe, _new_result(item), item.config.getoption("results")):
        return (yield)


def _stop_after_bound(item) -> str:
    """In a notebook's check cell, a stopped test ends the check: the cell's time stays within about
    one bound however many of the exercise's tests would loop. Elsewhere the run goes on, unless
    the stopped work still runs in the background."""
    if item.config.getoption("target") == targets.IN_PROCESS:
        item.session.shouldstop = "a test went past its bounds"
        return ""
    return _stop_if_still_busy(item)


def _stop_if_still_busy(item) -> str:
    """After a test stopped at its bound: when what it started still runs in the background, this
    process ends after this test (without waiting for that work), and the rest of the run goes on
    in a fresh one where it can (`grader.learner.resume`)."""
    if not limits.busy_in_background():
        return ""
    item.session.shouldstop = "a test went past its bounds and its work still runs in the background"
    item.config.stash[_ABANDONED] = True
    if _STATE in item.config.stash:
        return "\n  The stopped work (a compile) still runs in the background, so the next tests run in a fresh process."
    return ("\n  The rest of this run was skipped: the stopped work (a compile) still runs in the background. "
            "Fix this exercise, then run the tests again.")


def _target_frames(item, excinfo) -> tuple[Path | None, list]:
    """The traceback entries that run in the module under test, innermost last."""
    path = item.stash.get(_EX_PATH, None)
    if path is None:
        return None, []
    path = path.resolve()
    return path, [e for e in excinfo.traceback if Path(str(e.path)).resolve() == path]


def _qualname(entry) -> str:
    name = getattr(entry.frame.code.raw, "co_qualname", entry.frame.code.name)
    return name.split(".<locals>.")[-1]


def _not_written_line(item, excinfo) -> str:
    path, frames = _target_frames(item, excinfo)
    if path is None:
        return f"`{exercise_info(item)[0]}` is not written yet."
    for entry in reversed(frames):
        if entry.frame.code.name != "<module>":
            return f"`ex.{_qualname(entry)}` in {targets.display(path)} is not written yet."
    return f"{targets.display(path)} is not written yet (it raises NotImplementedError)."


MAX_MESSAGE_LINES = 8


def _raised_in_target(item, excinfo) -> str | None:
    """An error raised while the learner's code ran, told from the learner's line rather than through
    the library frames beneath it (JAX and Flax errors can run to dozens of frames)."""
    path, frames = _target_frames(item, excinfo)
    if not frames:
        return None
    entry = frames[-1]
    try:
        code = str(entry.statement).strip().splitlines()[0]
    except Exception:  # no source available
        code = ""
    where = f"{targets.display(path)}, line {entry.lineno + 1}, in {_qualname(entry)}"
    return (f"Your code raised {excinfo.type.__name__}: {_error_text(excinfo)}\n"
            f"  at {where}" + (f":\n    {code}" if code else "") + _kit_hint(excinfo))


def _error_text(excinfo) -> str:
    lines = str(excinfo.value).strip().splitlines() or [""]
    return "\n    ".join(lines[:MAX_MESSAGE_LINES]) + ("\n    ..." if len(lines) > MAX_MESSAGE_LINES else "")


def _kit_hint(excinfo) -> str:
    explanation = jax_errors.explain(excinfo.value)
    return f"\n  hint: {explanation}" if explanation else ""


def _raised_by_jax(excinfo) -> str | None:
    """A known JAX error raised while a test transformed the learner's function, out of the
    learner's frames (jax.grad of a function with two outputs, a collective with no axis)."""
    hint = _kit_hint(excinfo)
    return f"JAX raised {excinfo.type.__name__}: {_error_text(excinfo)}{hint}" if hint else None


def _new_result(item) -> dict | None:
    lesson = _lesson_of(item)
    if lesson is None:
        return None
    name, points = exercise_info(item)
    return {"lesson": lesson.number, "topic": lesson.topic, "test": item.name, "exercise": name,
            "points": points, "outcome": "not run", "message": "", "nodeid": item.nodeid}


def _record(item, report) -> None:
    results = item.config.stash[_RESULTS]
    if item.nodeid not in results:
        results[item.nodeid] = _new_result(item)
    result = results[item.nodeid]
    if result is None:
        return
    if report.when == "call" or (report.when == "setup" and not report.passed):
        if report.passed:
            result["outcome"], result["message"] = "passed", ""
        elif report.skipped:
            result["outcome"] = "skipped"
        else:
            result["outcome"] = "failed" if report.when == "call" else "error"
            result["message"] = _short_message(report)
    elif report.when == "teardown" and report.failed and result["outcome"] == "passed":
        result["outcome"] = "error"
        result["message"] = _short_message(report)


MAX_MESSAGE_CHARS, MAX_LINE_CHARS = 2000, 480


def _short_message(report) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    text = crash.message if crash is not None else str(report.longrepr)
    return shorten(text)


def shorten(text: str) -> str:
    """A message cut to fit a results file. Long lines (an array of a hundred numbers) are cut first,
    so the lines after them, the hint above all, are kept."""
    text = text.strip()
    if len(text) <= MAX_MESSAGE_CHARS:
        return text
    lines = [line if len(line) <= MAX_LINE_CHARS else line[:MAX_LINE_CHARS - 4] + " ..." for line in text.splitlines()]
    return "\n".join(lines)[:MAX_MESSAGE_CHARS]


def lesson_scores(results: dict) -> dict[tuple[str, str], tuple[int, int]]:
    scores: dict[tuple[str, str], list[int]] = {}
    for r in results.values():
        if r is None:
            continue
        earned_total = scores.setdefault((r["lesson"], r["topic"]), [0, 0])
        earned_total[1] += r["points"]
        if r["outcome"] == "passed":
            earned_total[0] += r["points"]
    return {k: (v[0], v[1]) for k, v in sorted(scores.items())}


def _stream(config, event: dict) -> None:
    if config.getoption("stream"):
        from grader.classroom import channel

        if channel.writer() is None:
            raise pytest.UsageError("--stream works only inside the class grader's sandbox")
        channel.writer().event(**event)


def _step(nodeid: str) -> str | None:
    lesson = targets.lesson_of_test_file(Path(nodeid.split("::", 1)[0]))
    return f"test:{lesson.number}:{nodeid.split('::', 1)[1]}" if lesson and "::" in nodeid else None


class _UnwrittenLesson(pytest.File):
    """A lesson test file whose target has not written any exercise yet: its graded tests, read from
    the file without importing it (nor the flax or optax it imports), each reported not written."""

    def collect(self):
        from grader.learner import points

        for test in points.graded_tests(self.path):
            item = _UnwrittenTest.from_parent(self, name=test.name)
            item.add_marker(pytest.mark.exercise(test.exercise, points=test.points, concept=test.concept))
            yield item


class _UnwrittenTest(pytest.Item):
    def runtest(self):  # never reached: pytest_runtest_protocol reports it before it runs
        raise NotImplementedError(_unwritten_message(self))

    def reportinfo(self):
        return self.path, None, self.name


def pytest_pycollect_makemodule(module_path, parent):
    """Collect an untouched lesson without importing its test module (see `_UnwrittenLesson`)."""
    from grader.learner import points

    path = _module_read_ahead(parent.config, targets.lesson_of_test_file(Path(module_path)))
    if path is None:
        return None
    try:
        exercises = {t.exercise for t in points.graded_tests(Path(module_path))}
    except (ValueError, OSError, SyntaxError):
        return None
    if exercises and all(targets.unwritten(path, name) for name in exercises):
        return _UnwrittenLesson.from_parent(parent, path=Path(module_path))
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item, nextitem):
    """An unwritten exercise costs nothing: its tests are reported failed at once, before any
    fixture builds data, models or programs (not in the class grader's sandbox, which streams
    every step)."""
    message = _answer_without_running(item)
    if message is None:
        return None
    ihook = item.ihook
    ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    keywords = {name: 1 for name in item.keywords}
    for when, outcome, longrepr in (("setup", "passed", None), ("call", "failed", message),
                                    ("teardown", "passed", None)):
        report = pytest.TestReport(item.nodeid, item.location, keywords, outcome, longrepr, when)
        _record(item, report)
        ihook.pytest_runtest_logreport(report=report)
    ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
    return True


def _answer_without_running(item) -> str | None:
    """A test whose outcome is known before it runs: one stopped in a process that had to be ended
    (its message comes from that process), a later test of an exercise already stopped at a bound
    (the exercise costs the bound once), or an unwritten exercise."""
    earlier = item.config.stash.get(_PRIOR, {}).get(item.nodeid)
    if earlier is not None and not earlier.get("reported", True):
        return earlier["message"]
    exercise = exercise_info(item)[0] if _lesson_of(item) is not None else None
    stopped_in = item.config.stash[_STOPPED].get(exercise)
    if stopped_in is not None and stopped_in != item.name:
        return (f"Not run: `{exercise}` was stopped in {stopped_in} (see above), so its other tests wait "
                "until it runs within the bounds.")
    return _unwritten_message(item)


def _module_read_ahead(config, lesson: targets.Lesson | None) -> Path | None:
    """The target's module file, where it may be read before the tests run to report unwritten
    exercises at once: not for a notebook's functions, nor in the class grader's sandbox."""
    target = config.getoption("target")
    if lesson is None or target == targets.IN_PROCESS or config.getoption("stream"):
        return None
    try:
        return lesson.module_in(targets.resolve_target(target, config.invocation_params.dir))
    except targets.TargetError:
        return None


def _unwritten_message(item) -> str | None:
    path = _module_read_ahead(item.config, _lesson_of(item))
    if path is None:
        return None
    part = targets.unwritten(path, exercise_info(item)[0])
    return f"`ex.{part}` in {targets.display(path)} is not written yet." if part else None


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    step = _step(item.nodeid)
    if step:
        _stream(item.config, {"ev": "start", "step": step})


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item, nextitem):
    step = _step(item.nodeid)
    result = item.config.stash[_RESULTS].get(item.nodeid)
    if step and result:
        _stream(item.config, {"ev": "done", "step": step, "outcome": result["outcome"], "message": result["message"]})


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    scores = lesson_scores(config.stash[_RESULTS])
    if not scores:
        return
    target = config.getoption("target")
    from grader.learner import points

    terminalreporter.section(f"points ({target})", sep="-")
    for (number, topic), (earned, total) in scores.items():
        terminalreporter.write_line(f"lesson {number} {topic:<14} {earned:>3} / {total} points")
        if target == "lessons" and earned == total == points.lesson_total(targets.Lesson(number, topic)):
            terminalreporter.write_line(f"All passed: python -m grader check {number} shows what to remember.")


def pytest_sessionfinish(session, exitstatus):
    session.config.stash[_EXIT_STATUS] = int(exitstatus)
    _write_results(session.config)
    _save_state(session.config)


def _save_state(config) -> None:
    state = config.stash.get(_STATE, None)
    if state is not None:
        done = [r for r in config.stash[_RESULTS].values() if r is not None and r["outcome"] != "not run"]
        resume.save(state, done, config.stash[_STOPPED])


def _write_results(config) -> None:
    path = config.getoption("results")
    if not path:
        return
    results = [r for r in config.stash[_RESULTS].values() if r is not None]
    payload = {"target": config.getoption("target"), "tests": results}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(payload, indent=1))
    tmp.replace(path)
