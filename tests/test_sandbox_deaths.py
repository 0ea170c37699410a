"""Who a sandbox's death belongs to: the grader reads everything the process sent before judging its
exit, tries a death it did not measure once more in a fresh process, and pins it on the student only
when it comes back at the same step while their code ran (and never struck the canary)."""
from __future__ import annotations

import os
import threading
from pathlib import Path

from grader.learner import targets
from grader.classroom import channel, runner

LESSON = targets.find_lesson("01")


def _box(tmp_path: Path, canary_deaths=()) -> runner.Sandbox:
    limits = runner.Limits(lesson_cpu=60, step_cpu=15, memory=4 << 30, private_tmpfs=False)
    box = runner.Sandbox(folder=tmp_path / "box", files={"01": b""}, lessons=[LESSON], limits=limits,
                         base_env={}, plan_base={"confine": {"read": []}}, server=None,
                         canary_deaths=set(canary_deaths))
    box.prepare()
    return box


class _Watch:
    def __init__(self, loaded=True):
        self.loaded = loaded

    def stderr_tail(self):
        return ""


def test_a_death_is_tried_again_before_anyone_is_blamed(tmp_path):
    box = _box(tmp_path)
    assert box._unexplained_death("test:01:test_swap", "killed by SIGSEGV", _Watch()) is True
    assert "test:01:test_swap" not in box.result.forced and box.result.error is None


def test_a_death_that_comes_back_at_the_same_step_is_the_students(tmp_path):
    box = _box(tmp_path)
    for _ in range(2):
        box._unexplained_death("test:01:test_swap", "exit status 3", _Watch())
    assert "twice" in box.result.forced["test:01:test_swap"]
    assert box.result.error is None


def test_a_death_before_any_student_code_is_the_graders(tmp_path):
    box = _box(tmp_path)
    for _ in range(2):
        box._unexplained_death(None, "killed by SIGABRT", _Watch(loaded=False))
    assert box.result.error and "not the student's" in box.result.error
    assert not box.result.forced


def test_a_death_that_struck_the_canary_is_never_the_students(tmp_path):
    box = _box(tmp_path, canary_deaths={"killed by SIGABRT"})
    for _ in range(2):
        box._unexplained_death("probe:01:swap", "killed by SIGABRT", _Watch())
    assert box.result.error and "reference" in box.result.error
    assert not box.result.forced


class _Exited:
    """A process that has already ended with status 0 while its last frames still wait in the pipe."""
    pid = None
    returncode = 0

    def poll(self):
        return 0

    def wait(self, timeout=None):
        return 0


def test_frames_sent_before_an_exit_are_read_before_the_exit_is_judged(tmp_path, monkeypatch):
    """Under load the grader may see the exit before it has read the last "done" and "finished":
    those frames decide the outcome, so a finished run is never "ended the process (exit status 0)"."""
    box = _box(tmp_path)
    steps = runner.steps(LESSON)

    def spawn(chan_w, err_w):
        fd = os.dup(chan_w)

        def write():
            writer = channel.Writer(fd)
            for step in steps:
                writer.event(ev="start", step=step)
                body = b"x" * (300 << 10) if step.startswith("probe:") else b""
                writer.event(body, ev="done", step=step, status="ok", outcome="passed")
            writer.event(ev="finished")
            os.close(fd)

        threading.Thread(target=write, daemon=True).start()
        return _Exited()

    monkeypatch.setattr(box, "_spawn", spawn)
    monkeypatch.setattr(runner, "kill_all", lambda proc, token: None)
    assert box._start_once(deadline=float("inf")) is False
    assert not box.result.forced
    assert set(box.result.done) == set(steps)
