"""Clamps the labels into 0..n-1 with jnp.clip before counting: out-of-range labels land in the end
classes instead of being left out."""
MUST_FAIL = ["test_count_labels_drops_out_of_range"]
MUST_SAY = {"test_count_labels_drops_out_of_range": ["nearest class", "clamped"]}


def count_labels(labels, n):
    return jnp.zeros(n, jnp.int32).at[jnp.clip(jnp.asarray(labels), 0, n - 1)].add(1)
