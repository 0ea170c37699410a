"""Dropout without the inverted-dropout rescaling: kept values are not divided by p_keep."""
MUST_FAIL = ["test_dropout_scales_kept_values"]
MUST_SAY = {"test_dropout_scales_kept_values": ["x times 1"]}


def dropout(key, x, p_keep):
    keep = jax.random.bernoulli(key, p_keep, x.shape)
    return jnp.where(keep, x, 0.0).astype(x.dtype)
