"""Scales the weights by fan_out instead of fan_in: std sqrt(2 / fan_out). Only a layer whose fan_in
differs from its fan_out shows it (the deep stack of equal widths can't)."""
MUST_FAIL = ["test_init_layer_std", "test_init_network_layer_stds"]
MUST_SAY = {"test_init_layer_std": ["sqrt(2 / fan_out)"]}
MUST_PASS = ["test_he_keeps_the_signal_steady"]


def init_layer(key, fan_in, fan_out, std=None):
    if std is None:
        std = he_std(fan_out)
    return {"w": std * jax.random.normal(key, (fan_in, fan_out)), "b": jnp.zeros((fan_out,))}
