"""sgd_step written as dict comprehensions over the layers and their keys: right on a dict of layers only."""
MUST_FAIL = ["test_sgd_step_updates_every_leaf"]
MUST_SAY = {"test_sgd_step_updates_every_leaf": ["any pytree"]}


def sgd_step(params, grads, lr):
    return {name: {k: v - lr * grads[name][k] for k, v in layer.items()} for name, layer in params.items()}
