"""clip_norm whose branches are the wrong way round: a small g is scaled up to max_norm, a large one kept."""
MUST_FAIL = ["test_clip_norm"]
MUST_SAY = {"test_clip_norm": ["came back unchanged"]}


def clip_norm(g, max_norm):
    norm = jnp.sqrt(jnp.sum(g ** 2))
    return lax.cond(norm > max_norm, lambda v: v, lambda v: v * (max_norm / norm), g)
