"""The convolution with no halo exchange: each device pads its own block with zeros, so the values
next to the boundaries between blocks are wrong."""
MUST_FAIL = ["test_conv1d_halo", "test_conv1d_halo_trades_only_the_edges"]
MUST_SAY = {"test_conv1d_halo": ["boundaries between devices' blocks", "padded with zeros on its own"]}


def conv1d_halo(x, kernel, mesh):
    axis = mesh.axis_names[0]
    h = kernel.shape[0] // 2

    def per_block(block, kernel):
        padded = jnp.pad(block, h)
        return jnp.correlate(padded, kernel, mode="valid")

    return jax.shard_map(per_block, mesh=mesh, in_specs=(P(axis), P()), out_specs=P(axis))(x, kernel)
