"""train_step's loss function rebuilds the model from the `params` split off outside it, not from the
argument it is differentiated with respect to: every gradient is zero, so Adam's steps leave the model
as it was."""
MUST_FAIL = ["test_train_step_updates_model", "test_loss_falls", "test_test_accuracy"]
MUST_SAY = {"test_train_step_updates_model": ["gradients it got were all zero"],
            "test_loss_falls": ["gradients it got were all zero"]}


@nnx.jit
def train_step(model, optimizer, x, y):
    model.train()
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)

    def loss_fn(p, r):
        logits = nnx.merge(graphdef, params, r)(x)
        return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

    loss, grads = nnx.value_and_grad(loss_fn)(params, rest)
    optimizer.update(model, grads)
    return loss
