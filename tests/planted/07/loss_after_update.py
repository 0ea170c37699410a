"""train_step returns the loss of the updated model, computed after optimizer.update, instead of
the loss its gradients came from."""
MUST_FAIL = ["test_train_step_updates_model"]


@nnx.jit
def train_step(model, optimizer, x, y):
    model.train()
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)

    def loss_fn(params, rest):
        logits = nnx.merge(graphdef, params, rest)(x)
        return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

    grads = nnx.grad(loss_fn)(params, rest)
    optimizer.update(model, grads)
    return optax.softmax_cross_entropy_with_integer_labels(model(x), y).mean()
