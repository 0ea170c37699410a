"""Keeps the valid labels with a boolean mask before counting: right outside jit, but under jit the
mask's number of True entries (the result's size) is unknown."""
MUST_FAIL = ["test_count_labels"]
MUST_SAY = {"test_count_labels": ["NonConcreteBooleanIndexError", "boolean mask"]}


def count_labels(labels, n):
    labels = jnp.asarray(labels)
    labels = labels[(labels >= 0) & (labels < n)]
    return jnp.zeros(n, jnp.int32).at[labels].add(1)
