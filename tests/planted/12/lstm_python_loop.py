"""lstm_unroll runs the cell in a Python for loop over time: right values, but the traced program grows
with the length of the sequence."""
MUST_FAIL = ["test_lstm_unroll_scans"]
MUST_SAY = {"test_lstm_unroll_scans": ["Python loop over time"]}
MUST_PASS = ["test_lstm_unroll"]


def lstm_unroll(params, xs, carry):
    hs = []
    for t in range(xs.shape[0]):
        carry, h = lstm_cell(params, carry, xs[t])
        hs.append(h)
    return jnp.stack(hs), carry
