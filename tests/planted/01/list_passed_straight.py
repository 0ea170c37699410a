"""Hands the Python list straight to jnp, which refuses lists."""
MUST_FAIL = ["test_mean_of_list"]


def mean_of_list(values):
    return jnp.mean(values)
