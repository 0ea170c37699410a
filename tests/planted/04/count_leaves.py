"""Counts the leaves (arrays) instead of the scalars inside them."""
MUST_FAIL = ["test_count_params"]
MUST_SAY = {"test_count_params": ["number of leaves"]}


def count_params(params):
    return len(jax.tree.leaves(params))
