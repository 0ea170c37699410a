"""one_normal_per_key splits a new key off before each draw: one key per number, but another scheme than
split-once-into-n."""
MUST_FAIL = ["test_one_normal_per_key"]
MUST_SAY = {"test_one_normal_per_key": ["chain of splits"]}


def one_normal_per_key(key, n):
    out = []
    for _ in range(n):
        key, sub = jax.random.split(key)
        out.append(jax.random.normal(sub))
    return jnp.stack(out)
