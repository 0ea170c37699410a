"""Computes the loss on the whole batch without jax.shard_map: the right number, but not data-parallel."""
MUST_FAIL = ["test_data_parallel_loss_splits_the_batch"]
MUST_SAY = {"test_data_parallel_loss_splits_the_batch": ["without shard_map"]}


def data_parallel_loss(w, x, y, mesh):
    return jnp.mean((x @ w - y) ** 2)
