"""Keeps the count in a Python global instead of threading it through the state."""
MUST_FAIL = ["test_running_mean_threads_its_state"]

_SEEN = {"count": 0, "total": 0.0}


def running_mean(state, x):
    _SEEN["count"] += 1
    _SEEN["total"] = _SEEN["total"] + x
    new_state = {"count": state["count"] + 1, "total": state["total"] + x}
    return _SEEN["total"] / _SEEN["count"], new_state
