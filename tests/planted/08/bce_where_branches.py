"""A stable loss for the value only: jnp.where picks the branch, but the branch not taken still overflows,
and its nan reaches the gradient."""
MUST_FAIL = ["test_binary_cross_entropy_large_logits"]
MUST_SAY = {"test_binary_cross_entropy_large_logits": ["gradient", "jnp.where"]}


def binary_cross_entropy(logits, labels):
    small = jnp.log1p(jnp.exp(logits))  # overflows for large logits, but is only chosen for negative ones
    per = jnp.where(logits > 0, logits + jnp.log1p(jnp.exp(-logits)), small) - logits * labels
    return jnp.mean(per)
