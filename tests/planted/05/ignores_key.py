"""Makes a fresh key inside instead of using the one it is given: every call returns the same layer."""
MUST_FAIL = ["test_init_layer_follows_its_key", "test_init_network_is_reproducible",
             "test_init_network_gives_each_layer_its_own_key"]
MUST_SAY = {"test_init_layer_follows_its_key": ["two different keys gave identical weights"]}


def init_layer(key, fan_in, fan_out, std=None):
    if std is None:
        std = he_std(fan_in)
    w = std * jax.random.normal(jax.random.key(0), (fan_in, fan_out))
    return {"w": w, "b": jnp.zeros((fan_out,))}
