"""eval_step forgets model.eval(): it evaluates in whatever mode the model is in, so after training
dropout is still on and BatchNorm keeps updating its running averages."""
MUST_FAIL = ["test_eval_step_is_deterministic"]
MUST_SAY = {"test_eval_step_is_deterministic": ["running averages changed", "training mode"]}


@nnx.jit
def eval_step(model, x, y):
    logits = model(x)
    loss = optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
    return loss, jnp.mean(jnp.argmax(logits, axis=-1) == y)
