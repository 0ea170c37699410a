"""lax.cond on the element-wise comparison x > t: lax.cond takes one scalar predicate, not an array."""
MUST_FAIL = ["test_soft_threshold_under_jit"]
MUST_SAY = {"test_soft_threshold_under_jit": ["one choice", "element by element"]}


def soft_threshold(x, t):
    return lax.cond(x > t, lambda v: v - t, lambda v: jnp.where(v < -t, v + t, 0.0), x)
