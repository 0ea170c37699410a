"""make_train_step compiles the step without donating the state: right values, two states alive."""
MUST_FAIL = ["test_train_step_donates_the_state"]
MUST_SAY = {"test_train_step_donates_the_state": ["donate_argnums=0"]}
MUST_PASS = ["test_train_step_values"]


def make_train_step(tx):
    def step(state, batch, mask):
        loss, grads = jax.value_and_grad(masked_loss)(state["params"], batch, mask)
        updates, opt_state = tx.update(grads, state["opt_state"], state["params"])
        return {"params": optax.apply_updates(state["params"], updates), "opt_state": opt_state,
                "step": state["step"] + 1}, loss

    return jax.jit(step)
