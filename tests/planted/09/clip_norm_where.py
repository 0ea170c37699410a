"""clip_norm choosing element by element with jnp.where: the right values, both branches computed, no cond."""
MUST_FAIL = ["test_clip_norm_chooses_with_cond"]
MUST_SAY = {"test_clip_norm_chooses_with_cond": ["no cond", "jnp.where"]}


def clip_norm(g, max_norm):
    norm = jnp.sqrt(jnp.sum(g ** 2))
    return jnp.where(norm > max_norm, g * (max_norm / norm), g)
