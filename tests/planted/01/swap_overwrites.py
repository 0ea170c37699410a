"""Swaps by setting i first and then reading it back for j, so both hold the same value."""
MUST_FAIL = ["test_swap"]


def swap(x, i, j):
    x = jnp.asarray(x).at[i].set(x[j])
    return x.at[j].set(x[i])
