"""eval_step sums the cross-entropy over the batch instead of taking its mean."""
MUST_FAIL = ["test_eval_step_metrics"]
MUST_SAY = {"test_eval_step_metrics": ["sum over the batch"]}


@nnx.jit
def eval_step(model, x, y):
    model.eval()
    logits = model(x)
    loss = optax.softmax_cross_entropy_with_integer_labels(logits, y).sum()
    return loss, jnp.mean(jnp.argmax(logits, axis=-1) == y)
