"""update_stats whose count comes back float32: the state changes type from step to step."""
MUST_FAIL = ["test_update_stats", "test_update_stats_passes_state_explicitly", "test_update_stats_in_a_scan"]
MUST_SAY = {"test_update_stats_in_a_scan": ["dtypes", "int32"]}


def update_stats(state, x):
    n = state["count"] + 1.0
    delta = x - state["mean"]
    mean = state["mean"] + delta / n
    return {"count": n, "mean": mean, "m2": state["m2"] + delta * (x - mean)}
