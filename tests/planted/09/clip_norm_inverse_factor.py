"""clip_norm scaling by norm / max_norm (the inverse factor) in the cond's scaling branch."""
MUST_FAIL = ["test_clip_norm"]
MUST_SAY = {"test_clip_norm": ["inverse factor"]}


def clip_norm(g, max_norm):
    norm = jnp.sqrt(jnp.sum(g ** 2))
    return lax.cond(norm > max_norm, lambda v: v * (norm / max_norm), lambda v: v, g)
