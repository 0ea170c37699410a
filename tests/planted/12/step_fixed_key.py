"""linen_train_step ignores its dropout_key and hands dropout a fixed key, jax.random.key(0): every step
drops the same units."""
MUST_FAIL = ["test_linen_train_step_mutates_only_batch_stats_and_uses_the_key"]
MUST_SAY = {"test_linen_train_step_mutates_only_batch_stats_and_uses_the_key": ["only from it"]}


def linen_train_step(state, x, y, dropout_key):
    def loss_fn(params):
        logits, updates = state.apply_fn({"params": params, "batch_stats": state.batch_stats}, x, train=True,
                                         rngs={"dropout": jax.random.key(0)}, mutable=["batch_stats"])
        return cross_entropy(logits, y), updates

    (loss, updates), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params)
    state = state.apply_gradients(grads=grads).replace(batch_stats=updates["batch_stats"])
    return state, loss
