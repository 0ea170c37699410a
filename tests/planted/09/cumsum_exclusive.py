"""cumsum outputting the total before each step's addition (an exclusive running sum)."""
MUST_FAIL = ["test_cumsum"]
MUST_SAY = {"test_cumsum": ["before adding"]}


def cumsum(xs):
    return lax.scan(lambda total, x: (total + x, total), jnp.zeros_like(xs[0]), xs)[1]
