"""The SGD step updates the weights and leaves the biases behind."""
MUST_FAIL = ["test_sgd_step_updates_every_leaf"]
MUST_SAY = {"test_sgd_step_updates_every_leaf": ["biases came back unchanged"]}


def sgd_step(params, grads, lr):
    return {name: {"w": layer["w"] - lr * grads[name]["w"], "b": layer["b"]} for name, layer in params.items()}
