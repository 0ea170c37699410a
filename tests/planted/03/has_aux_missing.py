"""The loss function returns (loss, preds) but value_and_grad is not told has_aux=True: JAX refuses
("Gradient only defined for scalar-output functions")."""
MUST_FAIL = ["test_loss_preds_and_grads", "test_loss_preds_and_grads_in_one_pass"]
MUST_SAY = {"test_loss_preds_and_grads": ["has_aux", "rides along"]}


def loss_preds_and_grads(w, b, x, y):
    def loss_fn(w, b):
        preds = predict(w, b, x)
        return jnp.mean((preds - y) ** 2), preds

    return jax.value_and_grad(loss_fn, argnums=(0, 1))(w, b)
