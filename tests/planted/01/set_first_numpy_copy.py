"""Copies the input into a NumPy array, assigns into the copy and returns it: right values, input left
alone, but a NumPy array, which jax.jit can't make (NumPy can't take a traced array)."""
import numpy as np

MUST_FAIL = ["test_set_first"]
MUST_SAY = {"test_set_first": ["TracerArrayConversionError", "NumPy"]}


def set_first(x, value):
    out = np.array(x)
    out[0] = value
    return out
