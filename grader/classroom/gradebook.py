"""The class grader's scores written into an nbgrader course's gradebook, so that ``nbgrader export``
and formgrader show them as if nbgrader had graded the notebooks.

Each exercise's points go to the auto score of its grade cell (``<exercise>-tests``) in the
assignment ``lessonNN``. The assignment must be in the gradebook already: ``nbgrader
generate_assignment`` puts it there when the lesson is released.
"""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path


def write(course: Path, records: list[dict]) -> list[str]:
    """Record every student's points; returns notes about what could not be written."""
    try:
        from nbgrader.api import Gradebook, MissingEntry
    except ImportError:
        raise ValueError("--gradebook needs nbgrader, part of the instructor's install: "
                         "pip install -e '.[instructor]' adds it.") from None

    notes: list[str] = []
    url = f"sqlite:///{Path(course).resolve() / 'gradebook.db'}"
    with Gradebook(url) as gb:
        for record in records:
            if record.get("error"):
                continue  # not a grade: the grader could not run it (a rerun grades it)
            student = record["student"]
            gb.update_or_create_student(student)
            for number, lesson in record["lessons"].items():
                if all(t["message"].startswith("not submitted") for t in lesson["tests"]):
                    continue
                assignment = f"lesson{number}"
                try:
                    gb.find_assignment(assignment)
                except MissingEntry:
                    note = f"{assignment} is not in {url}: release it with nbgrader generate_assignment first"
                    if note not in notes:
                        notes.append(note)
                    continue
                gb.update_or_create_submission(assignment, student)
                earned: dict[str, int] = defaultdict(int)
                for test in lesson["tests"]:
                    earned[test["exercise"]] += test["earned"]
                for exercise, score in earned.items():
                    try:
                        grade = gb.find_grade(f"{exercise}-tests", assignment, assignment, student)
                    except MissingEntry:
                        continue
                    grade.auto_score = float(score)
                    grade.needs_manual_grade = False  # graded here; nothing is left for a person
                gb.db.commit()
    return notes
