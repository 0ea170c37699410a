"""Fills only indexes greater than len(x): the index len(x) itself, one past the last, is read and
clamped to the last element."""
MUST_FAIL = ["test_lookup_or_fills_past_the_end"]
MUST_SAY = {"test_lookup_or_fills_past_the_end": ["index 6 is past the end", "clamps"]}


def lookup_or(x, idx, fill):
    x, idx = jnp.asarray(x), jnp.asarray(idx)
    return jnp.where(idx > x.shape[0], fill, x[idx])
