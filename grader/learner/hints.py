"""Leveled hints, kept in lessons/NN/HINTS.md under one ``## exercise`` heading each, as a numbered
list from a nudge to nearly the answer. ``python -m grader hint NN [exercise]`` shows the next level
each time it is asked; the levels seen are remembered in .results/hints.json."""
from __future__ import annotations

import json
import re
from pathlib import Path

from grader import KIT_ROOT
from grader.learner import targets

STATE_FILE = KIT_ROOT / ".results" / "hints.json"
_ITEM = re.compile(r"^(\d+)\.\s+(.*)$")


def hints_file(lesson: targets.Lesson) -> Path:
    return lesson.dir / "HINTS.md"


def read_hints(lesson: targets.Lesson) -> dict[str, list[str]]:
    """{exercise: [level 1, level 2, ...]} from the lesson's HINTS.md ({} if there is none)."""
    path = hints_file(lesson)
    if not path.exists():
        return {}
    hints: dict[str, list[str]] = {}
    current = None
    for line in path.read_text().splitlines():
        if line.startswith("## "):
            current = hints.setdefault(line[3:].strip(), [])
        elif current is not None and (m := _ITEM.match(line)):
            current.append(m.group(2).strip())
        elif current is not None and current and line.startswith("   ") and line.strip():
            current[-1] += " " + line.strip()  # a wrapped item
    return hints


def _load_state(state_file: Path) -> dict:
    try:
        return json.loads(state_file.read_text())
    except (OSError, ValueError):
        return {}


def next_hint(lesson: targets.Lesson, exercise: str, state_file: Path | None = None) -> tuple[int, int, str]:
    """(level, number of levels, text) of the next hint for ``exercise``; the last one repeats."""
    state_file = state_file or STATE_FILE
    hints = read_hints(lesson)
    if exercise not in hints or not hints[exercise]:
        known = ", ".join(hints) or "none yet"
        raise ValueError(f"Lesson {lesson.number} has no hints for {exercise!r}. Its exercises with hints: {known}.")
    state = _load_state(state_file)
    key = f"{lesson.number}/{exercise}"
    level = min(state.get(key, 0) + 1, len(hints[exercise]))
    state[key] = level
    state_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = state_file.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=1, sort_keys=True))
    tmp.replace(state_file)
    return level, len(hints[exercise]), hints[exercise][level - 1]


def seen_level(lesson: targets.Lesson, exercise: str, state_file: Path | None = None) -> int:
    """The last level of ``exercise``'s hints already shown (0: none yet)."""
    return _load_state(state_file or STATE_FILE).get(f"{lesson.number}/{exercise}", 0)


def last_hint_note(lesson: targets.Lesson, exercise: str, again: bool = False) -> str:
    """What follows the last level of an exercise's hints: that there is no further one, and what
    to do next (the reference to compare with, where this install has one)."""
    from grader.learner import remember

    n = lesson.number
    head = (f"That is still the last hint for `{exercise}`: there are no more levels "
            f"(`python -m grader hint {n} --reset` starts them over)." if again
            else f"That was the last hint for `{exercise}`.")
    steps = f"Next: run `pytest lessons/{n}` and read what the failing test expects"
    if remember.has_reference(lesson):
        return f"{head}\n{steps}; once lesson {n} passes, `python -m grader solution {n}` shows the reference to compare with."
    readme = targets.display(lesson.dir / "README.md")
    return f"{head}\n{steps}; {readme} explains the idea, and your instructor can help with the rest."


def forget(lesson: targets.Lesson, state_file: Path | None = None) -> None:
    state_file = state_file or STATE_FILE
    state = {k: v for k, v in _load_state(state_file).items() if not k.startswith(f"{lesson.number}/")}
    if state_file.exists():
        state_file.write_text(json.dumps(state, indent=1, sort_keys=True))


def first_unfinished(lesson: targets.Lesson) -> str | None:
    """The first exercise that does not pass yet (from the status cache, or a fresh run)."""
    from grader.learner import status

    score = status.lesson_score(lesson)
    todo = next((e for e in score.exercises if not e.done), None)
    return todo.name if todo else None
