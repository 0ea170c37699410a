"""update_stats writing the new values into the caller's dict and returning it."""
MUST_FAIL = ["test_update_stats"]
MUST_SAY = {"test_update_stats": ["caller's", "new dict"]}


def update_stats(state, x):
    n = state["count"] + 1
    delta = x - state["mean"]
    state["mean"] = state["mean"] + delta / n
    state["m2"] = state["m2"] + delta * (x - state["mean"])
    state["count"] = n
    return state
