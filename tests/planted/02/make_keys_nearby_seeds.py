"""make_keys makes one key per seed seed, seed + 1, ...: typed keys, but not split from one key."""
MUST_FAIL = ["test_make_keys"]
MUST_SAY = {"test_make_keys": ["nearby seeds"]}


def make_keys(seed, n):
    return jax.vmap(jax.random.key)(seed + jnp.arange(n))
