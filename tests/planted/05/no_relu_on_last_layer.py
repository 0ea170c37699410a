"""Leaves the ReLU off the last layer, as an output layer often is; here every layer ends in a ReLU."""
MUST_FAIL = ["test_activation_scales"]
MUST_SAY = {"test_activation_scales": ["last layer's ReLU is missing"]}


def activation_scales(params, x):
    h, scales = x, []
    for k, layer in enumerate(params):
        h = h @ layer["w"] + layer["b"]
        if k < len(params) - 1:
            h = jax.nn.relu(h)
        scales.append(jnp.mean(h ** 2))
    return jnp.stack(scales)
