"""Computes the loss for its value, then calls jax.grad for the gradients: the loss runs twice."""
MUST_FAIL = ["test_loss_preds_and_grads_in_one_pass"]
MUST_SAY = {"test_loss_preds_and_grads_in_one_pass": ["loss was computed 2 times", "once for the value"]}


def loss_preds_and_grads(w, b, x, y):
    def loss_fn(w, b):
        return jnp.mean((predict(w, b, x) - y) ** 2)

    preds = predict(w, b, x)
    return (loss_fn(w, b), preds), jax.grad(loss_fn, argnums=(0, 1))(w, b)
