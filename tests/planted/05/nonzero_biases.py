"""Draws the biases at random too, instead of starting them at zero."""
MUST_FAIL = ["test_init_layer_biases_are_zero", "test_init_network_shapes"]


def init_layer(key, fan_in, fan_out, std=None):
    if std is None:
        std = he_std(fan_in)
    key_w, key_b = jax.random.split(key)
    return {"w": std * jax.random.normal(key_w, (fan_in, fan_out)),
            "b": std * jax.random.normal(key_b, (fan_out,))}
