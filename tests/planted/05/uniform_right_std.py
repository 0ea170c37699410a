"""Draws from a uniform on [-sqrt(6 / fan_in), sqrt(6 / fan_in)]: the right std, but not the normal asked for."""
MUST_FAIL = ["test_init_layer_draws_from_a_normal"]
MUST_SAY = {"test_init_layer_draws_from_a_normal": ["uniform"]}


def init_layer(key, fan_in, fan_out, std=None):
    if std is None:
        std = he_std(fan_in)
    bound = math.sqrt(3.0) * std
    w = jax.random.uniform(key, (fan_in, fan_out), minval=-bound, maxval=bound)
    return {"w": w, "b": jnp.zeros((fan_out,))}
