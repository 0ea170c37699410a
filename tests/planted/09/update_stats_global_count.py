"""update_stats keeping the count in a global: under jit the global is read once, at trace time."""
MUST_FAIL = ["test_update_stats", "test_update_stats_passes_state_explicitly", "test_update_stats_in_a_scan"]
MUST_SAY = {"test_update_stats_passes_state_explicitly": ["outside the state", "while tracing"]}

_SEEN = [0]


def update_stats(state, x):
    _SEEN[0] += 1
    n = jnp.int32(_SEEN[0])
    delta = x - state["mean"]
    mean = state["mean"] + delta / n
    return {"count": n, "mean": mean, "m2": state["m2"] + delta * (x - mean)}
