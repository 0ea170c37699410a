"""weight_norm stops the gradient at the norm: the values are right, but the gradient with respect to v
is no longer orthogonal to v."""
MUST_FAIL = ["test_weight_norm_gradient"]
MUST_SAY = {"test_weight_norm_gradient": ["does not flow through the norm"]}
MUST_PASS = ["test_weight_norm", "test_weight_norm_dense"]


def weight_norm(v, g):
    return g * v / jax.lax.stop_gradient(jnp.sqrt(jnp.sum(v * v, axis=0, keepdims=True)))
