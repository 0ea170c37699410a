"""Picks He's std with `std or he_std(fan_in)`: a std of 0.0 is falsy, so it is taken as "no std given"
and the layer gets He's weights instead of zeros."""
MUST_FAIL = ["test_init_layer_std", "test_init_network_layer_stds"]
MUST_SAY = {"test_init_layer_std": ["as if no std had been given"],
            "test_init_network_layer_stds": ["as if no std had been given"]}


def init_layer(key, fan_in, fan_out, std=None):
    std = std or he_std(fan_in)
    w = std * jax.random.normal(key, (fan_in, fan_out), dtype=jnp.float32)
    return {"w": w, "b": jnp.zeros((fan_out,), dtype=jnp.float32)}
