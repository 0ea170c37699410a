"""swap tells the grader, through the sandbox's own channel, that the step in progress is done and
passed, then never returns (sleeping, so it burns no CPU). The grader's own clocks must stop it, the
forged pass must earn nothing, and the rest of the lesson is graded as usual."""
BASE = "solution"
EXPECTED = 13
import time as _time

from grader.classroom import channel as _channel


def swap(x, i, j):
    writer = _channel.writer()
    for step in ("probe:01:swap", "test:01:test_swap"):
        writer.event(ev="done", step=step, status="ok", outcome="passed", message="")
    writer.event(ev="finished")
    while True:
        _time.sleep(1)
