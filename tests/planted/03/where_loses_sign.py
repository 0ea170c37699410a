"""Replaces the Python `if` with a jnp.where that subtracts t on both sides: negative values move away from 0."""
MUST_FAIL = ["test_soft_threshold_under_jit"]
MUST_SAY = {"test_soft_threshold_under_jit": ["where x < -t"]}


def soft_threshold(x, t):
    return jnp.where(jnp.abs(x) > t, x - t, 0.0)
