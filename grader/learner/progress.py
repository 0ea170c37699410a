"""The progress report: every lesson's tests run once against a target, summed per lesson and exercise."""
from __future__ import annotations

from dataclasses import dataclass, field

from grader.learner import points, runs, targets


@dataclass
class ExerciseScore:
    name: str
    earned: int = 0
    total: int = 0
    failing: list[str] = field(default_factory=list)  # messages of the failing tests

    @property
    def done(self) -> bool:
        return self.total > 0 and self.earned == self.total


@dataclass
class LessonScore:
    lesson: targets.Lesson
    exercises: list[ExerciseScore]

    @property
    def earned(self) -> int:
        return sum(e.earned for e in self.exercises)

    @property
    def total(self) -> int:
        return sum(e.total for e in self.exercises)


def score(lessons: list[targets.Lesson], results: list[dict]) -> list[LessonScore]:
    """Sum a results list onto the point table read from the test files; a test that never ran earns 0."""
    by_test = {(r["lesson"], r["test"]): r for r in results}
    scored = []
    for lesson in lessons:
        exercises: dict[str, ExerciseScore] = {}
        for test in points.graded_tests(lesson.test_file):
            ex = exercises.setdefault(test.exercise, ExerciseScore(test.exercise))
            ex.total += test.points
            result = by_test.get((lesson.number, test.name))
            if result is not None and result["outcome"] == "passed":
                ex.earned += test.points
            else:
                ex.failing.append(result["message"] if result else "did not run")
        scored.append(LessonScore(lesson, list(exercises.values())))
    return scored


def measure(target: str = "lessons", lessons: list[targets.Lesson] | None = None,
            extra: list[str] = ()) -> tuple[list[LessonScore], runs.LessonRun]:
    """Run the lessons' tests once against ``target`` (``extra``: more pytest options, e.g. the
    bounds from `runs.bound_args`) and score them."""
    lessons = lessons or targets.all_lessons()
    run = runs.run_lessons([f"lessons/{l.number}" for l in lessons], target, extra)
    return score(lessons, run.tests), run


def next_exercise(scores: list[LessonScore], current: targets.Lesson | None = None
                  ) -> tuple[LessonScore, ExerciseScore] | None:
    """The exercise to do next: the first unfinished one of ``current`` (the lesson last worked on),
    else of the lessons after it, else of those before it; without ``current``, from the first lesson."""
    numbers = [s.lesson.number for s in scores]
    start = numbers.index(current.number) if current is not None and current.number in numbers else 0
    for s in scores[start:] + scores[:start]:
        todo = next((e for e in s.exercises if not e.done), None)
        if todo is not None:
            return s, todo
    return None


def render(scores: list[LessonScore], target: str = "lessons", current: targets.Lesson | None = None) -> str:
    """The progress table, and the next step (see `next_exercise`)."""
    lines = [f"Progress of {target}/ (points per lesson; + marks a finished exercise, - one to do)", ""]
    for s in scores:
        marks = "  ".join(("+" if e.done else "-") + e.name for e in s.exercises)
        lines.append(f"lesson {s.lesson.number} {s.lesson.topic:<13} {s.earned:>3} / {s.total:<3}  {marks}")
    earned, total = sum(s.earned for s in scores), sum(s.total for s in scores)
    lines += ["", f"total {earned} / {total} points"]
    nxt = next_exercise(scores, current)
    if nxt is None:
        lines.append("Every lesson is done. Well done!")
    else:
        s, e = nxt
        lines.append(f"next: `{e.name}` in lessons/{s.lesson.number}/{s.lesson.topic}.py; "
                     f"run `pytest lessons/{s.lesson.number}` to see what its tests expect")
    return "\n".join(lines)
