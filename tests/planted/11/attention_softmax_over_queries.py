"""attention takes the softmax over the queries axis (-2) instead of the keys (-1)."""
MUST_FAIL = ["test_attention", "test_attention_causal_mask", "test_attention_large_scores"]
MUST_SAY = {"test_attention_causal_mask": ["over the queries"]}


def attention(q, k, v, mask=None):
    scores = q @ jnp.swapaxes(k, -1, -2) / jnp.sqrt(q.shape[-1])
    if mask is not None:
        scores = jnp.where(mask, scores, -jnp.inf)
    return jax.nn.softmax(scores, axis=-2) @ v
