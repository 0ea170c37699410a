"""Every device gathers the whole signal (all_gather), convolves all of it and keeps its own part:
right values, but each device holds the whole signal."""
MUST_FAIL = ["test_conv1d_halo_trades_only_the_edges"]
MUST_SAY = {"test_conv1d_halo_trades_only_the_edges": ["collected the whole signal"]}


def conv1d_halo(x, kernel, mesh):
    axis = mesh.axis_names[0]

    def per_block(block, kernel):
        whole = lax.all_gather(block, axis, tiled=True)
        out = jnp.correlate(whole, kernel, mode="same")
        m = block.shape[0]
        return lax.dynamic_slice(out, (lax.axis_index(axis) * m,), (m,))

    return jax.shard_map(per_block, mesh=mesh, in_specs=(P(axis), P()), out_specs=P(axis))(x, kernel)
