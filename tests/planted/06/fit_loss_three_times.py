"""fit compiled as one scan whose body evaluates the loss three times (for its value, inside jax.grad,
and after the update): the run is stopped at the third trace, but the steps ARE compiled, so the
message must say what it saw (the same count for 1 step as for 3), not "the steps are not compiled"."""
MUST_FAIL = ["test_fit_traces_the_loss_at_most_twice", "test_fit_sine"]
MUST_SAY = {"test_fit_traces_the_loss_at_most_twice": ["compiled once", "more than twice"]}
MUST_NOT_SAY = {"test_fit_traces_the_loss_at_most_twice": ["not compiled"]}


def fit(params, x, y, steps, lr, loss_fn):
    def loss_of(p):
        return loss_fn(forward(p, x), y)

    @jax.jit
    def run(params, lr):
        def body(p, _):
            loss = loss_of(p)
            new = sgd_update(p, jax.grad(loss_of)(p), lr)
            after = loss_of(new)  # noqa: F841 (to watch the loss fall; never used)
            return new, loss

        return jax.lax.scan(body, params, length=steps)

    return run(params, lr)
