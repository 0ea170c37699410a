"""The untouched stubs of lessons 01 and 06, claiming through the channel that one test of each
exercise failed and every other one passed: a failure claim must never unlock a point that the
grader did not check (in lesson 06, the points of the exercises built on the ones claimed failed)."""
BASE = "stub"
EXPECTED = 0
LESSON = ("01", "06")
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
