"""init_network hands init_layer its sizes the other way round, init_layer(k, fan_out, fan_in): every
weight matrix comes out transposed, (fan_out, fan_in), with the std of fan_out. Invisible for a layer
whose two sizes are equal."""
MUST_FAIL = ["test_init_network_shapes", "test_init_network_layer_stds"]
MUST_PASS = ["test_he_keeps_the_signal_steady"]


def init_network(key, sizes, std=None):
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        key, layer_key = jax.random.split(key)
        params.append(init_layer(layer_key, fan_out, fan_in, std))
    return params
