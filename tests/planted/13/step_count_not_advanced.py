"""make_train_step's step returns the old step count."""
MUST_FAIL = ["test_train_step_values"]
MUST_SAY = {"test_train_step_values": ["plus 1"]}
MUST_PASS = ["test_train_step_donates_the_state"]


def make_train_step(tx):
    def step(state, batch, mask):
        loss, grads = jax.value_and_grad(masked_loss)(state["params"], batch, mask)
        updates, opt_state = tx.update(grads, state["opt_state"], state["params"])
        return {"params": optax.apply_updates(state["params"], updates), "opt_state": opt_state,
                "step": state["step"]}, loss

    return jax.jit(step, donate_argnums=0)
