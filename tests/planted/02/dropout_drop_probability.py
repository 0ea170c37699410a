"""Treats p_keep as the probability to drop: keeps a fraction 1 - p_keep."""
MUST_FAIL = ["test_dropout_keep_rate"]
MUST_SAY = {"test_dropout_keep_rate": ["1 - p_keep"]}


def dropout(key, x, p_keep):
    keep = jax.random.bernoulli(key, 1.0 - p_keep, x.shape)
    return jnp.where(keep, x / p_keep, 0.0).astype(x.dtype)
