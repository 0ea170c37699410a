"""Leaves out has_aux: returns (loss, (dw, db)) with no predictions in it."""
MUST_FAIL = ["test_loss_preds_and_grads"]
MUST_SAY = {"test_loss_preds_and_grads": ["predictions were not handed back"]}


def loss_preds_and_grads(w, b, x, y):
    def loss_fn(w, b):
        return jnp.mean((predict(w, b, x) - y) ** 2)

    return jax.value_and_grad(loss_fn, argnums=(0, 1))(w, b)
