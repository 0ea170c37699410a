"""Every input replicated (in_specs P() for x and y too): each device computes the whole batch's
loss, so the value is right but nothing is data-parallel."""
MUST_FAIL = ["test_data_parallel_loss_splits_the_batch"]
MUST_SAY = {"test_data_parallel_loss_splits_the_batch": ["replicated", "P()"]}


def data_parallel_loss(w, x, y, mesh):
    axis = mesh.axis_names[0]

    def block_loss(w, x_block, y_block):
        return lax.pmean(jnp.mean((x_block @ w - y_block) ** 2), axis)

    return jax.shard_map(block_loss, mesh=mesh, in_specs=(P(), P(), P()), out_specs=P())(w, x, y)
