"""Gives w the shape (fan_out, fan_in), PyTorch's layout, where this lesson's h @ w needs (fan_in, fan_out)."""
MUST_FAIL = ["test_init_layer_returns_w_and_b", "test_init_network_shapes"]


def init_layer(key, fan_in, fan_out, std=None):
    if std is None:
        std = he_std(fan_in)
    return {"w": std * jax.random.normal(key, (fan_out, fan_in)), "b": jnp.zeros((fan_out,))}
