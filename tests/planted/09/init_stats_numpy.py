"""init_stats giving a Python int count and NumPy float64 zeros instead of int32 / float32 arrays."""
MUST_FAIL = ["test_init_stats"]
MUST_SAY = {"test_init_stats": ["arrays"]}


def init_stats(d):
    import numpy as np
    return {"count": 0, "mean": np.zeros(d), "m2": np.zeros(d)}
