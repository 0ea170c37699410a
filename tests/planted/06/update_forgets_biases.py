"""An SGD update written for the weights only: the biases never move."""
MUST_FAIL = ["test_sgd_update", "test_sgd_update_any_pytree"]
MUST_SAY = {"test_sgd_update": ["biases did not"]}


def sgd_update(params, grads, lr):
    return [{"w": p["w"] - lr * g["w"], "b": p["b"]} for p, g in zip(params, grads)]
