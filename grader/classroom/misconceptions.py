"""What a class got wrong, read from its graded records: for each lesson and exercise, the causes its
failing tests observed, ranked by how many students hit them.

A test's message names what the test saw ("It returned 0.25, but the tests expected 0.5: the argmax ran
over axis 0"). The cause is that observation with what differs from student to student taken out:
numbers, arrays, paths, and the hint that follows it. Its id is a hash of that wording with the lesson
and exercise, so the same cause keeps its id from one run, or one term, to the next.
"""
from __future__ import annotations

import csv
import hashlib
import io
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from grader.classroom import runner

COLUMNS = ["lesson", "exercise", "cause", "students", "share", "wording", "example"]
NOT_SUBMITTED = "not submitted"
UNATTEMPTED = (NOT_SUBMITTED, "is not written yet")  # the stub as handed out, or no file at all
_NUMBER = re.compile(r"(?<![\w`.])[-+]?(?:\d+(?:\.\d+)?|\.\d+)(?:e[-+]?\d+)?(?![\w`/])", re.IGNORECASE)
_POINT = re.compile(r"#\.(?=[,;:)\]])")  # NumPy's "1." beside "0.5"
_BRACKETS = re.compile(r"\[[^\[\]`]*\]")
_PATH = re.compile(r"(?:[A-Za-z]:)?(?:/[^\s/:'\"`()]+){2,}/?")
_SPACE = re.compile(r"\s+")
_HINT = re.compile(r"\n\s*Hint:|(?<=[.!?] )Hint:")  # the learner's pointer; "  hint:" is a diagnosis
_DATA = re.compile(r"^(AssertionError: )?(Called |expected: |returned: )")  # the call and its values: the student's own
_SOURCE_LINE = re.compile(r"(line \d+, in [\w.<>]+):[ \t]*(?:\n[ \t]*)?[^\n]*")  # then the student's code
_NAME = re.compile(r"`[^`]*`")
WORDING_MOST = 400


def observation(message: str) -> str:
    """The part of a failing message that says what the test saw: before the closing "Hint:" that
    points the learner somewhere (a diagnosis, "  hint: ...", is part of what was seen)."""
    return _HINT.split(message or "", 1)[0].strip()


def diagnosis(message: str) -> str:
    """What a failing message says is wrong: its diagnosis lines ("  hint: element 2 became v instead
    of growing by v") where the test made one; else the observation without the call and the values
    (a dtype, where arrays differ, the exception raised)."""
    lines = [line.strip() for line in observation(message).splitlines()]
    said = [line[len("hint:"):].strip() for line in lines if line.startswith("hint:")]
    if said:
        return "\n".join(said)
    kept = [line for line in lines if line and not _DATA.match(line)]
    return "\n".join(kept) or "\n".join(lines)


def wording(message: str) -> str:
    """A failing message as its cause: its diagnosis, with numbers, arrays, paths and the student's
    own source line made placeholders and its spaces collapsed, so that two students' same mistake
    reads the same."""
    text = _SOURCE_LINE.sub(r"\1", _PATH.sub("<path>", diagnosis(message)))
    while True:
        shorter = _BRACKETS.sub("[…]", text)
        if shorter == text:
            break
        text = shorter
    text = _POINT.sub("#", _NUMBER.sub("#", text))
    text = _SPACE.sub(" ", text).strip()
    return (text[:WORDING_MOST] + "…") if len(text) > WORDING_MOST else (text or "failed without a message")


def cause_id(lesson: str, exercise: str, text: str) -> str:
    digest = hashlib.sha1(f"{lesson}\0{exercise}\0{text}".encode("utf-8", "backslashreplace")).hexdigest()
    return f"{lesson}.{exercise}.{digest[:8]}"


def kind(text: str) -> str:
    """A cause without the names in it (`name` spans), to find one student's same cause across lessons."""
    return _NAME.sub("`…`", text)


def unattempted(text: str) -> bool:
    return any(words in text for words in UNATTEMPTED)


def stopped_at_a_bound(message: str) -> bool:
    return any(words in (message or "") for words in runner.BOUND_WORDS)


def anonymized(message: str, student: str) -> str:
    """One student's message as an example for the class: their id and the paths in it left out."""
    text = observation(message)
    if student and len(student) > 2:
        text = text.replace(student, "<student>")
    return _SPACE.sub(" ", _PATH.sub("<path>", text)).strip()[:WORDING_MOST]


@dataclass
class Cause:
    lesson: str
    exercise: str
    text: str
    students: set[str] = field(default_factory=set)
    example: str = ""

    @property
    def id(self) -> str:
        return cause_id(self.lesson, self.exercise, self.text)


