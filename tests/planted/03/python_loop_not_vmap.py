"""A Python loop over the examples instead of jax.vmap: right numbers, a program that grows with the batch."""
MUST_FAIL = ["test_per_example_grads_uses_vmap"]
MUST_SAY = {"test_per_example_grads_uses_vmap": ["program grew with the batch"]}


def per_example_grads(w, b, xs, ys):
    grad_one = jax.grad(example_loss, argnums=(0, 1))
    pairs = [grad_one(w, b, xs[i], ys[i]) for i in range(xs.shape[0])]
    return jnp.stack([p[0] for p in pairs]), jnp.stack([p[1] for p in pairs])
