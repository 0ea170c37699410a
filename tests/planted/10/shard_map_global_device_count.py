"""shard_map's loss averaged by hand over ALL of JAX's devices (psum / jax.device_count()), not over the
mesh's: right on a mesh of every device, a step too short on a mesh of fewer (and on a GPU runner, where
the CPU mesh is not JAX's default devices at all)."""
MUST_FAIL = ["test_shard_map_step_trains_the_mlp"]
MUST_SAY = {"test_shard_map_step_trains_the_mlp": ["count of all of JAX's devices"]}


def make_shard_map_step(loss_fn, mesh):
    axis = mesh.axis_names[0]

    def per_block(params, batch, lr):
        def mean_loss(p):
            return lax.psum(loss_fn(p, batch), axis) / jax.device_count()

        loss, grads = jax.value_and_grad(mean_loss)(params)
        return sgd_update(params, grads, lr), loss

    return jax.shard_map(per_block, mesh=mesh, in_specs=(P(), P(axis), P()), out_specs=(P(), P()))
