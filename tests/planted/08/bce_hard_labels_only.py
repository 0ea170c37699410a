"""A choice between log(p) and log(1 - p) by thresholding the label: wrong for soft labels such as 0.3."""
MUST_FAIL = ["test_binary_cross_entropy"]
MUST_SAY = {"test_binary_cross_entropy": ["soft labels"]}


def binary_cross_entropy(logits, labels):
    return jnp.mean(jnp.where(labels > 0.5, jax.nn.softplus(-logits), jax.nn.softplus(logits)))
