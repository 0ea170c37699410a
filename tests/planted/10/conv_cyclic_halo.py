"""The halo exchange wraps around (a cyclic ppermute, i -> (i + 1) % n): the ends of the signal see
each other instead of zeros."""
MUST_FAIL = ["test_conv1d_halo"]
MUST_SAY = {"test_conv1d_halo": ["wrapped around"]}


def conv1d_halo(x, kernel, mesh):
    axis = mesh.axis_names[0]
    n = mesh.shape[axis]
    h = kernel.shape[0] // 2

    def per_block(block, kernel):
        left = lax.ppermute(block[-h:], axis, [(i, (i + 1) % n) for i in range(n)])
        right = lax.ppermute(block[:h], axis, [(i, (i - 1) % n) for i in range(n)])
        return jnp.correlate(jnp.concatenate([left, block, right]), kernel, mode="valid")

    return jax.shard_map(per_block, mesh=mesh, in_specs=(P(axis), P()), out_specs=P(axis))(x, kernel)
