"""train_step computes the gradients but never calls optimizer.update, so the model never learns."""
MUST_FAIL = ["test_train_step_updates_model", "test_loss_falls", "test_test_accuracy"]
MUST_SAY = {"test_train_step_updates_model": ["step counter is still 0"],
            "test_loss_falls": ["parameters never changed", "step counter is still 0"],
            "test_test_accuracy": ["parameters never changed"]}


@nnx.jit
def train_step(model, optimizer, x, y):
    model.train()
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)

    def loss_fn(params, rest):
        logits = nnx.merge(graphdef, params, rest)(x)
        return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

    loss, grads = nnx.value_and_grad(loss_fn)(params, rest)
    return loss
