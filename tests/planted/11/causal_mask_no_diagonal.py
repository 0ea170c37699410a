"""causal_mask leaves out the diagonal (j < i, not j <= i): position 0 may attend to nothing. A wrong
mask costs causal_mask's test alone: the Transformer's tests run on the docstring's causal_mask, and
never tell the learner to hand over a mask that their Transformer did hand over."""
MUST_FAIL = ["test_causal_mask"]
MUST_SAY = {"test_causal_mask": ["diagonal"]}
MUST_PASS = ["test_transformer_causal", "test_transformer_forward_fixed_weights", "test_transformer_shape"]


def causal_mask(n):
    return jnp.tril(jnp.ones((n, n), dtype=bool), k=-1)
