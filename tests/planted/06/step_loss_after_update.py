"""A train step that reports the loss of the updated params instead of the params it was given."""
MUST_FAIL = ["test_train_step"]
MUST_SAY = {"test_train_step": ["updated params"]}
# The exercises built on this one are judged on its docstring's version: they pass.
MUST_PASS = ["test_fit_follows_sgd", "test_fit_returns_params_and_losses"]


def make_train_step(loss_fn):
    def step(params, batch, lr):
        x, y = batch
        grads = jax.grad(lambda p: loss_fn(forward(p, x), y))(params)
        new = sgd_update(params, grads, lr)
        return new, loss_fn(forward(new, x), y)

    return jax.jit(step)
