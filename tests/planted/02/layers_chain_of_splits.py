"""init_layers splits a new key off before each layer (key, sub = split(key)): a key per layer, but not the
docstring's split-once scheme, so other numbers."""
MUST_FAIL = ["test_init_layers"]
MUST_SAY = {"test_init_layers": ["chain of splits"]}


def init_layers(key, sizes):
    layers = []
    for m, n in zip(sizes[:-1], sizes[1:]):
        key, sub = jax.random.split(key)
        layers.append(jax.random.normal(sub, (m, n)))
    return layers
