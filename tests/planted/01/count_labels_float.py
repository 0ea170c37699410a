"""Counts into float32 zeros: the right numbers, but the counts are float32, not the int32 asked for."""
MUST_FAIL = ["test_count_labels"]
MUST_SAY = {"test_count_labels": ["came back as float32", "int32"]}


def count_labels(labels, n):
    labels = jnp.asarray(labels)
    valid = (labels >= 0) & (labels < n)
    return jnp.zeros(n).at[labels].add(valid.astype(jnp.float32), mode="drop")
