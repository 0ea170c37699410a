"""Makes keys with the legacy jax.random.PRNGKey: raw uint32 arrays, not typed keys (and unchecked for reuse)."""
MUST_FAIL = ["test_make_keys_gives_typed_keys"]
MUST_SAY = {"test_make_keys_gives_typed_keys": ["legacy raw key"]}


def make_keys(seed, n):
    return jax.random.split(jax.random.PRNGKey(seed), n)
