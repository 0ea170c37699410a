"""linen_predict runs the model in training mode (train=True, batch_stats mutable, a dropout key):
BatchNorm uses the batch's statistics and dropout drops units."""
MUST_FAIL = ["test_linen_predict"]
MUST_SAY = {"test_linen_predict": ["evaluation mode"]}


def linen_predict(state, x):
    logits, _ = state.apply_fn({"params": state.params, "batch_stats": state.batch_stats}, x, train=True,
                               rngs={"dropout": jax.random.key(0)}, mutable=["batch_stats"])
    return logits
