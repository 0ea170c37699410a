"""newton_sqrt with a Python while loop on the traced error: fails under jit."""
MUST_FAIL = ["test_newton_sqrt", "test_newton_sqrt_stops_at_the_tolerance"]
MUST_SAY = {"test_newton_sqrt": ["`while`", "lax.while_loop"]}


def newton_sqrt(a, tol):
    x, steps = jnp.maximum(a, 1.0), 0
    while jnp.abs(x * x - a) > tol * a and steps < MAX_NEWTON_STEPS:
        x, steps = (x + a / x) / 2, steps + 1
    return x, jnp.int32(steps)
