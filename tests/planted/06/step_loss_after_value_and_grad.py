"""A train step that uses jax.value_and_grad, then evaluates the loss again after the update and returns
that one: the second evaluation is the loss after the update, not a value-then-grad pair, and the hint
must say so. fit, judged on the docstring's make_train_step, is not charged for this mistake."""
MUST_FAIL = ["test_train_step", "test_train_step_traces_once"]
MUST_SAY = {"test_train_step": ["updated params"],
            "test_train_step_traces_once": ["after the update", "loss of the updated params"]}
MUST_NOT_SAY = {"test_train_step_traces_once": ["once for its value", "inside jax.grad"]}
MUST_PASS = ["test_fit_follows_sgd", "test_fit_traces_the_loss_at_most_twice", "test_fit_returns_params_and_losses"]


def make_train_step(loss_fn):
    def step(params, batch, lr):
        x, y = batch
        _, grads = jax.value_and_grad(lambda p: loss_fn(forward(p, x), y))(params)
        new = sgd_update(params, grads, lr)
        return new, loss_fn(forward(new, x), y)

    return jax.jit(step)
