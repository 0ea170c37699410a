"""The cap checked with <=: a tolerance that can't be met makes MAX_NEWTON_STEPS + 1 updates."""
MUST_FAIL = ["test_newton_sqrt_stops_at_the_cap"]
MUST_SAY = {"test_newton_sqrt_stops_at_the_cap": ["steps = 101", "one update too many"]}


def newton_sqrt(a, tol):
    a = jnp.asarray(a, jnp.float32)

    def keep_going(carry):
        x, steps = carry
        return (jnp.abs(x * x - a) > tol * a) & (steps <= MAX_NEWTON_STEPS)

    def update(carry):
        x, steps = carry
        return (x + a / x) / 2, steps + 1

    return lax.while_loop(keep_going, update, (jnp.maximum(a, 1.0), jnp.int32(0)))
