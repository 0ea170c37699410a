"""The step is returned without jax.jit: its Python code, loss_fn included, runs on every call."""
MUST_FAIL = ["test_train_step_traces_once"]
MUST_SAY = {"test_train_step_traces_once": ["jax.jit once"]}


def make_train_step(optimizer, loss_fn):
    def step(params, opt_state, x, y):
        loss, grads = jax.value_and_grad(lambda p: loss_fn(forward(p, x), y))(params)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    return step
