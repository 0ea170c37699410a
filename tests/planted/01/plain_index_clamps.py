"""Trusts plain indexing past the end: JAX clamps the index and returns the last element."""
MUST_FAIL = ["test_lookup_or_fills_past_the_end"]
MUST_SAY = {"test_lookup_or_fills_past_the_end": ["past the end", "the last element"]}


def lookup_or(x, idx, fill):
    return jnp.asarray(x)[jnp.asarray(idx)]
