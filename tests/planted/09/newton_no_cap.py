"""No cap in the loop's condition: right wherever the tolerance is met, but a tolerance that can't be met
(1e-20 for a = 2 in float32) loops forever."""
MUST_FAIL = ["test_newton_sqrt_stops_at_the_cap"]
MUST_SAY = {"test_newton_sqrt_stops_at_the_cap": ["still going", "stop at the cap"]}


def newton_sqrt(a, tol):
    a = jnp.asarray(a, jnp.float32)

    def keep_going(carry):
        x, _ = carry
        return jnp.abs(x * x - a) > tol * a

    def update(carry):
        x, steps = carry
        return (x + a / x) / 2, steps + 1

    return lax.while_loop(keep_going, update, (jnp.maximum(a, 1.0), jnp.int32(0)))
