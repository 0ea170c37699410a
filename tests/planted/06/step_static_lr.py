"""A train step jitted with lr as a static argument: every new learning rate compiles again."""
MUST_FAIL = ["test_train_step_traces_once"]
MUST_SAY = {"test_train_step_traces_once": ["only lr changed", "static"]}
# The exercises built on this one are judged on its docstring's version: they pass.
MUST_PASS = ["test_fit_follows_sgd", "test_fit_traces_the_loss_at_most_twice"]


def make_train_step(loss_fn):
    def step(params, batch, lr):
        x, y = batch
        loss, grads = jax.value_and_grad(lambda p: loss_fn(forward(p, x), y))(params)
        return sgd_update(params, grads, lr), loss

    return jax.jit(step, static_argnames="lr")
