"""Each device sums its block's squared errors instead of averaging them, then pmean: the loss is
the block size times too big (the same value only when every block has one row)."""
MUST_FAIL = ["test_data_parallel_loss_and_its_grad"]
MUST_SAY = {"test_data_parallel_loss_and_its_grad": ["summed its block's squared errors"]}


def data_parallel_loss(w, x, y, mesh):
    axis = mesh.axis_names[0]

    def block_loss(w, x_block, y_block):
        return lax.pmean(jnp.sum((x_block @ w - y_block) ** 2), axis)

    return jax.shard_map(block_loss, mesh=mesh, in_specs=(P(), P(axis), P(axis)), out_specs=P())(w, x, y)
