"""Counts with NumPy's counts[labels] += 1, which adds once per distinct label and raises on
out-of-range labels."""
import numpy as np

MUST_FAIL = ["test_count_labels", "test_count_labels_drops_out_of_range"]
MUST_SAY = {"test_count_labels": ["counted once"]}


def count_labels(labels, n):
    counts = np.zeros(n, np.int32)
    labels = np.asarray(labels)
    counts[labels[labels < n]] += 1
    return jnp.asarray(counts)
