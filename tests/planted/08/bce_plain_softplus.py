"""Binary cross-entropy as log(1 + exp(z)) - z * y: the right formula, but exp(z) overflows for logits of
a hundred or more. No sigmoid is involved, so the hint must name the exp, not log(sigmoid)."""
MUST_FAIL = ["test_binary_cross_entropy_large_logits"]
MUST_SAY = {"test_binary_cross_entropy_large_logits": ["log(1 + exp(z))", "log1p"]}
MUST_NOT_SAY = {"test_binary_cross_entropy_large_logits": ["sigmoid(200.)"]}


def binary_cross_entropy(logits, labels):
    return jnp.mean(jnp.log(1 + jnp.exp(logits)) - logits * labels)
