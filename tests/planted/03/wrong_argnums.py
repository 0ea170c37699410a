"""Counts argnums from 1: argnums=(1, 2) differentiates with respect to b and x, not w and b."""
MUST_FAIL = ["test_loss_preds_and_grads"]
MUST_SAY = {"test_loss_preds_and_grads": ["with respect to b and x", "argnums"]}


def loss_preds_and_grads(w, b, x, y):
    def loss_fn(w, b, x, y):
        preds = predict(w, b, x)
        return jnp.mean((preds - y) ** 2), preds

    return jax.value_and_grad(loss_fn, argnums=(1, 2), has_aux=True)(w, b, x, y)
