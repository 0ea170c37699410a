"""activate with its branches in the wrong order (tanh first)."""
MUST_FAIL = ["test_activate"]
MUST_SAY = {"test_activate": ["kind 0 gave tanh", "order"]}


def activate(x, kind):
    return lax.switch(kind, [jnp.tanh, jax.nn.relu, jax.nn.sigmoid], x)
