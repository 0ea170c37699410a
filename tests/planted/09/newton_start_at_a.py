"""newton_sqrt starting at x = a instead of max(a, 1): from the first update on the iterates are the same
((a + a / a) / 2 = (1 + a / 1) / 2), so only an a just below 1, whose start x = a already meets a
relative tolerance that x = 1 does not, tells it apart (a = 0.905 with tol = 0.1: 0 updates, not 1)."""
MUST_FAIL = ["test_newton_sqrt_stops_at_the_tolerance"]
MUST_SAY = {"test_newton_sqrt_stops_at_the_tolerance": ["starts at x = a", "max(a, 1)"]}
MUST_PASS = ["test_newton_sqrt", "test_newton_sqrt_stops_at_the_cap"]


def newton_sqrt(a, tol):
    a = jnp.asarray(a, jnp.float32)

    def keep_going(carry):
        x, steps = carry
        return (jnp.abs(x * x - a) > tol * a) & (steps < MAX_NEWTON_STEPS)

    def update(carry):
        x, steps = carry
        return (x + a / x) / 2, steps + 1

    return lax.while_loop(keep_going, update, (a, jnp.int32(0)))
