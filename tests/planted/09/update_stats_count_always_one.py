"""update_stats whose new count is 1 whatever the state's count: no global, nothing read at trace time,
so the hint must not blame one."""
MUST_FAIL = ["test_update_stats", "test_update_stats_passes_state_explicitly"]
MUST_SAY = {"test_update_stats_passes_state_explicitly": ["whatever the count it was given"]}
MUST_NOT_SAY = {"test_update_stats_passes_state_explicitly": ["while tracing", "global"]}


def update_stats(state, x):
    n = state["count"] + 1
    delta = x - state["mean"]
    mean = state["mean"] + delta / n
    return {"count": jnp.ones((), jnp.int32), "mean": mean, "m2": state["m2"] + delta * (x - mean)}
