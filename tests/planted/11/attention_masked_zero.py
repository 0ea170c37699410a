"""attention sets masked scores to 0 instead of -inf, so masked keys keep a weight."""
MUST_FAIL = ["test_attention_causal_mask", "test_attention_large_scores"]
MUST_SAY = {"test_attention_causal_mask": ["set to 0"]}
MUST_PASS = ["test_multi_head_attention"]


def attention(q, k, v, mask=None):
    scores = q @ jnp.swapaxes(k, -1, -2) / jnp.sqrt(q.shape[-1])
    if mask is not None:
        scores = jnp.where(mask, scores, 0.0)
    return jax.nn.softmax(scores, axis=-1) @ v
