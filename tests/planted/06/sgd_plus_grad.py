"""An SGD update that adds the gradient: it climbs the loss."""
MUST_FAIL = ["test_sgd_update", "test_sgd_update_any_pytree"]
MUST_SAY = {"test_sgd_update": ["up the gradient"]}


def sgd_update(params, grads, lr):
    return jax.tree.map(lambda p, g: p + lr * g, params, grads)
