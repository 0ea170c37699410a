"""Learner stubs, generated from the reference solutions.

Each answer region in ``solutions/NN/<topic>.py`` sits between ``### BEGIN SOLUTION`` and
``### END SOLUTION`` lines (nbgrader's markers). The stub keeps everything else (imports,
signatures, docstrings) and puts nbgrader's own placeholder where each region was.
"""
from __future__ import annotations

from pathlib import Path

from grader import BUNDLED_ROOT
from grader.learner.targets import Lesson, all_lessons

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
PLACEHOLDER = ("# YOUR CODE HERE", "raise NotImplementedError()")


class MarkerError(ValueError):
    pass


def make_stub(source: str, filename: str = "<solution>") -> str:
    out: list[str] = []
    begin_line = None
    for number, line in enumerate(source.splitlines(keepends=True), start=1):
        marker = line.strip()
        if marker == BEGIN:
            if begin_line is not None:
                raise MarkerError(f"{filename}:{number}: {BEGIN} inside the region opened on line {begin_line}")
            begin_line = number
            indent = line[: len(line) - len(line.lstrip())]
            out.extend(f"{indent}{p}\n" for p in PLACEHOLDER)
        elif marker == END:
            if begin_line is None:
                raise MarkerError(f"{filename}:{number}: {END} without a {BEGIN}")
            begin_line = None
        elif begin_line is None:
            out.append(line)
    if begin_line is not None:
        raise MarkerError(f"{filename}:{begin_line}: {BEGIN} is never closed")
    if out == list(source.splitlines(keepends=True)):
        raise MarkerError(f"{filename}: no {BEGIN} region, so the stub would be the answer")
    return "".join(out)


def answer_lines(source: str) -> list[str]:
    """The code lines inside the answer regions (stripped; comments and blank lines left out)."""
    lines, inside = [], False
    for line in source.splitlines():
        marker = line.strip()
        if marker in (BEGIN, END):
            inside = marker == BEGIN
        elif inside and marker and not marker.startswith("#"):
            lines.append(marker)
    return lines


def stub_for(lesson: Lesson) -> str:
    """The lesson's untouched stub: made from the reference, or, where the references are not at hand
    (a workspace of the student package), the copy the package carries."""
    if lesson.solution_file.is_file():
        return make_stub(lesson.solution_file.read_text(), str(lesson.solution_file))
    bundled = BUNDLED_ROOT / "lessons" / lesson.number / f"{lesson.topic}.py"
    if not bundled.is_file():
        raise FileNotFoundError(f"There is no untouched copy of lesson {lesson.number}'s stub here.")
    return bundled.read_text()


def write_stubs(target_dir: Path | None = None, lessons: list[Lesson] | None = None) -> list[Path]:
    """Write every lesson's stub (into ``lessons/`` by default, or a target folder laid out like it)."""
    written = []
    for lesson in lessons or all_lessons():
        path = lesson.stub_file if target_dir is None else lesson.module_in(target_dir)
        path.parent.mkdir(parents=True, exist_ok=True)
        text = stub_for(lesson)
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
        written.append(path)
    return written


def stale_stubs() -> list[Lesson]:
    """Lessons whose committed stub differs from the one their solution generates."""
    return [l for l in all_lessons() if not l.stub_file.exists() or l.stub_file.read_text() != stub_for(l)]
