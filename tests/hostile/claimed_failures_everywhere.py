"""Wrong values from every exercise of lesson 06 (the reference's, scaled and shifted), and a forged
report: one failed test per exercise, every other test passed. A claimed failure waives no finding:
a test keeps its points only where the grader checked its property itself and found it holds (graded
on lesson 05 the same way, the shifted weights keep the 6 points of the properties a shift leaves
true: drawn from a normal, following the key, a key per layer)."""
BASE = "solution"
EXPECTED = 0
LESSON = ("06",)
import functools as _functools
import inspect as _inspect

import grader.pytest_plugin as _plugin
import jax.numpy as _jnp


def _shift(value):
    if callable(value) and not isinstance(value, type):
        return _wrap(value)
    if isinstance(value, (list, tuple)):
        return type(value)(_shift(v) for v in value)
    if isinstance(value, dict):
        return {k: _shift(v) for k, v in value.items()}
    kind = getattr(getattr(value, "dtype", None), "kind", None)
    if kind == "f" or isinstance(value, float):
        return value * 1.5 + 0.25
    if kind in ("i", "u") or (isinstance(value, int) and not isinstance(value, bool)):
        return value + 1
    return value


def _wrap(function):
    @_functools.wraps(function)
    def shifted(*args, **kwargs):
        return _shift(function(*args, **kwargs))
    return shifted


for _name, _value in list(globals().items()):
    if _inspect.isfunction(_value) and not _name.startswith("_") and _value.__module__ == __name__:
        globals()[_name] = _wrap(_value)

from grader.learner import points as _points, targets as _targets

_exercise_of = {t.name: t.exercise for n in LESSON
                for t in _points.graded_tests(_targets.find_lesson(n).test_file)}
_claimed = set()
_original = _plugin._stream


def _forge(config, event):
    if event.get("ev") == "done" and event.get("step", "").startswith("test:"):
        exercise = _exercise_of.get(event["step"].split(":")[2])
        event = dict(event, outcome="passed" if exercise in _claimed else "failed", message="")
        _claimed.add(exercise)
    _original(config, event)


_plugin._stream = _forge
