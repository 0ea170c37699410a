"""shard_map with no collective, and JAX's check switched off (check_vma=False, as its error suggests):
the step and the loss are the first device's block's alone."""
MUST_FAIL = ["test_shard_map_step_trains_like_one_device", "test_shard_map_step_trains_the_mlp",
             "test_shard_map_step_splits_the_batch_and_averages"]
MUST_SAY = {"test_shard_map_step_trains_like_one_device": ["first device's block"],
            "test_shard_map_step_splits_the_batch_and_averages": ["check_vma=False"]}


def make_shard_map_step(loss_fn, mesh):
    axis = mesh.axis_names[0]

    def per_block(params, batch, lr):
        loss, grads = jax.value_and_grad(loss_fn)(params, batch)
        return sgd_update(params, grads, lr), loss

    return jax.shard_map(per_block, mesh=mesh, in_specs=(P(), P(axis), P()), out_specs=(P(), P()),
                         check_vma=False)
