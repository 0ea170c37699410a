"""linen_train_step applies the gradients but drops the new BatchNorm statistics apply gave back: the
running statistics never move."""
MUST_FAIL = ["test_linen_train_step_values"]
MUST_SAY = {"test_linen_train_step_values": ["keep the statistics apply gave back"]}


def linen_train_step(state, x, y, dropout_key):
    def loss_fn(params):
        logits, updates = state.apply_fn({"params": params, "batch_stats": state.batch_stats}, x, train=True,
                                         rngs={"dropout": dropout_key}, mutable=["batch_stats"])
        return cross_entropy(logits, y), updates

    (loss, _), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params)
    return state.apply_gradients(grads=grads), loss
