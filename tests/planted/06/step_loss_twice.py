"""A train step that evaluates the loss twice in one trace: once for its value, once inside jax.grad."""
MUST_FAIL = ["test_train_step_traces_once"]
MUST_SAY = {"test_train_step_traces_once": ["more than once", "value_and_grad"]}


def make_train_step(loss_fn):
    def step(params, batch, lr):
        x, y = batch
        loss = loss_fn(forward(params, x), y)
        grads = jax.grad(lambda p: loss_fn(forward(p, x), y))(params)
        return sgd_update(params, grads, lr), loss

    return jax.jit(step)
