"""init_network picks each layer's He std itself, from the layer's fan_out instead of its fan_in:
invisible wherever the two are equal, as in a stack of equal widths."""
MUST_FAIL = ["test_init_network_layer_stds"]
MUST_SAY = {"test_init_network_layer_stds": ["sqrt(2 / fan_out)"]}
MUST_PASS = ["test_init_network_shapes", "test_he_keeps_the_signal_steady"]


def init_network(key, sizes, std=None):
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        key, layer_key = jax.random.split(key)
        params.append(init_layer(layer_key, fan_in, fan_out, he_std(fan_out) if std is None else std))
    return params
