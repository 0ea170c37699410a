"""Clips the labels into 0..n and lets the scatter drop index n: labels of n or more are dropped, as
they should be, but negative labels are counted in class 0."""
MUST_FAIL = ["test_count_labels_drops_out_of_range"]
MUST_SAY = {"test_count_labels_drops_out_of_range": ["below 0 were counted in class 0"]}


def count_labels(labels, n):
    return jnp.zeros(n, jnp.int32).at[jnp.clip(jnp.asarray(labels), 0, n)].add(1, mode="drop")
