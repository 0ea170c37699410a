"""The graded cells of the course notebooks: run one exercise's tests, from the lesson's own test
file, against the functions the notebook defined, and give back the points earned.

A grade cell is ``import grader.learner.nbcheck as _grading`` then ``_grading.check("03", "td_loss")``: the
import statement can't be redirected by a name the notebook defines, and ``check`` finds the
notebook's functions in its caller's globals. Its value, the points earned, is the cell's result:
nbgrader reads its plain text (the bare number) as partial credit, and Jupyter shows the richer
line ("`set_first`: 2 / 3 points"). Each test is bounded as in a pytest run (`grader.learner.limits`; a cell of
the learner's own changes the bounds with ``check(..., time_limit=SECONDS, memory_limit=SIZE)``, or
for every check cell with ``%env JAX_LESSONS_TIME_LIMIT=SECONDS`` / ``JAX_LESSONS_MEMORY_LIMIT``), and
after a test is stopped at its bound the exercise's other tests don't run, so a check cell ends
within about one bound. The last cell of a notebook calls ``total``, which sums the checks run so
far in the kernel without running anything again. pytest runs in this process with its output
captured, so a warning raised by a correct answer never reaches the cell's stderr (nbgrader scores a
grade cell that writes to stderr as 0); the failing tests' messages are printed to stdout instead.
"""
from __future__ import annotations

import contextlib
import io
import json
import sys
import tempfile
import types
from pathlib import Path

from grader.learner import points, runs, targets


STOPPED = "was stopped:"  # in the message of a test stopped at its bound (grader.learner.limits)


class Points(int):
    """The points a check cell earned: the bare number as plain text (nbgrader's partial credit),
    the exercise and its total where a notebook can show more."""

    def __new__(cls, earned: int, total: int, exercise: str):
        points_ = super().__new__(cls, earned)
        points_.total, points_.exercise = total, exercise
        return points_

    def __repr__(self) -> str:
        return int.__repr__(self)

    def _repr_markdown_(self) -> str:
        return f"`{self.exercise}`: **{int(self)} / {self.total}** points"


_checked: dict[str, dict[str, Points]] = {}  # lesson number -> exercise -> its latest check


def notebook_module(number: str, namespace: dict) -> types.ModuleType:
    module = types.ModuleType(f"notebook_lesson{number}")
    module.__dict__.update({k: v for k, v in namespace.items() if not k.startswith("__")})
    return module


def run_exercise(number: str, exercise: str, namespace: dict, bounds: list[str] = ()) -> tuple[int, int, list[dict]]:
    """(earned, total, results) for one exercise's tests against ``namespace``; ``bounds``: the
    pytest options that set each test's bounds (`runs.bound_args`)."""
    import pytest

    lesson = targets.find_lesson(number)
    tests = [t for t in points.graded_tests(lesson.test_file) if t.exercise == exercise]
    if not tests:
        raise ValueError(f"lesson {lesson.number} has no exercise {exercise!r}")
    targets.register_in_process(lesson.number, notebook_module(lesson.number, namespace))
    with tempfile.TemporaryDirectory(prefix="jaxkit-nb-") as tmp:
        results = Path(tmp) / "results.json"
        args = [str(lesson.test_file), "-k", " or ".join(t.name for t in tests), "--target", targets.IN_PROCESS,
                "--results", str(results), "-q", "-p", "no:cacheprovider", "-W", "ignore",
                f"--rootdir={lesson.test_file.parent.parent.parent}", *bounds]
        sink = io.StringIO()
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            pytest.main(args)
        found = json.loads(results.read_text())["tests"] if results.exists() else []
    by_name = {r["test"]: r for r in found if r.get("outcome") != "not run"}
    earned = sum(t.points for t in tests if by_name.get(t.name, {}).get("outcome") == "passed")
    stopped = any(STOPPED in str(r.get("message", "")) for r in found)
    why = ("not run: an earlier test of this exercise was stopped at its bound" if stopped
           else "the test did not run")
    ordered = [by_name.get(t.name, {"test": t.name, "points": t.points, "outcome": "not run",
                                     "message": why}) for t in tests]
    return earned, sum(t.points for t in tests), ordered


def check(number: str, exercise: str, namespace: dict | None = None, *,
          time_limit: float | None = None, memory_limit: str | None = None) -> Points:
    """Run `exercise`'s tests against the calling notebook's functions (or `namespace`). Each test
    is bounded as `pytest --time-limit SECONDS --memory-limit SIZE` would bound it; a bound not
    given here comes from JAX_LESSONS_TIME_LIMIT / JAX_LESSONS_MEMORY_LIMIT, else the default."""
    if namespace is None:
        namespace = sys._getframe(1).f_globals
    bounds = runs.bound_args(time_limit, memory_limit)
    earned, total, results = run_exercise(number, exercise, namespace, bounds)
    for r in results:
        word = "passed" if r["outcome"] == "passed" else "failed" if r["outcome"] != "not run" else "not run"
        line = f"{word:<8}{r['test']} ({r['points']} points)"
        if r["outcome"] != "passed":
            line += "\n        " + r["message"].replace("\n", "\n        ")
        print(line)
    result = Points(earned, total, exercise)
    _checked.setdefault(targets.find_lesson(number).number, {})[exercise] = result
    return result


class LessonTotal:
    """The total cell's value: the points of the checks run so far, and the exercises not checked."""

    def __init__(self, number: str, rows: list[tuple[str, Points | None, int]]):
        self.number, self.rows = number, rows
        self.earned = sum(int(p) for _, p, _ in rows if p is not None)
        self.total = sum(t for _, _, t in rows)
        self.unchecked = [name for name, p, _ in rows if p is None]

    def _lines(self) -> list[str]:
        lines = [f"Lesson {self.number}: {self.earned} / {self.total} points"]
        if self.unchecked:
            lines.append("not checked yet (run their check cells): " + ", ".join(f"`{n}`" for n in self.unchecked))
        elif self.earned == self.total:
            lines.append("Every exercise passes. Well done!")
        return lines

    def __repr__(self) -> str:
        rows = [f"  {name:<24}{'-' if p is None else int(p):>3} / {t}" for name, p, t in self.rows]
        return "\n".join(self._lines()[:1] + rows + self._lines()[1:])

    def _repr_markdown_(self) -> str:
        table = ["| exercise | points |", "|---|---|"] + [
            f"| `{name}` | {'not checked' if p is None else f'{int(p)} / {t}'} |" for name, p, t in self.rows]
        head, *rest = self._lines()
        return "\n".join([f"**{head}**", "", *table, "", *rest])


def total(number: str) -> LessonTotal:
    """The lesson's points from the check cells run so far in this kernel (nothing runs again)."""
    lesson = targets.find_lesson(number)
    done = _checked.get(lesson.number, {})
    rows = [(name, done.get(name), pts) for name, pts in points.exercise_points(lesson).items()]
    return LessonTotal(lesson.number, rows)
