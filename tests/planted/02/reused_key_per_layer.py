"""Draws every layer from the same key instead of splitting it: the key is reused."""
MUST_FAIL = ["test_init_layers", "test_init_layers_gives_each_layer_its_own_key"]


def init_layers(key, sizes):
    return [jax.random.normal(key, (m, n)) for m, n in zip(sizes[:-1], sizes[1:])]
