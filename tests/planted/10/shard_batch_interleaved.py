"""The batch dealt out like cards: device i gets rows i, i + 8, i + 16, ... instead of a block."""
MUST_FAIL = ["test_shard_batch"]
MUST_SAY = {"test_shard_batch": ["dealt out"]}


def shard_batch(batch, n_devices):
    return jax.tree.map(lambda a: jnp.swapaxes(a.reshape((-1, n_devices) + a.shape[1:]), 0, 1), batch)