@dataclass
class Exercise:
    lesson: str
    name: str
    tests: dict[str, int] = field(default_factory=dict)  # test -> its points
    earned: dict[str, int] = field(default_factory=dict)  # student -> points earned on this exercise
    stopped: set[str] = field(default_factory=set)  # students with a test of it stopped at a bound

    @property
    def points(self) -> int:
        return sum(self.tests.values())

    def passed(self) -> list[str]:
        return [s for s, got in self.earned.items() if got == self.points]


@dataclass
class Analysis:
    lessons: dict[str, str] = field(default_factory=dict)  # number -> topic
    students: dict[str, dict[str, tuple[int, int]]] = field(default_factory=dict)  # student -> lesson -> (earned, total)
    exercises: dict[tuple[str, str], Exercise] = field(default_factory=dict)
    causes: dict[tuple[str, str, str], Cause] = field(default_factory=dict)
    ungraded: list[str] = field(default_factory=list)  # records the grader marked as its own failure

    def graded(self, lesson: str) -> int:
        return sum(1 for marks in self.students.values() if lesson in marks)

    def ranked(self, lesson: str | None = None) -> list[Cause]:
        chosen = [c for c in self.causes.values() if lesson is None or c.lesson == lesson]
        return sorted(chosen, key=lambda c: (c.lesson, -len(c.students), c.exercise, c.text))

    def share(self, cause: Cause) -> float:
        return len(cause.students) / max(self.graded(cause.lesson), 1)

    def needing_help(self, fraction: float = 0.5) -> list[tuple[str, float, list[str]]]:
        """(student, share of points, causes met in more than one lesson): those under `fraction` of
        their points, or who met the same cause in two lessons or more, lowest first."""
        repeated: dict[str, set[str]] = defaultdict(set)
        seen: dict[tuple[str, str], set[str]] = defaultdict(set)
        for cause in self.causes.values():
            for student in cause.students:
                seen[(student, kind(cause.text))].add(cause.lesson)
        for (student, text), lessons in seen.items():
            if len(lessons) > 1 and not unattempted(text):
                repeated[student].add(text)
        found = []
        for student, marks in self.students.items():
            total = sum(t for _, t in marks.values())
            share = sum(e for e, _ in marks.values()) / total if total else 0.0
            if share < fraction or repeated.get(student):
                found.append((student, share, sorted(repeated.get(student, ()))))
        return sorted(found, key=lambda f: (f[1], f[0]))


def analyse(records: list[dict]) -> Analysis:
    """The class's records (`report.read_results`) read as exercises and causes."""
    found = Analysis()
    for record in records:
        student = str(record.get("student", ""))
        if record.get("error"):
            found.ungraded.append(student)
            continue
        marks = found.students.setdefault(student, {})
        for number, lesson in sorted(record.get("lessons", {}).items()):
            found.lessons.setdefault(number, lesson.get("topic", ""))
            marks[number] = (int(lesson.get("earned", 0)), int(lesson.get("total", 0)))
            for test in lesson.get("tests", []):
                _take(found, number, student, test)
    return found


def _take(found: Analysis, lesson: str, student: str, test: dict) -> None:
    name = str(test.get("exercise") or test.get("test"))
    exercise = found.exercises.setdefault((lesson, name), Exercise(lesson, name))
    points, earned = int(test.get("points", 0)), int(test.get("earned", 0))
    exercise.tests[str(test.get("test"))] = points
    exercise.earned[student] = exercise.earned.get(student, 0) + earned
    if earned >= points:
        return
    message = str(test.get("message", ""))
    if stopped_at_a_bound(message):
        exercise.stopped.add(student)
    text = wording(message)
    cause = found.causes.setdefault((lesson, name, text), Cause(lesson, name, text))
    if not cause.example:
        cause.example = anonymized(message, student)
    cause.students.add(student)


def rows(found: Analysis) -> list[dict]:
    return [{"lesson": c.lesson, "exercise": c.exercise, "cause": c.id, "students": len(c.students),
             "share": f"{found.share(c):.3f}", "wording": c.text, "example": c.example} for c in found.ranked()]


def csv_text(found: Analysis) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows(found):
        writer.writerow({k: _cell(v) for k, v in row.items()})
    return buffer.getvalue()


def _cell(value) -> str:
    """A value as a CSV cell a spreadsheet shows as text: one that would start a formula (a message can
    hold a student's own text) gets a leading apostrophe."""
    text = str(value).encode("utf-8", "backslashreplace").decode("utf-8")
    return "'" + text if isinstance(value, str) and text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def counts(found: Analysis) -> Counter:
    """{cause id: students}, for comparing two runs."""
    return Counter({c.id: len(c.students) for c in found.causes.values()})
