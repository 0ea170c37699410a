"""Swaps by setting i first and then reading it back for j, so both hold the same value."""
MUST_FAIL = ["test_swap"]
MUST_SAY = {"test_swap": ["both hold x[4]'s old value", "already been overwritten"]}


def swap(x, i, j):
    x = jnp.asarray(x).at[i].set(x[j])
    return x.at[j].set(x[i])
