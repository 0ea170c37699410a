"""echo_loss putting time first with a reshape instead of swapping the axes: the right shape, the
elements of different sequences mixed."""
MUST_FAIL = ["test_echo_loss"]
MUST_SAY = {"test_echo_loss": ["reshaped", "not transposed"]}


def echo_loss(params, xs, ys):
    cell = params["cell"]
    h0 = jnp.zeros((xs.shape[0], cell["wh"].shape[0]), jnp.float32)
    xs_t = xs.reshape(xs.shape[1], xs.shape[0], xs.shape[2])
    ys_t = ys.reshape(ys.shape[1], ys.shape[0], ys.shape[2])
    _, hs = run_rnn(elman_cell, cell, h0, xs_t)
    pred = hs @ params["out"]["w"] + params["out"]["b"]
    return jnp.mean((pred - ys_t) ** 2)
