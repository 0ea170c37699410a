"""Missing split, hidden from the reuse checker: a fresh key from a fixed seed for every layer, so every
layer of a shape gets the same numbers and the key argument is ignored."""
MUST_FAIL = ["test_init_layers", "test_init_layers_gives_each_layer_its_own_key"]


def init_layers(key, sizes):
    return [jax.random.normal(jax.random.key(0), (m, n)) for m, n in zip(sizes[:-1], sizes[1:])]
