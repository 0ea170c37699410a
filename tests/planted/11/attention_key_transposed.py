"""attention writes the scores as the formula reads, q @ k.T: for arrays with batch axes .T reverses every
axis of k, not only the last two, so the shapes don't line up. It costs attention's tests alone: the
multi-head tests run on the docstring's attention."""
MUST_FAIL = ["test_attention", "test_attention_causal_mask", "test_attention_large_scores"]
MUST_SAY = {"test_attention": ["all its axes reversed"], "test_attention_causal_mask": ["all its axes reversed"]}
MUST_NOT_SAY = {"test_attention_causal_mask": ["mask broadcasts"]}
MUST_PASS = ["test_multi_head_attention", "test_multi_head_attention_all_heads_at_once", "test_transformer_causal"]


def attention(q, k, v, mask=None):
    scores = q @ k.T / jnp.sqrt(q.shape[-1])
    if mask is not None:
        scores = jnp.where(mask, scores, -jnp.inf)
    return jax.nn.softmax(scores, axis=-1) @ v
