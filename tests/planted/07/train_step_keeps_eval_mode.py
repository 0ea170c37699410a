"""train_step forgets to switch the model to training mode: a model handed in evaluation mode is
stepped with dropout off and BatchNorm on its running averages, which it then never updates."""
MUST_FAIL = ["test_train_step_sets_training_mode"]
MUST_SAY = {"test_train_step_sets_training_mode": ["evaluation-mode loss", "the mode it was handed"]}


@nnx.jit
def train_step(model, optimizer, x, y):
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)

    def loss_fn(params, rest):
        logits = nnx.merge(graphdef, params, rest)(x)
        return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

    loss, grads = nnx.value_and_grad(loss_fn)(params, rest)
    optimizer.update(model, grads)
    return loss
