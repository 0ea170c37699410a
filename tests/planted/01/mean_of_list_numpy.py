"""Takes the mean with NumPy: the right number, but a NumPy float64, not a float32 JAX array."""
import numpy as np

MUST_FAIL = ["test_mean_of_list"]
MUST_SAY = {"test_mean_of_list": ["a NumPy value"]}


def mean_of_list(values):
    return np.mean(values)
