"""init_network works out He's std once, from the first size, and hands it to every layer: right for
the first layer only (and for a stack of equal widths), too small or too big for a layer whose fan_in
differs from sizes[0]."""
MUST_FAIL = ["test_init_network_layer_stds"]
MUST_SAY = {"test_init_network_layer_stds": ["first layer's fan_in"]}
MUST_NOT_SAY = {"test_init_network_layer_stds": ["sqrt(2 / fan_out)"]}
MUST_PASS = ["test_init_network_shapes", "test_he_keeps_the_signal_steady"]


def init_network(key, sizes, std=None):
    if std is None:
        std = he_std(sizes[0])
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        key, layer_key = jax.random.split(key)
        params.append(init_layer(layer_key, fan_in, fan_out, std))
    return params
