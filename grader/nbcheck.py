"""The graded cells of the course notebooks: run one exercise's tests, from the lesson's own test
file, against the functions the notebook defined, and give back the points earned.

A grade cell is ``import grader.nbcheck as _grading`` then ``_grading.check("03", "td_loss")``: the
import statement can't be redirected by a name the notebook defines, and ``check`` finds the
notebook's functions in its caller's globals. Its value, the points earned, is the cell's result,
which nbgrader reads as partial credit. pytest runs in this process with its output
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

from grader import points, targets


def notebook_module(number: str, namespace: dict) -> types.ModuleType:
    module = types.ModuleType(f"notebook_lesson{number}")
    module.__dict__.update({k: v for k, v in namespace.items() if not k.startswith("__")})
    return module


def run_exercise(number: str, exercise: str, namespace: dict) -> tuple[int, int, list[dict]]:
    """(earned, total, results) for one exercise's tests against ``namespace``."""
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
                f"--rootdir={lesson.test_file.parent.parent.parent}"]
        sink = io.StringIO()
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            pytest.main(args)
        found = json.loads(results.read_text())["tests"] if results.exists() else []
    by_name = {r["test"]: r for r in found}
    earned = sum(t.points for t in tests if by_name.get(t.name, {}).get("outcome") == "passed")
    ordered = [by_name.get(t.name, {"test": t.name, "points": t.points, "outcome": "not run",
                                     "message": "the test did not run"}) for t in tests]
    return earned, sum(t.points for t in tests), ordered


def check(number: str, exercise: str, namespace: dict | None = None) -> int:
    """Run `exercise`'s tests against the calling notebook's functions (or `namespace`)."""
    if namespace is None:
        namespace = sys._getframe(1).f_globals
    earned, total, results = run_exercise(number, exercise, namespace)
    for r in results:
        if r["outcome"] == "passed":
            print(f"passed  {r['test']} ({r['points']} points)")
        else:
            print(f"failed  {r['test']} ({r['points']} points)\n        " + r["message"].replace("\n", "\n        "))
    print(f"`{exercise}`: {earned} / {total} points")
    return earned
