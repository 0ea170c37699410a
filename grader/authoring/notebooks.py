"""The nbgrader course's source notebooks, generated from each lesson's solution, README and tests.

One notebook a lesson, ``grader/course/source/lessonNN/lessonNN.ipynb``: the README as the text,
a set-up cell, the solution's imports, then for each exercise a solution cell (the reference with its
``### BEGIN/END SOLUTION`` markers, which ``nbgrader generate_assignment`` turns into stubs) followed by
a locked grade cell that runs that exercise's tests from the lesson's own test file (grader.learner.nbcheck).
Code that is not an exercise (helpers the lesson gives) goes in locked cells of its own.
"""
from __future__ import annotations

import ast
import json
from pathlib import Path

from grader import KIT_ROOT
from grader.learner import points, targets

COURSE_DIR = KIT_ROOT / "grader" / "course"
SOURCE_DIR = COURSE_DIR / "source"

SETUP = '''# Set-up (run this first). JAX gets 8 CPU devices and "highest" float32 matmul precision, as in
# the lessons' pytest runs; the platform follows JAX_PLATFORMS (cpu or cuda) if it is set.
try:
    from grader.learner import jax_setup
except ModuleNotFoundError:
    raise ModuleNotFoundError(
        "The check cells need the JAX lessons kit. Install the student package your course gives "
        "(in a cell: %pip install <its file or address>), then restart the kernel and run this cell again."
    ) from None

jax_setup.configure()'''

TOTAL = '''# Your lesson total: the points of the check cells you have run (it runs nothing again).
import grader.learner.nbcheck as _grading
_grading.total("{number}")'''


def grade_cell_source(number: str, exercise: str) -> str:
    """A grade cell's code. It reaches the checker through an import statement, which looks up only
    Python's own import machinery, never a name the notebook defined: a solution cell that defines
    its own `check` (or `globals`) can't redirect it."""
    return f'import grader.learner.nbcheck as _grading\n_grading.check("{number}", "{exercise}")'


LEGACY_GRADE_CELL = 'check("{number}", "{exercise}", globals())'  # in notebooks released before
LEGACY_SETUP = ('# Set-up (run this first). JAX gets 8 CPU devices and "highest" float32 matmul precision, as in\n'
                "# the lessons' pytest runs; the platform follows JAX_PLATFORMS (cpu or cuda) if it is set.\n"
                "from grader import jax_setup\n\njax_setup.configure()\nfrom grader.learner.nbcheck import check")


def assignment_name(lesson: targets.Lesson) -> str:
    return f"lesson{lesson.number}"


def notebook_path(lesson: targets.Lesson, source_dir: Path = SOURCE_DIR) -> Path:
    name = assignment_name(lesson)
    return source_dir / name / f"{name}.ipynb"


def _meta(cell_id: str, *, grade=False, solution=False, locked=False, points_=None) -> dict:
    meta = {"grade": grade, "grade_id": cell_id, "locked": locked, "schema_version": 3,
            "solution": solution, "task": False}
    if points_ is not None:
        meta["points"] = points_
    return {"nbgrader": meta}


def _cell(kind: str, source: str, cell_id: str, **meta) -> dict:
    cell = {"cell_type": kind, "id": cell_id, "metadata": _meta(cell_id, **meta) if meta else {},
            "source": source.strip("\n")}
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    return cell


def _chunks(source: str) -> tuple[str, list[tuple[str | None, str]]]:
    """The solution's imports, and its other top-level statements as (name or None, code) in order."""
    tree = ast.parse(source)
    lines = source.splitlines()
    imports, chunks = [], []
    body = tree.body[1:] if tree.body and isinstance(tree.body[0], ast.Expr) and isinstance(
        getattr(tree.body[0], "value", None), ast.Constant) else tree.body  # skip the module docstring
    starts = [min([d.lineno for d in getattr(n, "decorator_list", [])] + [n.lineno]) for n in body]
    for node, start, next_start in zip(body, starts, starts[1:] + [len(lines) + 1]):
        # a statement runs on to the next one: trailing comments (### END SOLUTION) belong to it
        text = "\n".join(lines[start - 1:next_start - 1]).rstrip()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            imports.append(text)
        else:
            name = node.name if isinstance(node, (ast.FunctionDef, ast.ClassDef)) else None
            chunks.append((name, text))
    return "\n".join(imports), chunks


def build(lesson: targets.Lesson) -> dict:
    exercise_points = points.exercise_points(lesson)
    imports, chunks = _chunks(lesson.solution_file.read_text())
    readme = lesson.dir / "README.md"
    cells = [
        _cell("markdown", readme.read_text() if readme.exists() else f"# Lesson {lesson.number}", "readme"),
        _cell("code", SETUP, "setup", locked=True),
        _cell("code", imports, "imports", locked=True),
    ]
    given = 0
    for name, text in chunks:
        if name in exercise_points:
            cells.append(_cell("code", text, f"{name}-code", solution=True))
            cells.append(_cell("code", grade_cell_source(lesson.number, name), f"{name}-tests",
                               grade=True, locked=True, points_=exercise_points[name]))
        else:
            given += 1
            cells.append(_cell("code", text, f"given-{given}", locked=True))
    cells.append(_cell("code", TOTAL.format(number=lesson.number), "total", locked=True))
    return {"cells": cells, "metadata": {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"}}, "nbformat": 4, "nbformat_minor": 5}


def render(lesson: targets.Lesson) -> str:
    return json.dumps(build(lesson), indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def write_notebooks(source_dir: Path = SOURCE_DIR, lessons: list[targets.Lesson] | None = None) -> list[Path]:
    written = []
    for lesson in lessons or targets.all_lessons():
        path = notebook_path(lesson, source_dir)
        path.parent.mkdir(parents=True, exist_ok=True)
        text = render(lesson)
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
        written.append(path)
    return written


def stale_notebooks() -> list[targets.Lesson]:
    return [l for l in targets.all_lessons()
            if not notebook_path(l).exists() or notebook_path(l).read_text() != render(l)]
