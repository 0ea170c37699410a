"""masked_loss turns the mask into floats and multiplies the losses by it: a padded row whose loss is NaN
makes the whole loss NaN, since NaN * 0.0 is NaN. (Multiplying by the bool mask itself would not: JAX
turns a product with a bool into a select.)"""
MUST_FAIL = ["test_masked_loss_ignores_the_padding"]
MUST_SAY = {"test_masked_loss_ignores_the_padding": ["NaN * 0 is NaN"]}


def masked_loss(params, batch, mask):
    losses = optax.softmax_cross_entropy_with_integer_labels(logits(params, batch["x"]), batch["y"])
    weights = mask.astype(jnp.float32)
    return jnp.sum(losses * weights) / jnp.maximum(jnp.sum(weights), 1.0)
