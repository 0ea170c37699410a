"""A train step that builds a new jitted function on every call, so it retraces every call."""
MUST_FAIL = ["test_train_step_traces_once"]
MUST_SAY = {"test_train_step_traces_once": ["same lr", "inside each call"]}


def make_train_step(loss_fn):
    def step(params, batch, lr):
        x, y = batch

        @jax.jit
        def go(params, x, y, lr):
            loss, grads = jax.value_and_grad(lambda p: loss_fn(forward(p, x), y))(params)
            return sgd_update(params, grads, lr), loss

        return go(params, x, y, lr)

    return step
