"""run_rnn stopping the gradient at the carry: right values, no backpropagation through time."""
MUST_FAIL = ["test_run_rnn_gradients_through_time"]
MUST_SAY = {"test_run_rnn_gradients_through_time": ["respect to h0 is zero", "carry"]}


def run_rnn(cell, params, h0, xs):
    def step(h, x):
        h = cell(params, lax.stop_gradient(h), x)
        return h, h

    return lax.scan(step, h0, xs)
