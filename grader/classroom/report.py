"""What a grading run writes: one folder a student, and the class's ``grades.csv``.

``OUT/students/<folder>/result.json``  the full record (every test: points earned and the message)
``OUT/students/<folder>/feedback.md``  the same, written for the student
``OUT/students/<folder>/results.json`` Gradescope's autograder format
``OUT/students/<folder>/graded/NN.py`` each lesson's module as it was graded
``OUT/grades.csv``                     student_id, points per lesson, total

A student's folder is their id when it is a plain one (``ada``), else a one-to-one spelling of it
(``John Smith`` -> ``^john%20^smith``, see `ids`): two ids never share a folder or a row.
Every file is written to a temporary name and renamed, so a run stopped at any moment leaves each
student either fully graded or not graded at all.
"""
from __future__ import annotations

import csv
import io
import json
import os
import re
from pathlib import Path

from grader.classroom import ids

RESULT = "result.json"
GRADED = "graded"  # students/<folder>/graded/NN.py: each lesson's module as it was graded


def atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def folder_name(student: str) -> str:
    """The name of `student`'s folder: one-to-one and safe on any disk, the id itself when it is a
    plain one (`ids.folder`). Ids are data; they are never dropped or used as paths unchanged."""
    return ids.folder(student)


def student_of_folder(name: str) -> str | None:
    """The id whose folder is `name` (the inverse of `folder_name`), None if there is none."""
    return ids.from_folder(name)


def student_dir(out: Path, student: str) -> Path:
    return Path(out) / "students" / folder_name(student)


def write_student(out: Path, record: dict, sources: dict[str, bytes] | None = None) -> None:
    """A student's files; `sources` ({lesson: the module graded}) go to graded/NN.py, for the
    instructor to read and for the class report's likeness check."""
    folder = student_dir(out, record["student"])
    for number, data in sorted((sources or {}).items()):
        atomic_write(folder / GRADED / f"{number}.py", data.decode("utf-8", "replace"))
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


LEFT_OUT = ("Your file has syntax errors, so it was graded one top-level definition at a time, without "
            "the ones that don't compile (their tests fail):")


def feedback(record: dict) -> str:
    """The student's feedback.md. Every text in it that a submission can influence (a message, an
    exception's text, a notebook's cell names, the id) is data: messages are fenced so that nothing
    in them can close the fence, other text is escaped so that it renders as itself."""
    lines = [f"# Feedback for {inline(record['student'])}", "",
             f"**{record['earned']} / {record['total']} points**", ""]
    for number, lesson in record["lessons"].items():
        lines += [f"## Lesson {inline(number)} ({inline(lesson['topic'])}): {lesson['earned']} / {lesson['total']}", ""]
        if lesson.get("tamper"):
            lines += ["The notebook changed what grades it (the grader graded your solution cells with the "
                      "lesson's own tests, so none of this changed your score):", "",
                      *(f"- {with_code(change)}" for change in lesson["tamper"]), ""]
        if lesson.get("left_out"):
            lines += [LEFT_OUT, "", *(f"- {with_code(note)}" for note in lesson["left_out"]), ""]
        for test in lesson["tests"]:
            mark = "passed" if test["earned"] == test["points"] else "failed"
            lines.append(f"- {mark}: {code(test['test'])} ({inline(test['exercise'])}), "
                         f"{test['earned']} / {test['points']}")
            if test["message"] and mark == "failed":
                lines += ["", *fenced(test["message"], indent="  "), ""]
        lines.append("")
    return "\n".join(lines)


_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}


def writable(value) -> str:
    """`value` as text that UTF-8 can write: a lone surrogate (in an id made by hand, never by
    discovery) is written as its escape, \\udcXX."""
    return str(value).encode("utf-8", "backslashreplace").decode("utf-8")


def _visible(char: str) -> str:
    """A character that would break a line or hide itself (a control, a line separator) as its escape."""
    return char if char == " " or char.isprintable() else char.encode("unicode_escape").decode("ascii")


def inline(text) -> str:
    """`text` as Markdown that renders as itself, on one line: HTML's characters as entities, any
    other ASCII punctuation backslash-escaped, line breaks and controls as escapes (\\n)."""
    out = []
    for char in writable(text):
        if char in _HTML:
            out.append(_HTML[char])
        elif char.isascii() and char.isprintable() and not char.isalnum() and char != " ":
            out.append("\\" + char)
        else:
            out.append(_visible(char))
    return "".join(out)


def code(text) -> str:
    """`text` as a Markdown code span that no backtick in it can close, on one line."""
    text = "".join(_visible(c) for c in writable(text))
    fence = "`" * (max(map(len, re.findall("`+", text)), default=0) + 1)
    pad = " " if text[:1] in ("`", " ") or text[-1:] in ("`", " ") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def with_code(note) -> str:
    """A note of the grader's own, whose `names` are code spans: the names as code, the rest inline."""
    parts = writable(note).split("`")
    if len(parts) % 2 == 0:  # an unpaired backtick: no part is sure to be a name
        return inline(note)
    return "".join(code(part) if i % 2 else inline(part) for i, part in enumerate(parts))


def fenced(text, indent: str = "") -> list[str]:
    """`text` as a fenced code block whose fence is longer than any run of backticks in it, so no
    line of it can close the block (and HTML or Markdown in it renders as text)."""
    text = writable(text)
    fence = "`" * max(3, max(map(len, re.findall("`+", text)), default=0) + 1)
    return [indent + fence, *(indent + line for line in text.splitlines()), indent + fence]


def gradescope(record: dict) -> dict:
    """Gradescope's results.json. Every output is plain text (`output_format`), so nothing a
    message holds renders as HTML or Markdown there."""
    tests = []
    for number, lesson in record["lessons"].items():
        for test in lesson["tests"]:
            tests.append({"name": f"lesson {number} {test['test']}", "score": test["earned"],
                          "max_score": test["points"], "status": "passed" if test["earned"] == test["points"] else "failed",
                          "output": test["message"], "output_format": "text", "visibility": "visible"})
    result = {"score": record["earned"], "execution_time": round(record.get("seconds", 0.0), 2),
              "output_format": "text", "test_output_format": "text", "tests": tests}
    left_out = [f"Lesson {number}: {note}" for number, lesson in record["lessons"].items()
                for note in lesson.get("left_out", [])]
    if left_out:
        result["output"] = "\n".join([LEFT_OUT, *left_out])
    return result


def grades_csv(records: list[dict], lessons: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student_id", *(f"lesson{n}" for n in lessons), "total"])
    for record in sorted(records, key=lambda r: r["student"]):
        row = [writable(record["student"])]  # an id is written as it is; ids are one to one (`ids`)
        if record.get("error"):  # the grader's failure is no grade: empty cells, and a rerun grades it
            writer.writerow(row + [""] * (len(lessons) + 1))
            continue
        row += [record["lessons"].get(n, {}).get("earned", 0) for n in lessons]
        writer.writerow(row + [record["earned"]])
    return buffer.getvalue()


def write_grades(out: Path, lessons: list[str]) -> Path:
    path = Path(out) / "grades.csv"
    atomic_write(path, grades_csv(read_results(out), lessons))
    return path
