"""``python -m grader status``: every lesson's points, reusing the last results of lessons whose files
have not changed since (kept in .results/status/), so a look at your progress costs almost nothing."""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from grader import KIT_ROOT
from grader.learner import progress, runs, stubs, targets

CACHE_DIR = Path(os.environ.get("JAX_LESSONS_STATUS_CACHE") or KIT_ROOT / ".results" / "status")


def fingerprint(lesson: targets.Lesson) -> str:
    digest = hashlib.sha256()
    for path in (lesson.stub_file, lesson.test_file):
        digest.update(path.read_bytes() if path.exists() else b"<missing>")
    return digest.hexdigest()


def cached_results(lesson: targets.Lesson, cache_dir: Path = CACHE_DIR) -> list[dict] | None:
    path = cache_dir / f"{lesson.number}.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data["tests"] if data.get("fingerprint") == fingerprint(lesson) else None


def store(lesson: targets.Lesson, tests: list[dict], cache_dir: Path = CACHE_DIR) -> None:
    cache_dir.mkdir(parents=True, exist_ok=True)
    path = cache_dir / f"{lesson.number}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"fingerprint": fingerprint(lesson), "tests": tests}))
    tmp.replace(path)


def lesson_score(lesson: targets.Lesson, cache_dir: Path = CACHE_DIR) -> progress.LessonScore:
    """One lesson's score on the learner's files: from the cache while they are unchanged since their
    last run, else from a fresh run, which is cached."""
    results = cached_results(lesson, cache_dir)
    if results is None:
        results = runs.run_lessons([f"lessons/{lesson.number}"], "lessons").tests
        if results:
            store(lesson, results, cache_dir)
    return progress.score([lesson], results)[0]


def status(use_cache: bool = True, cache_dir: Path = CACHE_DIR,
           extra: list[str] = ()) -> tuple[list[progress.LessonScore], list[str]]:
    """Scores of every lesson, and the numbers of the lessons that had to be run (``extra``: more
    pytest options for that run, e.g. the bounds from `runs.bound_args`)."""
    lessons = targets.all_lessons()
    results: dict[str, list[dict]] = {}
    stale = []
    for lesson in lessons:
        cached = cached_results(lesson, cache_dir) if use_cache else None
        if cached is None:
            stale.append(lesson)
        else:
            results[lesson.number] = cached
    if stale:
        run = runs.run_lessons([f"lessons/{l.number}" for l in stale], "lessons", extra)
        for lesson in stale:
            tests = [t for t in run.tests if t["lesson"] == lesson.number]
            results[lesson.number] = tests
            if tests:
                store(lesson, tests, cache_dir)
    scores = progress.score(lessons, [t for l in lessons for t in results.get(l.number, [])])
    return scores, [l.number for l in stale]


def last_worked_on(lessons: list[targets.Lesson] | None = None) -> targets.Lesson | None:
    """The lesson whose module the learner saved last, among those that are no longer the untouched
    stub (in a fresh copy of the kit none is); None when no lesson is started yet."""
    started = [lesson for lesson in (lessons or targets.all_lessons()) if _started(lesson)]
    return max(started, key=lambda lesson: lesson.stub_file.stat().st_mtime_ns, default=None)


def _started(lesson: targets.Lesson) -> bool:
    try:
        mine = lesson.stub_file.read_text()
    except (OSError, ValueError):  # deleted, or not text
        return False
    try:
        return mine != stubs.stub_for(lesson)
    except (OSError, ValueError):  # no untouched stub to compare with: it is the learner's file
        return True
