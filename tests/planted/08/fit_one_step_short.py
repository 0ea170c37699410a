"""range(steps - 1): the run stops one step early (and its losses are one short)."""
MUST_FAIL = ["test_fit_follows_the_step", "test_fit_returns_the_losses"]


def fit(step, params, opt_state, x, y, steps):
    losses = []
    for _ in range(steps - 1):
        params, opt_state, loss = step(params, opt_state, x, y)
        losses.append(loss)
    return params, opt_state, jnp.stack(losses)
