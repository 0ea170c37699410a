"""run_rnn with a Python loop over time: right values and gradients, one copy of the cell per step."""
MUST_FAIL = ["test_run_rnn_is_one_scan"]
MUST_SAY = {"test_run_rnn_is_one_scan": ["no scan", "python loop"]}


def run_rnn(cell, params, h0, xs):
    h, hs = h0, []
    for t in range(xs.shape[0]):
        h = cell(params, h, xs[t])
        hs.append(h)
    return h, jnp.stack(hs)
