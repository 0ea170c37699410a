"""attention takes each query's max over ALL its keys, masked ones included, and drops the masked keys
after exp(): where a masked key scores far above the allowed ones, the allowed weights underflow to 0
and the row comes out 0 / 0 = NaN."""
MUST_FAIL = ["test_attention_large_scores"]
MUST_SAY = {"test_attention_large_scores": ["masked ones included", "underflows"]}


def attention(q, k, v, mask=None):
    scores = q @ jnp.swapaxes(k, -1, -2) / jnp.sqrt(q.shape[-1])
    weights = jnp.exp(scores - jnp.max(scores, axis=-1, keepdims=True))
    if mask is not None:
        weights = jnp.where(mask, weights, 0.0)
    return weights / jnp.sum(weights, axis=-1, keepdims=True) @ v
