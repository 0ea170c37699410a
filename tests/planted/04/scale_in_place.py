"""Scales the caller's NumPy leaves in place and hands the same dict back."""
MUST_FAIL = ["test_scale"]
MUST_SAY = {"test_scale": ["changed in place"]}


def scale(params, factor):
    for leaf in jax.tree.leaves(params):
        leaf *= factor
    return params
