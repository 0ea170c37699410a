"""newton_sqrt starting at x = 1 instead of max(a, 1): the same iterates from the first update on, told
apart only by an a just above 1 that x = 1 already meets within a relative tolerance and x = a does not
(a = 1.105 with tol = 0.1: 0 updates, not 1)."""
MUST_FAIL = ["test_newton_sqrt_stops_at_the_tolerance"]
MUST_SAY = {"test_newton_sqrt_stops_at_the_tolerance": ["starts at x = 1", "max(a, 1)"]}
MUST_PASS = ["test_newton_sqrt", "test_newton_sqrt_stops_at_the_cap"]


def newton_sqrt(a, tol):
    a = jnp.asarray(a, jnp.float32)

    def keep_going(carry):
        x, steps = carry
        return (jnp.abs(x * x - a) > tol * a) & (steps < MAX_NEWTON_STEPS)

    def update(carry):
        x, steps = carry
        return (x + a / x) / 2, steps + 1

    return lax.while_loop(keep_going, update, (jnp.float32(1.0), jnp.int32(0)))
