"""What a grading run writes: one folder a student, and the class's ``grades.csv``.

``OUT/students/<id>/result.json``  the full record (every test: points earned and the message)
``OUT/students/<id>/feedback.md``  the same, written for the student
``OUT/students/<id>/results.json`` Gradescope's autograder format
``OUT/grades.csv``                 student_id, points per lesson, total

Every file is written to a temporary name and renamed, so a run stopped at any moment leaves each
student either fully graded or not graded at all.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
from pathlib import Path

RESULT = "result.json"
_PLAIN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}$")


def atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def folder_name(student: str) -> str:
    """A folder name for any student id: the id itself when it is plain, else a readable part and a
    hash of the whole id ("John Smith" -> "John_Smith-1a2b3c4d"). Ids are data; they are never
    dropped or used as paths unchanged."""
    if _PLAIN_ID.match(student):
        return student
    readable = re.sub(r"[^A-Za-z0-9._@+-]+", "_", student).strip("._-")[:60] or "student"
    return f"{readable}-{hashlib.sha256(student.encode('utf-8', 'surrogatepass')).hexdigest()[:8]}"


def student_dir(out: Path, student: str) -> Path:
    return Path(out) / "students" / folder_name(student)


def write_student(out: Path, record: dict) -> None:
    folder = student_dir(out, record["student"])
    atomic_write(folder / "feedback.md", feedback(record))
    atomic_write(folder / "results.json", json.dumps(gradescope(record), indent=1))
    atomic_write(folder / RESULT, json.dumps(record, indent=1))  # last: its presence means "graded"


def read_results(out: Path) -> list[dict]:
    records = []
    for path in sorted((Path(out) / "students").glob(f"*/{RESULT}")):
        try:
            records.append(json.loads(path.read_text(encoding="utf-8")))
        except ValueError:
            continue
    return records


def feedback(record: dict) -> str:
    lines = [f"# Feedback for {record['student']}", "",
             f"**{record['earned']} / {record['total']} points**", ""]
    for number, lesson in record["lessons"].items():
        lines += [f"## Lesson {number} ({lesson['topic']}): {lesson['earned']} / {lesson['total']}", ""]
        if lesson.get("tamper"):
            lines += ["The notebook changed what grades it (the grader graded your solution cells with the "
                      "lesson's own tests, so none of this changed your score):", "",
                      *(f"- {change}" for change in lesson["tamper"]), ""]
        for test in lesson["tests"]:
            mark = "passed" if test["earned"] == test["points"] else "failed"
            lines.append(f"- {mark}: `{test['test']}` ({test['exercise']}), {test['earned']} / {test['points']}")
            if test["message"] and mark == "failed":
                lines += ["", "  ```", *("  " + line for line in test["message"].splitlines()), "  ```", ""]
        lines.append("")
    return "\n".join(lines)


def gradescope(record: dict) -> dict:
    tests = []
    for number, lesson in record["lessons"].items():
        for test in lesson["tests"]:
            tests.append({"name": f"lesson {number} {test['test']}", "score": test["earned"],
                          "max_score": test["points"], "status": "passed" if test["earned"] == test["points"] else "failed",
                          "output": test["message"], "visibility": "visible"})
    return {"score": record["earned"], "execution_time": round(record.get("seconds", 0.0), 2), "tests": tests}


def grades_csv(records: list[dict], lessons: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student_id", *(f"lesson{n}" for n in lessons), "total"])
    for record in sorted(records, key=lambda r: r["student"]):
        row = [record["student"]]
        row += [record["lessons"].get(n, {}).get("earned", 0) for n in lessons]
        writer.writerow(row + [record["earned"]])
    return buffer.getvalue()


def write_grades(out: Path, lessons: list[str]) -> Path:
    path = Path(out) / "grades.csv"
    atomic_write(path, grades_csv(read_results(out), lessons))
    return path
