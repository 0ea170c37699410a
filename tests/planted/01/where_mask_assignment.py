"""Assigns through a boolean mask on a NumPy copy and changes the dtype to float."""
import numpy as np

MUST_FAIL = ["test_zero_negatives"]


def zero_negatives(x):
    out = np.array(x, dtype=np.float32)
    out[out < 0] = 0
    return jnp.asarray(out)
