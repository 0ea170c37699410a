"""shard_map with the batch replicated (in_specs P() for it too): every device computes the whole
batch, so the numbers are right but nothing is data-parallel."""
MUST_FAIL = ["test_shard_map_step_splits_the_batch_and_averages"]
MUST_SAY = {"test_shard_map_step_splits_the_batch_and_averages": ["replicated", "P()"]}


def make_shard_map_step(loss_fn, mesh):
    axis = mesh.axis_names[0]

    def per_block(params, batch, lr):
        loss, grads = jax.value_and_grad(lambda p: lax.pmean(loss_fn(p, batch), axis))(params)
        return sgd_update(params, grads, lr), loss

    return jax.shard_map(per_block, mesh=mesh, in_specs=(P(), P(), P()), out_specs=(P(), P()))
