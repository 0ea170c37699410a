"""Makes the update but returns the input instead of the updated copy."""
MUST_FAIL = ["test_add_at", "test_scale_row"]
MUST_SAY = {"test_add_at": ["came back unchanged"], "test_scale_row": ["came back unchanged"]}


def add_at(x, i, v):
    jnp.asarray(x).at[i].add(v)
    return x


def scale_row(m, row, factor):
    jnp.asarray(m).at[row].mul(factor)
    return m
