"""A true convolution (the kernel flipped, as jnp.convolve does) where the correlation was asked."""
MUST_FAIL = ["test_conv1d_halo"]
MUST_SAY = {"test_conv1d_halo": ["flipped"]}


def conv1d_halo(x, kernel, mesh):
    axis = mesh.axis_names[0]
    n = mesh.shape[axis]
    h = kernel.shape[0] // 2

    def per_block(block, kernel):
        left = lax.ppermute(block[-h:], axis, [(i, i + 1) for i in range(n - 1)])
        right = lax.ppermute(block[:h], axis, [(i + 1, i) for i in range(n - 1)])
        return jnp.convolve(jnp.concatenate([left, block, right]), kernel, mode="valid")

    return jax.shard_map(per_block, mesh=mesh, in_specs=(P(axis), P()), out_specs=P(axis))(x, kernel)
