"""eval_step takes the argmax over the batch axis (axis 0) instead of the class axis."""
MUST_FAIL = ["test_eval_step_metrics"]


@nnx.jit
def eval_step(model, x, y):
    model.eval()
    logits = model(x)
    loss = optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
    return loss, jnp.mean(jnp.argmax(logits, axis=0) == y[:, None])
