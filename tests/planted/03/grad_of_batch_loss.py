"""Differentiates the batch's total loss: one gradient for the whole batch, not one per example."""
MUST_FAIL = ["test_per_example_grads"]
MUST_SAY = {"test_per_example_grads": ["one gradient for the whole batch"]}


def per_example_grads(w, b, xs, ys):
    def batch_loss(w, b):
        return jnp.sum(jax.vmap(example_loss, in_axes=(None, None, 0, 0))(w, b, xs, ys))

    return jax.grad(batch_loss, argnums=(0, 1))(w, b)
