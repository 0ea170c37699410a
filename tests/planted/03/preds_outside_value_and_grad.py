"""value_and_grad without has_aux, then the predictions computed again outside: two forward passes."""
MUST_FAIL = ["test_loss_preds_and_grads_in_one_pass"]
MUST_SAY = {"test_loss_preds_and_grads_in_one_pass": ["predictions were computed 2 times", "has_aux"]}


def loss_preds_and_grads(w, b, x, y):
    def loss_fn(w, b):
        return jnp.mean((predict(w, b, x) - y) ** 2)

    loss, grads = jax.value_and_grad(loss_fn, argnums=(0, 1))(w, b)
    return (loss, predict(w, b, x)), grads
