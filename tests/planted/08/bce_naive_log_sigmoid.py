"""Binary cross-entropy written literally with log(sigmoid(z)) and log(1 - sigmoid(z)): it overflows to
inf for logits of a few hundred."""
MUST_FAIL = ["test_binary_cross_entropy_large_logits"]
MUST_SAY = {"test_binary_cross_entropy_large_logits": ["overflow", "log1p"]}


def binary_cross_entropy(logits, labels):
    p = jax.nn.sigmoid(logits)
    return jnp.mean(-(labels * jnp.log(p) + (1 - labels) * jnp.log(1 - p)))
