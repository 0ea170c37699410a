"""No collective in the shard_mapped function: JAX refuses out_specs=P() for a per-device value."""
MUST_FAIL = ["test_data_parallel_loss_and_its_grad", "test_data_parallel_loss_splits_the_batch"]
MUST_SAY = {"test_data_parallel_loss_and_its_grad": ["not combined across devices"],
            "test_data_parallel_loss_splits_the_batch": ["not combined across devices"]}


def data_parallel_loss(w, x, y, mesh):
    axis = mesh.axis_names[0]

    def block_loss(w, x_block, y_block):
        return jnp.mean((x_block @ w - y_block) ** 2)

    return jax.shard_map(block_loss, mesh=mesh, in_specs=(P(), P(axis), P(axis)), out_specs=P())(w, x, y)
