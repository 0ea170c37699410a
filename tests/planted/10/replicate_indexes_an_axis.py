"""replicate adds the device axis with p[None, :], which assumes the leaf has an axis: right for the
MLP's weights and biases, an IndexError on a scalar leaf such as the linear regression's b. Only a test
with a 0-d leaf sees it."""
MUST_FAIL = ["test_replicate"]
MUST_SAY = {"test_replicate": ["the leaf of shape ()"]}


def replicate(params, n_devices):
    return jax.tree.map(lambda p: jnp.repeat(jnp.asarray(p)[None, :], n_devices, axis=0), params)
