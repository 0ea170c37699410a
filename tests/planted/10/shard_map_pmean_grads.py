"""shard_map written like pmap: the gradient of each device's own loss, then pmean of the gradients.
With params replicated (P()), shard_map already sums that gradient over the devices, so the step is
8 times too long."""
MUST_FAIL = ["test_shard_map_step_trains_like_one_device", "test_shard_map_step_trains_the_mlp"]
MUST_SAY = {"test_shard_map_step_trains_like_one_device": ["8 times as far", "already summed"]}


def make_shard_map_step(loss_fn, mesh):
    axis = mesh.axis_names[0]

    def per_block(params, batch, lr):
        loss, grads = jax.value_and_grad(loss_fn)(params, batch)
        grads = lax.pmean(grads, axis)
        return sgd_update(params, grads, lr), lax.pmean(loss, axis)

    return jax.shard_map(per_block, mesh=mesh, in_specs=(P(), P(axis), P()), out_specs=(P(), P()))
