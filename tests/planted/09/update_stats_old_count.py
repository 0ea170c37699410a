"""update_stats dividing delta by the old count instead of the new one."""
MUST_FAIL = ["test_update_stats", "test_update_stats_in_a_scan"]
MUST_SAY = {"test_update_stats": ["old count"]}


def update_stats(state, x):
    n = state["count"] + 1
    delta = x - state["mean"]
    mean = state["mean"] + delta / jnp.maximum(state["count"], 1)
    return {"count": n, "mean": mean, "m2": state["m2"] + delta * (x - mean)}
