"""The loss evaluated twice in one trace: once for its value, again inside jax.grad."""
MUST_FAIL = ["test_train_step_traces_once"]
MUST_SAY = {"test_train_step_traces_once": ["more than once", "value_and_grad"]}


def make_train_step(optimizer, loss_fn):
    def step(params, opt_state, x, y):
        loss = loss_fn(forward(params, x), y)
        grads = jax.grad(lambda p: loss_fn(forward(p, x), y))(params)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    return jax.jit(step)
