"""No collective, and JAX's check switched off with check_vma=False (as its error suggests): the
result is the first device's block loss."""
MUST_FAIL = ["test_data_parallel_loss_and_its_grad"]
MUST_SAY = {"test_data_parallel_loss_and_its_grad": ["first device's block loss", "not combined across devices",
                                                     "check_vma=False"]}


def data_parallel_loss(w, x, y, mesh):
    axis = mesh.axis_names[0]

    def block_loss(w, x_block, y_block):
        return jnp.mean((x_block @ w - y_block) ** 2)

    return jax.shard_map(block_loss, mesh=mesh, in_specs=(P(), P(axis), P(axis)), out_specs=P(),
                         check_vma=False)(w, x, y)
