"""Draws one keep decision per column (a mask of shape x.shape[-1:]) and broadcasts it over the
rows, so every row keeps the same entries."""
MUST_FAIL = ["test_dropout_keep_rate"]
MUST_SAY = {"test_dropout_keep_rate": ["same entries kept in every row", "broadcast"]}


def dropout(key, x, p_keep):
    keep = jax.random.bernoulli(key, p_keep, x.shape[-1:])
    return jnp.where(keep, x / p_keep, 0.0).astype(x.dtype)
