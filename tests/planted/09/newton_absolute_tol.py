"""newton_sqrt stopping at |x * x - a| <= tol, an absolute tolerance instead of the relative tol * a."""
MUST_FAIL = ["test_newton_sqrt", "test_newton_sqrt_stops_at_the_tolerance"]
MUST_SAY = {"test_newton_sqrt_stops_at_the_tolerance": ["absolute tolerance"]}


def newton_sqrt(a, tol):
    def keep_going(carry):
        x, steps = carry
        return (jnp.abs(x * x - a) > tol) & (steps < MAX_NEWTON_STEPS)

    return lax.while_loop(keep_going, lambda c: ((c[0] + a / c[0]) / 2, c[1] + 1), (jnp.maximum(a, 1.0), jnp.int32(0)))
