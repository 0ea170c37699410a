"""init_network doesn't pass std on to init_layer: every network gets He's weights, whatever std says."""
MUST_FAIL = ["test_init_network_layer_stds", "test_he_keeps_the_signal_steady"]
MUST_SAY = {"test_init_network_layer_stds": ["He's std, though a number was given"],
            "test_he_keeps_the_signal_steady": ["with std=1.0"]}


def init_network(key, sizes, std=None):
    keys = jax.random.split(key, len(sizes) - 1)
    return [init_layer(k, fan_in, fan_out) for k, fan_in, fan_out in zip(keys, sizes[:-1], sizes[1:])]
