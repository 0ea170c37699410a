"""Splits the key, then still gives the parent key itself to the first layer: a key used twice,
although no two layers come out equal. Only jax.debug_key_reuse sees it."""
MUST_FAIL = ["test_init_network_gives_each_layer_its_own_key"]
MUST_SAY = {"test_init_network_gives_each_layer_its_own_key": ["consumed twice"]}


def init_network(key, sizes, std=None):
    keys = jax.random.split(key, len(sizes) - 1)
    layers = [init_layer(key, sizes[0], sizes[1], std)]
    return layers + [init_layer(k, fan_in, fan_out, std)
                     for k, fan_in, fan_out in zip(keys[1:], sizes[1:-1], sizes[2:])]
