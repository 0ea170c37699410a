"""masked_loss divides the masked sum by the batch size: the padded rows still count, as zeros."""
MUST_FAIL = ["test_masked_loss_ignores_the_padding"]
MUST_SAY = {"test_masked_loss_ignores_the_padding": ["the padded rows were counted"]}


def masked_loss(params, batch, mask):
    losses = optax.softmax_cross_entropy_with_integer_labels(logits(params, batch["x"]), batch["y"])
    return jnp.sum(jnp.where(mask, losses, 0.0)) / mask.shape[0]
