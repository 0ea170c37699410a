"""newton_sqrt that always makes one update before testing the condition (a do-while)."""
MUST_FAIL = ["test_newton_sqrt_stops_at_the_tolerance"]
MUST_SAY = {"test_newton_sqrt_stops_at_the_tolerance": ["before every update"]}


def newton_sqrt(a, tol):
    x0 = jnp.maximum(a, 1.0)

    def keep_going(carry):
        x, steps = carry
        return (jnp.abs(x * x - a) > tol * a) & (steps < MAX_NEWTON_STEPS)

    return lax.while_loop(keep_going, lambda c: ((c[0] + a / c[0]) / 2, c[1] + 1), ((x0 + a / x0) / 2, jnp.int32(1)))
