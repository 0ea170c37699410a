"""Sums the squared errors where the mean was asked: the loss and both gradients are n times too big."""
MUST_FAIL = ["test_loss_preds_and_grads"]
MUST_SAY = {"test_loss_preds_and_grads": ["summed over the 8 examples"]}


def loss_preds_and_grads(w, b, x, y):
    def loss_fn(w, b):
        preds = predict(w, b, x)
        return jnp.sum((preds - y) ** 2), preds

    return jax.value_and_grad(loss_fn, argnums=(0, 1), has_aux=True)(w, b)
