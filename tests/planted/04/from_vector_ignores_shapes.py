"""Cuts the vector into the right pieces but forgets to reshape them."""
MUST_FAIL = ["test_from_vector"]
MUST_SAY = {"test_from_vector": ["flat"]}


def from_vector(vector, like):
    leaves, treedef = jax.tree.flatten(like)
    pieces, start = [], 0
    for leaf in leaves:
        pieces.append(vector[start:start + leaf.size])
        start += leaf.size
    return jax.tree.unflatten(treedef, pieces)
