"""An SGD update that adds the gradient: it climbs the loss."""
MUST_FAIL = ["test_sgd_update", "test_sgd_update_any_pytree"]
MUST_SAY = {"test_sgd_update": ["up the gradient"]}
# The exercises built on this one are judged on its docstring's version: they pass.
MUST_PASS = ["test_train_step", "test_fit_follows_sgd", "test_fit_digits"]


def sgd_update(params, grads, lr):
    return jax.tree.map(lambda p, g: p + lr * g, params, grads)
