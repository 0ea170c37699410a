"""echo_loss scanning over the batch axis: xs is batch first and was not swapped to time first."""
MUST_FAIL = ["test_echo_loss"]
MUST_SAY = {"test_echo_loss": ["swap the first two axes"]}


def echo_loss(params, xs, ys):
    cell = params["cell"]
    h0 = jnp.zeros((xs.shape[0], cell["wh"].shape[0]), jnp.float32)
    _, hs = run_rnn(elman_cell, cell, h0, xs)
    pred = hs @ params["out"]["w"] + params["out"]["b"]
    return jnp.mean((pred - ys) ** 2)
