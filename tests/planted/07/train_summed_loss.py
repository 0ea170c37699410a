"""train_step sums the cross-entropy over the batch instead of taking its mean (and returns that sum)."""
MUST_FAIL = ["test_train_step_updates_model"]
MUST_SAY = {"test_train_step_updates_model": ["sum over the batch"]}


@nnx.jit
def train_step(model, optimizer, x, y):
    model.train()
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)

    def loss_fn(params, rest):
        logits = nnx.merge(graphdef, params, rest)(x)
        return optax.softmax_cross_entropy_with_integer_labels(logits, y).sum()

    loss, grads = nnx.value_and_grad(loss_fn)(params, rest)
    optimizer.update(model, grads)
    return loss
