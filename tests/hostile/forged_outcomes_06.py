"""Lesson 06's untouched stub, claiming through the channel that one test of each exercise failed and every
other one passed: a failure claim must never unlock a point that the grader did not check."""
BASE = "stub"
EXPECTED = 0
LESSON = "06"
import grader.pytest_plugin as _plugin

_seen = set()
_original = _plugin._stream


def _forge(config, event):
    if event.get("ev") == "done":
        exercise = event["step"].split(":")[2]
        event = dict(event, outcome="failed" if exercise in _seen else "passed", message="")
        _seen.add(exercise)
    _original(config, event)


_plugin._stream = _forge
