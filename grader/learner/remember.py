"""After a lesson passes: what to remember from it, and the reference to compare with.

The ideas a learner should keep are the ``## What to remember`` section of the lesson's README, read
when they are shown (``python -m grader check NN`` prints them once every exercise passes). The
reference ``solutions/NN/<topic>.py`` is shown by ``python -m grader solution NN``, and only to a
target that passes the whole lesson: it is earned, not looked up.
"""
from __future__ import annotations

from grader.learner import progress, stubs, targets

HEADING = "## What to remember"


def section(lesson: targets.Lesson) -> str:
    """The text under the README's ``## What to remember`` heading, up to the next heading ("" if none)."""
    readme = lesson.dir / "README.md"
    try:
        lines = readme.read_text().splitlines()
    except OSError:
        return ""
    found: list[str] | None = None
    for line in lines:
        if found is None:
            if line.strip() == HEADING:
                found = []
        elif line.startswith("#"):
            break
        else:
            found.append(line)
    return "\n".join(found or []).strip()


def bullets(lesson: targets.Lesson) -> list[str]:
    """The section's bullets, each one joined back into a single line."""
    items: list[str] = []
    for line in section(lesson).splitlines():
        if line.startswith("- "):
            items.append(line[2:].strip())
        elif items and line.startswith("  ") and line.strip():
            items[-1] += " " + line.strip()  # a wrapped bullet
    return items


def has_reference(lesson: targets.Lesson) -> bool:
    """Whether this install holds the lesson's reference (the student package doesn't)."""
    return lesson.solution_file.is_file()


def after_passing(lesson: targets.Lesson) -> str:
    """What ``check`` adds once a lesson passes: the ideas to keep, and where the reference is
    (where this install has one to show)."""
    text = section(lesson)
    lines = []
    if text:
        lines += [f"What to remember from lesson {lesson.number}:"]
        lines += ["  " + line if line.strip() else "" for line in text.splitlines()]
        lines.append("")
    if has_reference(lesson):
        lines.append(f"Compare with the reference: python -m grader solution {lesson.number}")
    return "\n".join(lines).rstrip()


def lesson_score(lesson: targets.Lesson, target: str = "lessons") -> progress.LessonScore:
    """The target's score on the lesson: for the learner's own files, from the status cache while they
    are unchanged since their last run (else a fresh run, then cached); for another target, a fresh run."""
    from grader.learner import status

    if target != "lessons":
        return progress.measure(target, [lesson])[0][0]
    return status.lesson_score(lesson)


def reference_text(lesson: targets.Lesson) -> str:
    """The reference solution as a learner reads it: the file without nbgrader's answer markers."""
    return "\n".join(line for line in lesson.solution_file.read_text().splitlines()
                     if line.strip() not in (stubs.BEGIN, stubs.END)) + "\n"


def solution(lesson: targets.Lesson, target: str = "lessons") -> tuple[str, bool]:
    """The reference for a target that passes the lesson, else a kind refusal; and whether it was shown."""
    if not has_reference(lesson):
        return (f"This install of the kit carries the lessons without their reference solutions, so there is "
                f"no reference of lesson {lesson.number} to show. Your course may hand them out once the "
                "lesson is due."), False
    score = lesson_score(lesson, target)
    if score.total and score.earned == score.total:
        where = targets.display(lesson.solution_file)
        return f"The reference for lesson {lesson.number} ({where}):\n\n{reference_text(lesson)}", True
    left = score.total - score.earned
    return (f"Not yet: lesson {lesson.number} has {left} of its {score.total} points still to earn, and the "
            f"reference opens once they are all yours.\nStuck? `python -m grader hint {lesson.number}` gives "
            f"a nudge, and `pytest lessons/{lesson.number}` shows what the tests expect."), False
