"""lstm_unroll scans over xs[:-1]: one time step short, the last output left at zero and the carry one
step behind."""
MUST_FAIL = ["test_lstm_unroll"]
MUST_SAY = {"test_lstm_unroll": ["one step short"]}
MUST_NOT_SAY = {"test_lstm_unroll": ["the other way round"]}


def lstm_unroll(params, xs, carry):
    carry, hs = jax.lax.scan(lambda carry, x: lstm_cell(params, carry, x), carry, xs[:-1])
    return jnp.concatenate([hs, jnp.zeros_like(hs[:1])]), carry
