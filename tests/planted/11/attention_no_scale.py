"""attention forgets the 1 / sqrt(d) scale on the scores. (With scores in the thousands the softmax is one-hot
either way, so the large-scores test, which checks stability, rightly passes.)"""
MUST_FAIL = ["test_attention", "test_attention_causal_mask"]
MUST_SAY = {"test_attention": ["not scaled"]}


def attention(q, k, v, mask=None):
    scores = q @ jnp.swapaxes(k, -1, -2)
    if mask is not None:
        scores = jnp.where(mask, scores, -jnp.inf)
    return jax.nn.softmax(scores, axis=-1) @ v
