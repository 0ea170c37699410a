"""make_train_step returns a plain function that wraps the step in jax.jit on every call: JAX's cache
spares the retrace, but the function returned is not the compiled step."""
MUST_FAIL = ["test_train_step_traces_once"]
MUST_SAY = {"test_train_step_traces_once": ["not a jitted function"]}


def make_train_step(loss_fn):
    def step(params, batch, lr):
        x, y = batch
        loss, grads = jax.value_and_grad(lambda p: loss_fn(forward(p, x), y))(params)
        return sgd_update(params, grads, lr), loss

    return lambda params, batch, lr: jax.jit(step)(params, batch, lr)
