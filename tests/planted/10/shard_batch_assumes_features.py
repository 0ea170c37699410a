"""shard_batch reshapes every leaf as if it were x, (n_devices, -1, a.shape[-1]): right for (n, d)
leaves, but a 1-D leaf such as the linear regression's y (rest empty) can't be reshaped so. Only a test
with a 1-D leaf sees it."""
MUST_FAIL = ["test_shard_batch"]
MUST_SAY = {"test_shard_batch": ["the leaf of shape (48,)", "none for a 1-D y"]}


def shard_batch(batch, n_devices):
    return jax.tree.map(lambda a: jnp.reshape(a, (n_devices, -1, jnp.shape(a)[-1])), batch)
