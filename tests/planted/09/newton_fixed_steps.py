"""newton_sqrt running a fixed 20 updates with fori_loop: a converged root, but not stopped at the tolerance."""
MUST_FAIL = ["test_newton_sqrt_stops_at_the_tolerance"]
MUST_SAY = {"test_newton_sqrt_stops_at_the_tolerance": ["fixed number of times"]}


def newton_sqrt(a, tol):
    x = lax.fori_loop(0, 20, lambda i, x: (x + a / x) / 2, jnp.maximum(a, 1.0))
    return x, jnp.int32(20)
