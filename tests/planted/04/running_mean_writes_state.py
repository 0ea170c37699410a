"""running_mean writes the new count and total into the dict it was given: unseen under jit, but a direct
call changes the caller's state."""
MUST_FAIL = ["test_running_mean_leaves_the_callers_state_alone"]
MUST_SAY = {"test_running_mean_leaves_the_callers_state_alone": ["wrote into the dict"]}


def running_mean(state, x):
    state["count"] = state["count"] + 1
    state["total"] = state["total"] + x
    return state["total"] / state["count"], state
