"""Whose time a step's clocks count: the student's code's, never the grader's or the machine's. A clock
that ran out while the step's last frames sat unread stops nothing; a watcher that fell behind charges a
look no more than LOOK_MOST; time the kernel kept the process waiting for a core is left out; and the
CPU bound still stops an endless loop however busy the machine is."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from grader.learner import targets
from grader.classroom import channel, runner

LESSON = targets.find_lesson("01")
FIRST = runner.steps(LESSON)[1]  # a probe: the import step is not the student's code at work


def _box(tmp_path: Path, step_cpu: float = 0.25) -> runner.Sandbox:
    limits = runner.Limits(lesson_cpu=60, step_cpu=step_cpu, memory=4 << 30, private_tmpfs=False)
    box = runner.Sandbox(folder=tmp_path / "box", files={"01": b""}, lessons=[LESSON], limits=limits,
                         base_env={}, plan_base={"confine": {"read": []}}, server=None)
    box.prepare()
    return box


class _Quiet:
    """A process that is still running and sends nothing of its own."""
    pid = None
    returncode = None

    def poll(self):
        return None

    def wait(self, timeout=None):
        return 0


def _spawned(box, monkeypatch, frames):
    """Make box's next process one that sends `frames` (header dicts) at once, then nothing."""
    writers, fds = [], []

    def spawn(chan_w, err_w):
        fds.append(os.dup(chan_w))
        writers.append(channel.Writer(fds[-1]))
        for frame in frames:
            writers[-1].event(**frame)
        return _Quiet()

    def kill(proc, token):  # the process ends: its end of the pipe closes
        while fds:
            os.close(fds.pop())

    monkeypatch.setattr(box, "_spawn", spawn)
    monkeypatch.setattr(runner, "kill_all", kill)
    return writers


def test_a_step_that_ended_before_the_clock_was_read_is_not_stopped(tmp_path, monkeypatch):
    """The process sent "done" just as its CPU passed the bound: the frame is read before the verdict."""
    box = _box(tmp_path)
    writers = _spawned(box, monkeypatch, [{"ev": "start", "step": FIRST}])
    readings = iter([0.0, 0.0] + [2.0] * 10_000)

    def cpu(pid):
        value = next(readings)
        if value == 2.0 and writers:  # the step ends, and only then does the clock look
            writers.pop().event(ev="done", step=FIRST, status="ok", outcome="passed")
        return value

    monkeypatch.setattr(runner, "cpu_seconds", cpu)
    box._start_once(deadline=time.monotonic() + 3)
    assert FIRST in box.result.done and FIRST not in box.result.forced, box.result.forced


def test_the_cpu_bound_says_it_was_computing(tmp_path, monkeypatch):
    box = _box(tmp_path)
    _spawned(box, monkeypatch, [{"ev": "start", "step": FIRST}])
    readings = iter([0.0, 0.0] + [2.0] * 10_000)
    monkeypatch.setattr(runner, "cpu_seconds", lambda pid: next(readings))
    box._start_once(deadline=time.monotonic() + 3)
    assert box.result.forced[FIRST].startswith("computed for 2.0 s without finishing")


@pytest.mark.parametrize("taken_mib, says_memory", [(1200, True), (300, False)])
def test_the_cpu_bound_names_the_memory_a_step_took_on_the_way(tmp_path, monkeypatch, taken_mib, says_memory):
    """Filling new pages is CPU the kernel spends for the step, slowest on a freshly started machine: a
    loop that keeps allocating can meet the CPU bound before the memory limit, and is told of both."""
    box = _box(tmp_path)
    _spawned(box, monkeypatch, [{"ev": "start", "step": FIRST}])
    readings = iter([0.0, 0.0] + [2.0] * 10_000)
    monkeypatch.setattr(runner, "cpu_seconds", lambda pid: next(readings))
    held = iter([200 << 20] * 2 + [(200 + taken_mib) << 20] * 10_000)  # before the step, then as it runs
    monkeypatch.setattr(runner.cgroups, "held", lambda handle: next(held))
    box._start_once(deadline=time.monotonic() + 3)
    message = box.result.forced[FIRST]
    assert message.startswith("computed for 2.0 s without finishing")
    assert (f"taking {taken_mib} MiB of memory on the way (it may hold 4096 MiB" in message) == says_memory, message


def test_a_step_waiting_on_nothing_is_stopped_by_its_wall_clock(tmp_path, monkeypatch):
    box = _box(tmp_path)
    _spawned(box, monkeypatch, [{"ev": "start", "step": FIRST}])
    started = time.monotonic()
    box._start_once(deadline=started + 30)
    assert time.monotonic() - started < 10
    assert "computing for only 0.0 s" in box.result.forced[FIRST], box.result.forced


def test_a_watcher_that_fell_behind_charges_the_step_one_look(tmp_path, monkeypatch):
    """The grader's own delay (a thread it waited on, a busy grader) is not the student's time."""
    box = _box(tmp_path, step_cpu=1.0)  # a wall bound of 4 s
    _spawned(box, monkeypatch, [{"ev": "start", "step": FIRST}])
    real, jumps = time.monotonic, iter([0.0] * 6 + [60.0])
    offset = [0.0]

    def clock():
        offset[0] += next(jumps, 0.0)  # one look, early in the step, comes a minute late
        return real() + offset[0]

    monkeypatch.setattr(runner, "time", type("Clock", (), {"monotonic": staticmethod(clock),
                                                            "sleep": staticmethod(time.sleep)}))
    started = real()
    box._start_once(deadline=clock() + 120)
    assert 3 < real() - started < 30
    assert "step may take 4 s" in box.result.forced[FIRST], box.result.forced


def test_time_spent_waiting_for_a_core_is_not_charged(tmp_path, monkeypatch):
    """A machine too busy to run the step: the wall bound waits; the run's deadline still ends it."""
    box = _box(tmp_path)  # a wall bound of 1 s
    _spawned(box, monkeypatch, [{"ev": "start", "step": FIRST}])

    class Starved:
        def __init__(self, pid):
            self.at = time.monotonic()

        def since_last(self):
            now = time.monotonic()
            waited, self.at = now - self.at, now
            return waited

    monkeypatch.setattr(runner, "CpuWaits", Starved)
    started = time.monotonic()
    box._start_once(deadline=started + 3)
    assert time.monotonic() - started >= 3
    assert "lesson 01 ran out of time" not in box.result.forced.get(FIRST, "")
    assert "step may" not in box.result.forced.get(FIRST, ""), box.result.forced


_SPIN = "import os, sys\nos.sched_setaffinity(0, {int(sys.argv[1])})\nwhile True: pass\n"


@pytest.mark.skipif(not os.path.exists("/proc/self/task/%d/schedstat" % os.getpid()), reason="no schedstat")
def test_the_kernel_counts_the_wait_of_a_process_sharing_its_core(tmp_path):
    """CpuWaits reads the kernel's run-queue delay: a spinner sharing one core with three others waits
    most of the time; a sleeping process waits for nothing."""
    core = min(os.sched_getaffinity(0))
    spinners = [subprocess.Popen([sys.executable, "-c", _SPIN, str(core)]) for _ in range(4)]
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        time.sleep(0.5)
        busy, idle = runner.CpuWaits(spinners[0].pid), runner.CpuWaits(sleeper.pid)
        busy.since_last(), idle.since_last()
        time.sleep(2.0)
        assert busy.since_last() > 0.8
        assert idle.since_last() < 0.1
    finally:
        for p in spinners + [sleeper]:
            p.kill()
            p.wait()
