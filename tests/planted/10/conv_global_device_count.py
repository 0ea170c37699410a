"""The halo pairs numbered over ALL of JAX's devices (jax.device_count()), not over the mesh axis:
right on a mesh of every device, pairs naming devices the mesh doesn't have on a smaller one."""
MUST_FAIL = ["test_conv1d_halo", "test_conv1d_halo_trades_only_the_edges"]
MUST_SAY = {"test_conv1d_halo": ["fewer devices than JAX has"]}


def conv1d_halo(x, kernel, mesh):
    axis = mesh.axis_names[0]
    n = jax.device_count()
    h = kernel.shape[0] // 2

    def per_block(block, kernel):
        left = lax.ppermute(block[-h:], axis, [(i, i + 1) for i in range(n - 1)])
        right = lax.ppermute(block[:h], axis, [(i + 1, i) for i in range(n - 1)])
        return jnp.correlate(jnp.concatenate([left, block, right]), kernel, mode="valid")

    return jax.shard_map(per_block, mesh=mesh, in_specs=(P(axis), P()), out_specs=P(axis))(x, kernel)
