"""Ignores the key and draws the mask from a fixed seed: every call drops the same entries."""
MUST_FAIL = ["test_dropout_depends_on_the_key"]
MUST_SAY = {"test_dropout_depends_on_the_key": ["a key of its own from a seed"]}


def dropout(key, x, p_keep):
    keep = jax.random.bernoulli(jax.random.key(0), p_keep, x.shape)
    return jnp.where(keep, x / p_keep, 0.0).astype(x.dtype)
