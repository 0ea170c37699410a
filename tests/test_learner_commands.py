"""The learner commands' shared options and next steps: the bounds on each test (`--time-limit`,
`--memory-limit`) reach every run they make, a deleted lesson file's message names `reset`, and
`status` points at the lesson the learner is working in."""
import os
import subprocess
import sys

import pytest

from grader import cli
from grader.learner import nbcheck, progress, runs, status, stubs, targets


@pytest.fixture
def recorded_runs(monkeypatch):
    """Every lesson run the commands start, as (paths, target, extra), none of them run."""
    calls = []

    def run_lessons(paths, target="lessons", extra=(), timeout=None):
        calls.append((list(paths), target, list(extra)))
        return runs.LessonRun(1, "", [])

    monkeypatch.setattr(runs, "run_lessons", run_lessons)
    return calls


BOUNDS = ["--time-limit", "5", "--memory-limit", "8G"]


@pytest.mark.parametrize("command", [["check", "09"], ["watch", "09", "--max-runs", "1"],
                                     ["status", "--no-cache"], ["progress", "09"]])
def test_each_learner_command_passes_the_bounds_to_its_runs(command, recorded_runs, capsys):
    cli.main(command + BOUNDS)
    assert "unrecognized arguments" not in capsys.readouterr().err
    assert recorded_runs and all(extra == BOUNDS for _, _, extra in recorded_runs)


def test_without_bounds_the_runs_keep_the_defaults(recorded_runs):
    cli.main(["check", "09"])
    assert recorded_runs[0][2] == []  # pytest's own default, or JAX_LESSONS_TIME_LIMIT, applies


@pytest.mark.parametrize("option", [["--time-limit", "soon"], ["--time-limit", "-1"], ["--memory-limit", "8Q"]])
def test_a_bound_that_is_not_one_is_refused_before_anything_runs(option, recorded_runs, capsys):
    with pytest.raises(SystemExit) as stopped:
        cli.main(["check", "09", *option])
    assert stopped.value.code == 2 and not recorded_runs
    assert "like" in capsys.readouterr().err  # says what a right value looks like


def test_check_stops_a_runaway_test_at_the_time_limit_it_was_given(tmp_path):
    lesson = targets.find_lesson("01")
    module = lesson.module_in(tmp_path)
    module.parent.mkdir()
    stub = stubs.stub_for(lesson)
    assert stub.index("def set_first(") < stub.index("raise NotImplementedError()")
    module.write_text(stub.replace("raise NotImplementedError()", "while True:\n        pass", 1))  # set_first's
    env = {**os.environ, "JAX_LESSONS_TIME_LIMIT": "600"}  # the flag, not the environment, sets the bound
    proc = subprocess.run([sys.executable, "-m", "grader", "check", "01", "--target", str(tmp_path),
                           "--time-limit", "1"], capture_output=True, text=True, cwd=targets.KIT_ROOT, env=env,
                          timeout=300)
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "ran for more than 1 s" in proc.stdout


def test_a_notebook_check_takes_the_same_bounds(monkeypatch):
    seen = []
    monkeypatch.setattr(pytest, "main", lambda args: seen.append(list(args)) or 0)
    lesson = targets.find_lesson("01")
    try:
        nbcheck.check(lesson.number, "set_first", {}, time_limit=5, memory_limit="8G")
        nbcheck.check(lesson.number, "set_first", {})
    finally:
        nbcheck._checked.pop(lesson.number, None)
    assert seen[0][-4:] == BOUNDS
    assert "--time-limit" not in seen[1] and "--memory-limit" not in seen[1]


def test_a_deleted_lesson_file_points_at_reset(tmp_path):
    with pytest.raises(targets.TargetError) as mine:
        targets.load(targets.LESSONS_DIR / "09" / "gone.py")
    assert "python -m grader reset 09" in str(mine.value)
    with pytest.raises(targets.TargetError) as elsewhere:  # reset can't put back a submission's file
        targets.load(tmp_path / "09" / "gone.py")
    assert "There is no file" in str(elsewhere.value) and "reset" not in str(elsewhere.value)


def _scores(done: dict[str, bool]) -> list[progress.LessonScore]:
    lessons = {l.number: l for l in targets.all_lessons()}
    return [progress.LessonScore(lessons[n], [progress.ExerciseScore(f"ex{n}", int(ok), 1)])
            for n, ok in done.items()]


@pytest.mark.parametrize("done, current, expected", [
    ({"01": False, "09": False, "10": False}, "09", "09"),  # the lesson being worked on
    ({"01": False, "09": True, "10": False}, "09", "10"),  # it passes: the next unfinished one
    ({"01": False, "09": True, "10": True}, "09", "01"),  # none after it: back to an earlier one
    ({"01": False, "09": False, "10": False}, None, "01"),  # nothing started yet: the first
])
def test_the_next_step_follows_the_lesson_last_worked_on(done, current, expected):
    scores = _scores(done)
    now = targets.find_lesson(current) if current else None
    assert progress.next_exercise(scores, now)[0].lesson.number == expected
    lesson = targets.find_lesson(expected)
    assert f"next: `ex{expected}` in lessons/{expected}/{lesson.topic}.py" in progress.render(scores, current=now)


def test_the_lesson_last_worked_on_is_the_last_one_saved(tmp_path, monkeypatch):
    lessons = [targets.find_lesson(n) for n in ("01", "05", "09")]
    monkeypatch.setattr(targets, "LESSONS_DIR", tmp_path)  # each lesson's file is now under tmp_path
    for lesson in lessons:
        lesson.stub_file.parent.mkdir()
        lesson.stub_file.write_text(stubs.stub_for(lesson))
    assert status.last_worked_on(lessons) is None  # a fresh copy: every file is the stub
    first, fifth, ninth = lessons
    for lesson, when in ((fifth, 1000), (ninth, 2000), (first, 3000)):  # 01 saved last, but untouched
        if lesson is not first:
            lesson.stub_file.write_text(stubs.stub_for(lesson) + "\n# my work\n")
        os.utime(lesson.stub_file, (when, when))
    assert status.last_worked_on(lessons) == ninth
    os.utime(fifth.stub_file, (4000, 4000))
    assert status.last_worked_on(lessons) == fifth
    ninth.stub_file.unlink()  # a deleted file is no work to go back to
    assert status.last_worked_on(lessons) == fifth


def test_status_says_the_next_step_in_the_lesson_last_worked_on(monkeypatch, capsys):
    scores = _scores({"01": False, "09": False})
    monkeypatch.setattr(status, "status", lambda use_cache=True, extra=(): (scores, []))
    monkeypatch.setattr(status, "last_worked_on", lambda lessons=None: targets.find_lesson("09"))
    assert cli.main(["status"]) == 0
    assert "next: `ex09` in lessons/09/" in capsys.readouterr().out
