"""Measures the activations without the ReLU: a linear stack."""
MUST_FAIL = ["test_activation_scales"]
MUST_SAY = {"test_activation_scales": ["no ReLU was applied"]}


def activation_scales(params, x):
    h, scales = x, []
    for layer in params:
        h = h @ layer["w"] + layer["b"]
        scales.append(jnp.mean(h ** 2))
    return jnp.stack(scales)
