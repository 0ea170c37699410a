"""Ignores the std argument: always He, so the naive inits can't be compared."""
MUST_FAIL = ["test_init_layer_std", "test_init_network_layer_stds", "test_he_keeps_the_signal_steady"]
MUST_SAY = {"test_init_layer_std": ["He's std, though a number was given"]}


def init_layer(key, fan_in, fan_out, std=None):
    std = he_std(fan_in)
    return {"w": std * jax.random.normal(key, (fan_in, fan_out)), "b": jnp.zeros((fan_out,))}
