"""Draws from a uniform on [-s, s] with s = sqrt(2 / fan_in): the std comes out s / sqrt(3)."""
MUST_FAIL = ["test_init_layer_std", "test_init_layer_draws_from_a_normal", "test_init_network_layer_stds",
             "test_he_keeps_the_signal_steady"]
MUST_SAY = {"test_init_layer_std": ["s / sqrt(3)"]}


def init_layer(key, fan_in, fan_out, std=None):
    if std is None:
        std = he_std(fan_in)
    w = jax.random.uniform(key, (fan_in, fan_out), minval=-std, maxval=std)
    return {"w": w, "b": jnp.zeros((fan_out,))}
