"""Learner commands: ``check`` one lesson with a score summary, ``reset`` a lesson to its stub."""
from __future__ import annotations

import shutil
import time
from pathlib import Path

from grader.learner import progress, remember, stubs, targets


def check_report(lesson: targets.Lesson, target: str = "lessons", extra: list[str] = ()) -> tuple[str, bool]:
    """The summary of one run of a lesson's tests, and whether every test passed (``extra``: more
    pytest options, e.g. the bounds from `runs.bound_args`)."""
    scores, run = progress.measure(target, [lesson], extra)
    if not run.tests:
        return run.output[-3000:] + "\nThe lesson's tests did not run; the output above says why.", False
    if target == "lessons":  # so that `status` and `solution` right after need no second run
        from grader.learner import status

        status.store(lesson, run.tests)
    score = scores[0]
    lines = [f"lesson {lesson.number} {lesson.topic}: {score.earned} / {score.total} points", ""]
    for ex in score.exercises:
        lines.append(f"  {'+' if ex.done else '-'} {ex.name:<24} {ex.earned}/{ex.total}")
        for message in dict.fromkeys(ex.failing):  # the same message once, however many tests share it
            lines.extend("      " + line for line in message.splitlines()[:6])
    todo = next((ex for ex in score.exercises if not ex.done), None)
    lines.append("")
    if todo is None:
        after = remember.after_passing(lesson)
        lines += ["Every exercise passes. On to the next lesson!"] + (["", after] if after else [])
    else:
        lines.append(f"next: `{todo.name}` in lessons/{lesson.number}/{lesson.topic}.py")
    return "\n".join(lines), todo is None


def reset(lesson: targets.Lesson, now: float | None = None) -> Path | None:
    """Put the generated stub back; the learner's file is kept in lessons/NN/backups/ first.
    Returns the backup's path (None when there was no file or it was already the stub)."""
    stub = stubs.stub_for(lesson)
    current = lesson.stub_file
    backup = None
    if current.exists() and current.read_text() != stub:
        stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
        backup = current.parent / "backups" / f"{lesson.topic}-{stamp}.py"
        n = 1
        while backup.exists():
            backup = backup.with_name(f"{lesson.topic}-{stamp}-{n}.py")
            n += 1
        backup.parent.mkdir(exist_ok=True)
        shutil.copy2(current, backup)
    current.write_text(stub)
    return backup


def watch(lesson: targets.Lesson, target: str = "lessons", interval: float = 0.5,
          max_runs: int | None = None, out=print, clear=None, extra: list[str] = ()) -> int:
    """Run the lesson's tests now and again each time its module (or test file) is saved; once the
    lesson passes, go on to the next one. `clear()`, if given, wipes the screen before each report.
    Each run gets the pytest options ``extra`` (e.g. the bounds from `runs.bound_args`).
    Stops after ``max_runs`` runs, or on Ctrl-C. Returns the number of runs."""
    runs_done = 0
    try:
        while max_runs is None or runs_done < max_runs:
            module = lesson.module_in(targets.resolve_target(target))
            watched = [module, lesson.test_file]
            seen = _stamp(watched)
            report, passed = check_report(lesson, target, extra)
            runs_done += 1
            if clear is not None:
                clear()
            out(f"\n--- {time.strftime('%H:%M:%S')} run {runs_done} ---\n{report}")
            if max_runs is not None and runs_done >= max_runs:
                break
            following = _next_lesson(lesson) if passed else None
            if following is not None:
                lesson = following
                out(f"On to lesson {lesson.number}: watching {targets.display(lesson.module_in(targets.resolve_target(target)))}.")
                continue
            out(f"(watching {targets.display(module)}; save it to run again, Ctrl-C to stop)")
            while _stamp(watched) == seen:
                time.sleep(interval)
    except KeyboardInterrupt:
        out("\nStopped watching.")
    return runs_done


def _stamp(paths: list[Path]) -> tuple:
    return tuple(p.stat().st_mtime_ns if p.exists() else 0 for p in paths)


def _next_lesson(lesson: targets.Lesson) -> targets.Lesson | None:
    numbers = [l.number for l in targets.all_lessons()]
    later = [n for n in numbers if n > lesson.number]
    return targets.find_lesson(later[0]) if later else None
