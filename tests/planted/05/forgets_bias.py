"""Leaves out the biases in the forward pass."""
MUST_FAIL = ["test_activation_scales"]
MUST_SAY = {"test_activation_scales": ["biases were left out"]}


def activation_scales(params, x):
    h, scales = x, []
    for layer in params:
        h = jax.nn.relu(h @ layer["w"])
        scales.append(jnp.mean(h ** 2))
    return jnp.stack(scales)
