"""in_axes=0 for every argument: vmap tries to map over w and b too."""
MUST_FAIL = ["test_per_example_grads", "test_per_example_grads_uses_vmap"]
MUST_SAY = {"test_per_example_grads": ["every example shares"]}


def per_example_grads(w, b, xs, ys):
    return jax.vmap(jax.grad(example_loss, argnums=(0, 1)), in_axes=0)(w, b, xs, ys)
