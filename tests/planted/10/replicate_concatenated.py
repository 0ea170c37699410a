"""The copies joined end to end along the leaf's own first axis instead of stacked along a new one."""
MUST_FAIL = ["test_replicate"]
MUST_SAY = {"test_replicate": ["end to end"]}


def replicate(params, n_devices):
    return jax.tree.map(lambda p: jnp.concatenate([jnp.atleast_1d(p)] * n_devices), params)
