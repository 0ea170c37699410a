"""delta ignored: the threshold is always 1."""
MUST_FAIL = ["test_huber"]
MUST_SAY = {"test_huber": ["delta argument"]}


def huber(pred, target, delta=1.0):
    e = jnp.abs(pred - target)
    return jnp.mean(jnp.where(e <= 1.0, 0.5 * e ** 2, e - 0.5))
