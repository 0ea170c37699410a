"""Leaves argnums at its default: only the gradient with respect to w, no db."""
MUST_FAIL = ["test_loss_preds_and_grads"]
MUST_SAY = {"test_loss_preds_and_grads": ["with respect to one argument only"]}


def loss_preds_and_grads(w, b, x, y):
    def loss_fn(w, b):
        preds = predict(w, b, x)
        return jnp.mean((preds - y) ** 2), preds

    return jax.value_and_grad(loss_fn, has_aux=True)(w, b)
