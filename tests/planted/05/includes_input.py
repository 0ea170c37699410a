"""Puts the input's mean square first, so the result has one entry too many."""
MUST_FAIL = ["test_activation_scales"]
MUST_SAY = {"test_activation_scales": ["one entry too many"]}


def activation_scales(params, x):
    h, scales = x, [jnp.mean(x ** 2)]
    for layer in params:
        h = jax.nn.relu(h @ layer["w"] + layer["b"])
        scales.append(jnp.mean(h ** 2))
    return jnp.stack(scales)
