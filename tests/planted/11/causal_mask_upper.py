"""causal_mask lets each position attend to itself and the positions after it (the upper triangle)."""
MUST_FAIL = ["test_causal_mask"]
MUST_SAY = {"test_causal_mask": ["after"]}
MUST_PASS = ["test_transformer_causal"]


def causal_mask(n):
    return jnp.triu(jnp.ones((n, n), dtype=bool))
