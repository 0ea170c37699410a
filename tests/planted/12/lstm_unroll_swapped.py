"""lstm_unroll returns lax.scan's pair as it comes, (carry, hs), where the docstring asks for (hs, carry)."""
MUST_FAIL = ["test_lstm_unroll"]
MUST_SAY = {"test_lstm_unroll": ["the other way round"]}
MUST_PASS = ["test_lstm_unroll_scans"]


def lstm_unroll(params, xs, carry):
    return jax.lax.scan(lambda carry, x: lstm_cell(params, carry, x), carry, xs)
