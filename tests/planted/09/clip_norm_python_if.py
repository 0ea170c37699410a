"""clip_norm with a Python `if` on the norm: right eagerly, a TracerBoolConversionError under jit."""
MUST_FAIL = ["test_clip_norm", "test_clip_norm_chooses_with_cond"]
MUST_SAY = {"test_clip_norm": ["python `if`", "no values"]}


def clip_norm(g, max_norm):
    norm = jnp.sqrt(jnp.sum(g ** 2))
    if norm > max_norm:
        return g * (max_norm / norm)
    return g
