"""fit written as a Python loop over a step of its own that jax.jit never wraps: loss_fn is traced again
at every step, and the run is stopped at the third trace."""
MUST_FAIL = ["test_fit_traces_the_loss_at_most_twice", "test_fit_sine"]
MUST_SAY = {"test_fit_traces_the_loss_at_most_twice": ["not compiled", "3 times in a run of 3"]}


def fit(params, x, y, steps, lr, loss_fn):
    losses = []
    for _ in range(steps):
        loss, grads = jax.value_and_grad(lambda p: loss_fn(forward(p, x), y))(params)
        params = sgd_update(params, grads, lr)
        losses.append(loss)
    return params, jnp.stack(losses)
