"""The linear piece as delta * |e|, which does not meet the quadratic piece at |e| = delta."""
MUST_FAIL = ["test_huber"]
MUST_SAY = {"test_huber": ["jumps"]}


def huber(pred, target, delta=1.0):
    e = jnp.abs(pred - target)
    return jnp.mean(jnp.where(e <= delta, 0.5 * e ** 2, delta * e))
