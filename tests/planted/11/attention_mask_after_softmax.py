"""attention multiplies the softmax weights by the mask, so the allowed weights no longer sum to 1."""
MUST_FAIL = ["test_attention_causal_mask", "test_attention_large_scores"]
MUST_SAY = {"test_attention_causal_mask": ["after the softmax"]}


def attention(q, k, v, mask=None):
    scores = q @ jnp.swapaxes(k, -1, -2) / jnp.sqrt(q.shape[-1])
    weights = jax.nn.softmax(scores, axis=-1)
    if mask is not None:
        weights = weights * mask
    return weights @ v
