"""masked_loss divides by the number of real rows without the docstring's "at least 1": a batch of padding
alone divides 0 by 0, and its loss is NaN (the real-row cases all pass)."""
MUST_FAIL = ["test_masked_loss_ignores_the_padding"]
MUST_SAY = {"test_masked_loss_ignores_the_padding": ["0 / 0 is NaN", "jnp.maximum(mask.sum(), 1)"]}


def masked_loss(params, batch, mask):
    losses = optax.softmax_cross_entropy_with_integer_labels(logits(params, batch["x"]), batch["y"])
    return jnp.sum(jnp.where(mask, losses, 0.0)) / jnp.sum(mask)
