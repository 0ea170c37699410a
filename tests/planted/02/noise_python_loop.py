"""noise_for_ids with a Python loop over the ids instead of vmap: the right numbers, but the program
grows with the number of ids."""
MUST_FAIL = ["test_noise_for_ids_uses_vmap"]


def noise_for_ids(key, ids):
    return jnp.stack([jax.random.normal(jax.random.fold_in(key, ids[j])) for j in range(ids.shape[0])])
