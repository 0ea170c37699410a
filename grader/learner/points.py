"""Points, read from the lesson test files without running them.

A graded test is a top-level ``def test_*`` decorated with ``@pytest.mark.exercise("name", points=N)``;
its points belong to that exercise. ``concept=True`` marks a concept check: a test of how the exercise
is written (one scan, a program that vmaps, one trace) rather than of the values it gives. The class
grader can only hear such a test's outcome from the student's process, so it counts a concept check
only where the grader found the same exercise's values right itself. Reading the decorators with ``ast`` makes a lesson's total known
without importing JAX or the learner's code.
"""
from __future__ import annotations

import ast
import threading
from dataclasses import dataclass
from pathlib import Path

from grader.learner.targets import Lesson, all_lessons


@dataclass(frozen=True)
class GradedTest:
    name: str
    exercise: str
    points: int
    concept: bool = False


class MarkerError(ValueError):
    pass


_PARSED: dict[tuple[str, str], list[GradedTest]] = {}
_PARSE_LOCK = threading.Lock()


def parse(source: str, filename: str = "<unknown>") -> ast.Module:
    """ast.parse under one lock for the whole grader: CPython 3.11's parser is not safe to run from two
    threads at once, and the class grader's workers read test files and references concurrently."""
    with _PARSE_LOCK:
        return ast.parse(source, filename=filename)


def graded_tests(test_file: Path) -> list[GradedTest]:
    """The file's graded tests, parsed once per content."""
    text = Path(test_file).read_text()
    key = (str(test_file), text)
    if key not in _PARSED:
        _PARSED[key] = _parse_graded_tests(text, test_file)
    return list(_PARSED[key])


def _parse_graded_tests(text: str, test_file: Path) -> list[GradedTest]:
    tree = parse(text, filename=str(test_file))
    found = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
            marks = [_exercise_mark(d) for d in node.decorator_list]
            marks = [m for m in marks if m is not None]
            if len(marks) != 1:
                raise MarkerError(
                    f"{test_file}:{node.lineno}: {node.name} needs exactly one "
                    f"@pytest.mark.exercise(\"name\", points=N) (found {len(marks)})."
                )
            found.append(GradedTest(node.name, *marks[0]))
    return found


def _exercise_mark(decorator: ast.expr) -> tuple[str, int, bool] | None:
    if not (isinstance(decorator, ast.Call) and ast.unparse(decorator.func) == "pytest.mark.exercise"):
        return None
    args = [ast.literal_eval(a) for a in decorator.args]
    kwargs = {k.arg: ast.literal_eval(k.value) for k in decorator.keywords}
    exercise = args[0] if args else kwargs.get("name")
    points = kwargs.get("points", args[1] if len(args) > 1 else 1)
    concept = kwargs.get("concept", False)
    if (not isinstance(exercise, str) or not isinstance(points, int) or points < 1
            or not isinstance(concept, bool) or set(kwargs) - {"name", "points", "concept"}):
        raise MarkerError(f"bad exercise marker: {ast.unparse(decorator)}")
    return exercise, points, concept


def lesson_total(lesson: Lesson) -> int:
    return sum(t.points for t in graded_tests(lesson.test_file))


def exercise_points(lesson: Lesson) -> dict[str, int]:
    """Points per exercise, in the order the tests first name them."""
    totals: dict[str, int] = {}
    for t in graded_tests(lesson.test_file):
        totals[t.exercise] = totals.get(t.exercise, 0) + t.points
    return totals


def course_totals() -> dict[str, int]:
    return {lesson.number: lesson_total(lesson) for lesson in all_lessons()}
