"""Splits the key by position in the batch instead of folding in the id: an example's noise depends on
where it sits in the batch."""
MUST_FAIL = ["test_noise_for_ids", "test_noise_for_ids_follows_the_id"]
MUST_SAY = {"test_noise_for_ids_follows_the_id": ["does not depend on the ids"]}


def noise_for_ids(key, ids):
    return jax.vmap(jax.random.normal)(jax.random.split(key, ids.shape[0]))
