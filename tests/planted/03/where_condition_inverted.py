"""Replaces `if x % 2 == 0` with jnp.where(x % 2, ...): x % 2 is truthy for ODD x, so the branches swap."""
MUST_FAIL = ["test_collatz_after_under_jit"]
MUST_SAY = {"test_collatz_after_under_jit": ["branches were swapped"]}


def collatz_after(x, n):
    return lax.fori_loop(0, n, lambda i, v: jnp.where(v % 2, v // 2, 3 * v + 1), x)
