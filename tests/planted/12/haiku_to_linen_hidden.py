"""haiku_to_linen reads the running statistics from the moving averages' `hidden`, the unnormalized sum,
instead of their `average`."""
MUST_FAIL = ["test_haiku_to_linen"]
MUST_SAY = {"test_haiku_to_linen": ["not `hidden`"]}
_reference_haiku_to_linen = haiku_to_linen


def haiku_to_linen(params, state):
    variables = _reference_haiku_to_linen(params, state)
    variables["batch_stats"] = {"bn": {"mean": jnp.reshape(state["bn/~/mean_ema"]["hidden"], (-1,)),
                                       "var": jnp.reshape(state["bn/~/var_ema"]["hidden"], (-1,))}}
    return variables
