"""Only the params are carried from step to step: every step starts from the first opt_state."""
MUST_FAIL = ["test_fit_follows_the_step"]
MUST_SAY = {"test_fit_follows_the_step": ["new opt_state"]}


def fit(step, params, opt_state, x, y, steps):
    @jax.jit
    def run(params, x, y):
        def body(p, _):
            p, state, loss = step(p, opt_state, x, y)
            return p, (loss, state)

        params, (losses, states) = jax.lax.scan(body, params, length=steps)
        return params, jax.tree.map(lambda s: s[-1], states), losses

    return run(params, x, y)
