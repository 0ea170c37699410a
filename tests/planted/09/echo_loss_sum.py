"""echo_loss summing the squared errors instead of averaging them."""
MUST_FAIL = ["test_echo_loss"]
MUST_SAY = {"test_echo_loss": ["sum"]}


def echo_loss(params, xs, ys):
    cell = params["cell"]
    h0 = jnp.zeros((xs.shape[0], cell["wh"].shape[0]), jnp.float32)
    _, hs = run_rnn(elman_cell, cell, h0, jnp.swapaxes(xs, 0, 1))
    pred = hs @ params["out"]["w"] + params["out"]["b"]
    return jnp.sum((pred - jnp.swapaxes(ys, 0, 1)) ** 2)
