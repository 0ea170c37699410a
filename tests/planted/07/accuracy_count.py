"""eval_step returns the number of images right instead of the fraction."""
MUST_FAIL = ["test_eval_step_metrics"]
MUST_SAY = {"test_eval_step_metrics": ["the number right, not the fraction"]}


@nnx.jit
def eval_step(model, x, y):
    model.eval()
    logits = model(x)
    loss = optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
    return loss, jnp.sum(jnp.argmax(logits, axis=-1) == y).astype(jnp.float32)
