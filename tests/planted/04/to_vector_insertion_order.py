"""Joins the leaves in the dicts' insertion order (w before b), not jax.tree.leaves order."""
MUST_FAIL = ["test_to_vector"]
MUST_SAY = {"test_to_vector": ["insertion order"]}


def to_vector(params):
    return jnp.concatenate([jnp.ravel(layer[k]) for layer in params.values() for k in layer])
