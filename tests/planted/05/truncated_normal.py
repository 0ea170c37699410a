"""Uses jax.nn.initializers' truncated normal (as he_normal does) instead of the plain normal asked for."""
MUST_FAIL = ["test_init_layer_draws_from_a_normal"]
MUST_SAY = {"test_init_layer_draws_from_a_normal": ["truncated normal"]}


def init_layer(key, fan_in, fan_out, std=None):
    if std is None:
        std = he_std(fan_in)
    draw = jax.nn.initializers.variance_scaling(std ** 2 * fan_in, "fan_in", "truncated_normal")
    return {"w": draw(key, (fan_in, fan_out), jnp.float32), "b": jnp.zeros((fan_out,))}
