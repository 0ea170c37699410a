"""Hands the same key to every layer, so layers of equal shape are identical."""
MUST_FAIL = ["test_init_network_gives_each_layer_its_own_key"]
MUST_SAY = {"test_init_network_gives_each_layer_its_own_key": ["consumed twice"]}


def init_network(key, sizes, std=None):
    return [init_layer(key, fan_in, fan_out, std) for fan_in, fan_out in zip(sizes[:-1], sizes[1:])]
