"""linen_train_step calls apply with mutable=True: every collection, the params included, is open to
change in the forward pass, where only BatchNorm's statistics should be. The values come out right."""
MUST_FAIL = ["test_linen_train_step_mutates_only_batch_stats_and_uses_the_key"]
MUST_SAY = {"test_linen_train_step_mutates_only_batch_stats_and_uses_the_key": ["mark exactly that collection mutable"]}
MUST_PASS = ["test_linen_train_step_values"]


def linen_train_step(state, x, y, dropout_key):
    def loss_fn(params):
        logits, updates = state.apply_fn({"params": params, "batch_stats": state.batch_stats}, x, train=True,
                                         rngs={"dropout": dropout_key}, mutable=True)
        return cross_entropy(logits, y), updates

    (loss, updates), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params)
    state = state.apply_gradients(grads=grads).replace(batch_stats=updates["batch_stats"])
    return state, loss
