"""Leveled hints, kept in lessons/NN/HINTS.md under one ``## exercise`` heading each, as a numbered
list from a nudge to nearly the answer. ``python -m grader hint NN [exercise]`` shows the next level
each time it is asked; the levels seen are remembered in .results/hints.json."""
from __future__ import annotations

import json
import re
from pathlib import Path

from grader import KIT_ROOT, targets

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


def next_hint(lesson: targets.Lesson, exercise: str, state_file: Path = STATE_FILE) -> tuple[int, int, str]:
    """(level, number of levels, text) of the next hint for ``exercise``; the last one repeats."""
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


def forget(lesson: targets.Lesson, state_file: Path = STATE_FILE) -> None:
    state = {k: v for k, v in _load_state(state_file).items() if not k.startswith(f"{lesson.number}/")}
    if state_file.exists():
        state_file.write_text(json.dumps(state, indent=1, sort_keys=True))


def first_unfinished(lesson: targets.Lesson) -> str | None:
    """The first exercise that does not pass yet (from the status cache, or a fresh run)."""
    from grader import status

    score = status.lesson_score(lesson)
    todo = next((e for e in score.exercises if not e.done), None)
    return todo.name if todo else None
