"""The Huber loss's quadratic piece without its 0.5: e ** 2 near zero."""
MUST_FAIL = ["test_huber"]
MUST_SAY = {"test_huber": ["0.5"]}


def huber(pred, target, delta=1.0):
    e = jnp.abs(pred - target)
    return jnp.mean(jnp.where(e <= delta, e ** 2, delta * (e - 0.5 * delta)))
