"""scale written as dict comprehensions over the layers and their keys: right on a dict of layers, but it
knows only that layout (the module asks for no loops over the dict's keys)."""
MUST_FAIL = ["test_scale_works_on_any_pytree"]
MUST_SAY = {"test_scale_works_on_any_pytree": ["any pytree"]}


def scale(params, factor):
    return {name: {k: v * factor for k, v in layer.items()} for name, layer in params.items()}
