"""Edits the caller's array in place with NumPy: right answer, but the input is changed."""
import numpy as np

MUST_FAIL = ["test_set_first"]
MUST_SAY = {"test_set_first": ["wrote into the caller's array"]}


def set_first(x, value):
    x = np.asarray(x)
    if x.flags.writeable:
        x[0] = value
        return x
    return jnp.asarray(x).at[0].set(value)
