"""Reports the standard deviation of the activations instead of their mean square."""
MUST_FAIL = ["test_activation_scales"]
MUST_SAY = {"test_activation_scales": ["standard deviation"]}


def activation_scales(params, x):
    h, scales = x, []
    for layer in params:
        h = jax.nn.relu(h @ layer["w"] + layer["b"])
        scales.append(jnp.std(h))
    return jnp.stack(scales)
