"""Records, in the class grader's shape, read from a course graded with stock nbgrader: the outputs of
each autograded notebook's check cells (``COURSE/autograded/<student>/lessonNN/*.ipynb``).

A check cell prints a line per test (``failed  test_swap (2 points)``) and, indented under a failure,
its message (`grader.learner.nbcheck.check`); a check cell that raised instead gives every test of
its exercise that error. These records feed the misconception report only: the grades are
nbgrader's, in its gradebook.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from grader.learner import points, targets

_LINE = re.compile(r"^(passed|failed|not run)\s+(\w+) \((\d+) points?\)$")
_INDENT = " " * 8
NOTEBOOK_MOST = 64 << 20  # bytes: a larger notebook is left out, not read


def is_course(path: Path) -> bool:
    return (Path(path) / "autograded").is_dir()


def records(course: Path) -> list[dict]:
    by_student: dict[str, dict[str, tuple[targets.Lesson, list[dict]]]] = {}
    for student, lesson, notebook in _notebooks(course):
        by_student.setdefault(student, {}).setdefault(lesson.number, (lesson, []))[1].extend(_tests(notebook, lesson))
    found = []
    for student, tests_of in by_student.items():
        lessons = {number: {"topic": lesson.topic, "earned": sum(t["earned"] for t in tests),
                            "total": sum(t["points"] for t in tests), "tests": tests}
                   for number, (lesson, tests) in tests_of.items() if tests}
        if lessons:
            found.append({"student": student, "lessons": lessons,
                          "earned": sum(l["earned"] for l in lessons.values()),
                          "total": sum(l["total"] for l in lessons.values())})
    return found


def sources(course: Path) -> dict[str, dict[str, str]]:
    """{lesson: {student: the module its notebook makes}} (solution and given cells, in order)."""
    from grader.classroom import submissions

    found: dict[str, dict[str, str]] = {}
    for student, lesson, notebook in _notebooks(course):
        try:
            module = submissions.module_from_notebook(notebook)
        except (ValueError, KeyError, TypeError, AttributeError):
            continue
        found.setdefault(lesson.number, {})[student] = module
    return found


def _notebooks(course: Path):
    """(student, lesson, notebook) for each autograded notebook that can be read: a folder per
    student, one per lesson (lessonNN), no links, none over NOTEBOOK_MOST, in sorted order."""
    for student_dir in sorted((Path(course) / "autograded").iterdir()):
        if not student_dir.is_dir() or student_dir.is_symlink():
            continue
        for assignment in sorted(student_dir.iterdir()):
            lesson = _lesson_of(assignment.name)
            for path in sorted(assignment.glob("*.ipynb")) if lesson is not None else ():
                if path.is_symlink() or path.stat().st_size > NOTEBOOK_MOST:
                    continue
                try:
                    notebook = json.loads(path.read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    continue
                if isinstance(notebook, dict):
                    yield student_dir.name, lesson, notebook


def _lesson_of(name: str) -> targets.Lesson | None:
    match = re.fullmatch(r"lesson(\d\d)", name)
    if not match:
        return None
    try:
        return targets.find_lesson(match.group(1))
    except (KeyError, ValueError, LookupError):
        return None


def _tests(notebook: dict, lesson: targets.Lesson) -> list[dict]:
    cells = notebook.get("cells") or []
    graded = {}
    for test in points.graded_tests(lesson.test_file):
        graded.setdefault(test.exercise, []).append(test)
    found = []
    for cell in cells:
        meta = (cell.get("metadata") or {}).get("nbgrader") or {}
        exercise = str(meta.get("grade_id", "")).removesuffix("-tests")
        if not meta.get("grade") or exercise not in graded:
            continue
        found += _cell_tests(cell.get("outputs") or [], exercise, graded[exercise])
    return found


def _cell_tests(outputs: list, exercise: str, tests: list) -> list[dict]:
    text = "".join(_text(o.get("text", "")) for o in outputs if o.get("output_type") == "stream")
    said: dict[str, tuple[str, list[str]]] = {}
    current = None
    for line in text.splitlines():
        match = _LINE.match(line)
        if match:
            current = match.group(2)
            said[current] = (match.group(1), [])
        elif current is not None and line.startswith(_INDENT):
            said[current][1].append(line[len(_INDENT):])
    error = next((f"{o.get('ename', 'Error')}: {o.get('evalue', '')}" for o in outputs
                  if o.get("output_type") == "error"), None)
    rows = []
    for test in tests:
        word, message = said.get(test.name, (None, []))
        if word is None:
            message = [error or "the check cell did not run"]
        rows.append({"test": test.name, "exercise": exercise, "points": test.points,
                     "earned": test.points if word == "passed" else 0, "message": "\n".join(message)})
    return rows


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)
