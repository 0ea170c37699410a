"""A train step that uses jax.value_and_grad, then evaluates the loss again after the update and returns
that one: the hint must name the loss after the update, not a value-then-grad pair."""
MUST_FAIL = ["test_train_step", "test_train_step_traces_once"]
MUST_SAY = {"test_train_step": ["UPDATED params"],
            "test_train_step_traces_once": ["after the update", "loss of the UPDATED params"]}
MUST_NOT_SAY = {"test_train_step_traces_once": ["once for its value", "inside jax.grad"]}


def make_train_step(optimizer, loss_fn):
    def step(params, opt_state, x, y):
        _, grads = jax.value_and_grad(lambda p: loss_fn(forward(p, x), y))(params)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        new = optax.apply_updates(params, updates)
        return new, opt_state, loss_fn(forward(new, x), y)

    return jax.jit(step)
