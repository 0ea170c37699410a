"""Trusts the scatter to drop every out-of-range label: it drops those of n or more, but a negative
label counts from the end first (-1 lands in class n - 1)."""
MUST_FAIL = ["test_count_labels_drops_out_of_range"]
MUST_SAY = {"test_count_labels_drops_out_of_range": ["counted from the end"]}


def count_labels(labels, n):
    return jnp.zeros(n, jnp.int32).at[jnp.asarray(labels)].add(1, mode="drop")
